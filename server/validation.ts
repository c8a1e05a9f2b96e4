// Validation of everything a client sends: WebSocket frames, HTTP bodies and queries. The wire types
// of these are inferred here and re-exported by protocol.ts; the server's answers are typed there.
import { z } from 'zod';
import { CLIENT_ID_PATTERN, FILE_ID_PATTERN, isPrivateRoom, MAX_EMOJI_LENGTH, MAX_FILE_IDS, MAX_ROOM_LENGTH, MAX_ROOM_TITLE_LENGTH, MAX_SEARCH_PAGE_SIZE, MAX_SEARCH_QUERY_LENGTH, MAX_WATCHED_ROOMS, ROOM_PATTERN } from './protocol';

// ---- values ---------------------------------------------------------------------------------

/** A public room's name, or a private room's id (`~` and 20 characters: see PRIVATE_ROOM_PATTERN). */
export const RoomName = z
  .string()
  .min(1, 'a room name is required')
  .max(MAX_ROOM_LENGTH, `a room name has at most ${MAX_ROOM_LENGTH} characters`)
  .refine(
    (room) => ROOM_PATTERN.test(room) || isPrivateRoom(room),
    'a room name uses lowercase letters, digits, "-" and "_", starting with a letter or digit (a private room\'s id is "~" and 20 characters)',
  );

/** A name as typed: the server checks it (server/accounts/names.ts) and answers invalid_name with why. */
const NameInput = z.string().max(1000, 'a name has at most 32 characters');

/** A password as typed: its length is checked by the server (invalid_password); this bounds the body. */
const PasswordInput = z.string().max(4096, 'a password has at most 256 characters');

export const ClientId = z.string().regex(CLIENT_ID_PATTERN, 'clientId is 8 to 64 characters of A-Z a-z 0-9 _ -');

/** A position in a room's log: the last seq the reader has seen (0 = before the first message). */
export const Cursor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A whole number in a query string: "12" is 12; "", "1e3" and "-1" are refused (not read as 0). */
const WHOLE_NUMBER = /^\d{1,16}$/;
const queryNumber = (name: string) => z.string().regex(WHOLE_NUMBER, `${name} is a whole number`).transform(Number);

/** The longest epoch a client may send back (the server's own are shorter). */
const MAX_EPOCH_LENGTH = 64;
const Epoch = z.string().max(MAX_EPOCH_LENGTH);

/**
 * A UTF-16 surrogate standing alone: in a regex with the u flag a pair is one character, so only a lone
 * half matches. JSON carries one ("\ud83d"), but the store keeps UTF-8, which cannot: it would read back as
 * U+FFFD while live readers got the text as sent.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** The text of a message; its length cap is applied by the server from its config. */
export const MessageText = z
  .string()
  .refine((text) => text.trim().length > 0, 'a message cannot be empty')
  .refine((text) => !LONE_SURROGATE.test(text), 'a message is Unicode text: it cannot hold half of a character (a lone UTF-16 surrogate, U+D800 to U+DFFF)');

/** The id of an uploaded file, as POST /api/rooms/:room/files answered it. */
export const FileId = z.string().regex(FILE_ID_PATTERN, 'a file id is the 22 characters the upload answered with');

/** The files a send carries; MAX_FILES_PER_MESSAGE (config) is checked by the server. */
const FileIds = z
  .array(FileId)
  .min(1, 'files lists at least one file id (or leave it out)')
  .max(MAX_FILE_IDS, `a message has at most ${MAX_FILE_IDS} files`)
  .refine((ids) => new Set(ids).size === ids.length, 'files names each file once');

/** A send's text, checked for what it is (not whether it is blank: a message of files alone has none). */
const SendText = z.string().refine((text) => !LONE_SURROGATE.test(text), 'a message is Unicode text: it cannot hold half of a character (a lone UTF-16 surrogate, U+D800 to U+DFFF)');

/** The seq of an earlier message in the same room (what a reply or a change names). */
const TargetSeq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * A change to an earlier message, sent like a message (same frame, same POST, same rules, same clientId
 * dedupe). The server checks the rest (the target exists and is a message; who may; the emoji is one emoji).
 */
export const ChangeRequest = z.discriminatedUnion('kind', [
  /** The new text is the send's `text`. */
  z.strictObject({ kind: z.literal('edit'), target: TargetSeq }),
  /** By its author; or by a moderator, which shows as "removed by a moderator". */
  z.strictObject({ kind: z.literal('delete'), target: TargetSeq }),
  /** Sets the sender's reaction with `emoji` on (true) or off (false): sending it twice is the same as once. */
  z.strictObject({ kind: z.literal('reaction'), target: TargetSeq, emoji: z.string().min(1).max(MAX_EMOJI_LENGTH, 'an emoji is one emoji'), on: z.boolean() }),
]);
export type ChangeRequest = z.infer<typeof ChangeRequest>;

interface SendShape {
  text?: string | undefined;
  files?: readonly string[] | undefined;
  replyTo?: number | undefined;
  change?: ChangeRequest | undefined;
}

const isBlank = (text: string | undefined) => text === undefined || text.trim().length === 0;

/**
 * What a send holds, by what it is: a new message has text, files or both (a reply too); an edit has its new
 * text and nothing else; a delete or a reaction has nothing but the change.
 */
function checkSendShape(send: SendShape, context: z.RefinementCtx): void {
  const kind = send.change?.kind;
  const problem =
    kind === 'delete' || kind === 'reaction'
      ? send.text !== undefined || send.files !== undefined || send.replyTo !== undefined
        ? `a ${kind} has no text, files or replyTo`
        : undefined
      : kind === 'edit'
        ? isBlank(send.text)
          ? 'an edit holds the new text, and it cannot be empty'
          : send.files !== undefined || send.replyTo !== undefined
            ? 'an edit changes the text only: no files or replyTo'
            : undefined
        : send.files === undefined && isBlank(send.text)
          ? 'a message cannot be empty'
          : undefined;
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem, path: ['text'] });
}

// ---- WebSocket: client -> server --------------------------------------------------------------

export const SubscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  room: RoomName,
  /** Replay what follows this seq, then stream live. Omitted: the latest page, then live. */
  after: Cursor.optional(),
  /** The log's epoch the cursor belongs to; a different epoch (store wiped) gets a reset. */
  epoch: Epoch.optional(),
});

export const UnsubscribeFrame = z.strictObject({
  type: z.literal('unsubscribe'),
  room: RoomName,
});

export const SendFrame = z
  .strictObject({
    type: z.literal('send'),
    room: RoomName,
    clientId: ClientId,
    text: SendText.optional(),
    /** Ids of files uploaded to this room by this session, not yet sent with another message. */
    files: FileIds.optional(),
    /** A reply to this earlier message of the room. */
    replyTo: TargetSeq.optional(),
    /** Not a new message but a change to an earlier one (see ChangeRequest). */
    change: ChangeRequest.optional(),
  })
  .superRefine(checkSendShape);

export const PingFrame = z.strictObject({
  type: z.literal('ping'),
});

/** "I am typing in this room": send it at most every few seconds while typing. Needs a nickname. */
export const TypingFrame = z.strictObject({
  type: z.literal('typing'),
  room: RoomName,
});

/**
 * "Tell me how far these rooms go": the sidebar's rooms other than the one read. Replaces the rooms of the
 * previous watch; an empty list stops it.
 */
export const WatchFrame = z.strictObject({
  type: z.literal('watch'),
  rooms: z.array(RoomName).max(MAX_WATCHED_ROOMS, `a watch names at most ${MAX_WATCHED_ROOMS} rooms`),
});

export const ClientFrame = z.discriminatedUnion('type', [SubscribeFrame, UnsubscribeFrame, SendFrame, PingFrame, TypingFrame, WatchFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type SubscribeFrame = z.infer<typeof SubscribeFrame>;
export type SendFrame = z.infer<typeof SendFrame>;

// ---- HTTP -------------------------------------------------------------------------------------

/** POST /api/session as a guest: the nickname to be shown. */
export const GuestRequest = z.strictObject({ nick: NameInput });
export type GuestRequest = z.infer<typeof GuestRequest>;

/** POST /api/session to sign in, and POST /api/accounts to sign up. */
export const PasswordRequest = z.strictObject({ username: NameInput, password: PasswordInput });
export type PasswordRequest = z.infer<typeof PasswordRequest>;

/** POST /api/rooms/:room/messages */
export const SendRequest = z
  .strictObject({ clientId: ClientId, text: SendText.optional(), files: FileIds.optional(), replyTo: TargetSeq.optional(), change: ChangeRequest.optional() })
  .superRefine(checkSendShape);
export type SendRequest = z.infer<typeof SendRequest>;

/** POST /api/rooms: a new private room, with its title. */
export const CreateRoomRequest = z.strictObject({
  title: z
    .string()
    .trim()
    .min(1, 'a room needs a title')
    .max(MAX_ROOM_TITLE_LENGTH, `a title has at most ${MAX_ROOM_TITLE_LENGTH} characters`)
    .refine((title) => !LONE_SURROGATE.test(title) && !/[\p{Cc}]/u.test(title), 'a title is text without control characters'),
});
export type CreateRoomRequest = z.infer<typeof CreateRoomRequest>;

/** POST /api/dms (open a direct message) and POST /api/rooms/:room/members (invite): whom. */
export const UsernameRequest = z.strictObject({ username: NameInput });
export type UsernameRequest = z.infer<typeof UsernameRequest>;

/** POST /api/rooms/:room/moderation */
export const ModerationRequest = z.strictObject({
  username: NameInput,
  action: z.enum(['mute', 'unmute', 'ban', 'unban', 'promote', 'demote', 'remove']),
});
export type ModerationRequest = z.infer<typeof ModerationRequest>;
/** PUT /api/rooms/:room/read: read up to `seq`, in the log's epoch `epoch`. */
export const ReadRequest = z.strictObject({ seq: Cursor, epoch: Epoch });
export type ReadRequest = z.infer<typeof ReadRequest>;

/**
 * POST /api/rooms/:room/files?name=N&width=W&height=H: the body is the file's bytes. The name is shown and
 * offered when saved, never trusted for the type; width and height (an image's, as the browser measured it)
 * let a thumbnail keep its place while it loads.
 */
export const UploadQuery = z.object({
  name: z.string().min(1, 'name is the file\'s name').max(1000, 'a file name has at most 1000 characters'),
  width: queryNumber('width').pipe(z.number().int().min(1).max(100_000)).optional(),
  height: queryNumber('height').pipe(z.number().int().min(1).max(100_000)).optional(),
});
export type UploadQuery = z.infer<typeof UploadQuery>;

/** GET /api/rooms/:room/messages?before=N&limit=L: a page of history, oldest first. */
// Queries ignore parameters they do not know, such as a cache-buster a proxy or a client adds.
export const HistoryQuery = z.object({
  before: queryNumber('before').pipe(Cursor).optional(),
  limit: queryNumber('limit').pipe(z.number().int().min(1)).optional(),
});

/** GET /wait?room=R&after=N&epoch=E: long-poll. Without `after`: the latest page at once. */
export const WaitQuery = z.object({
  room: RoomName,
  after: queryNumber('after').pipe(Cursor).optional(),
  epoch: Epoch.optional(),
});
export type WaitQuery = z.infer<typeof WaitQuery>;

/** Where a page of search results ends (SearchResponse.next): `at.seq.room`. */
export const SEARCH_POSITION_PATTERN = /^(\d{1,16})\.(\d{1,16})\.([~a-z0-9_-]{1,40})$/;

/** GET /api/search: the words, and filters; dates are ms since the epoch. */
export const SearchQuery = z.strictObject({
  q: z.string().max(MAX_SEARCH_QUERY_LENGTH, `a search has at most ${MAX_SEARCH_QUERY_LENGTH} characters`),
  room: RoomName.optional(),
  author: NameInput.max(64, 'an author name has at most 32 characters').optional(),
  /** Messages stored at or after this time. */
  since: queryNumber('since').optional(),
  /** Messages stored before this time. */
  until: queryNumber('until').optional(),
  /** The `next` of the previous page. */
  before: z.string().regex(SEARCH_POSITION_PATTERN, 'before is the next of a previous page of results').optional(),
  limit: queryNumber('limit').pipe(z.number().int().min(1).max(MAX_SEARCH_PAGE_SIZE, `a page holds at most ${MAX_SEARCH_PAGE_SIZE} results`)).optional(),
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** The values of a /wait query, as read from the URL (undefined: absent). */
export interface WaitQueryValues {
  room: string | undefined;
  after: string | undefined;
  epoch: string | undefined;
}

/**
 * WaitQuery for the query every long-poll client sends again and again (a room and a cursor, maybe an
 * epoch, all well-formed), checked by hand: zod took half of each re-poll's handling in the bench's
 * profile. The same rules (a property test holds the two together); undefined for anything else, which
 * WaitQuery then answers, with its error message when it is bad.
 */
export function wellFormedWaitQuery({ room, after, epoch }: WaitQueryValues): WaitQuery | undefined {
  if (room === undefined || after === undefined) return undefined;
  if (room.length > MAX_ROOM_LENGTH || !(ROOM_PATTERN.test(room) || isPrivateRoom(room)) || !WHOLE_NUMBER.test(after)) return undefined;
  if (epoch !== undefined && epoch.length > MAX_EPOCH_LENGTH) return undefined;
  const cursor = Number(after);
  if (cursor > Number.MAX_SAFE_INTEGER) return undefined;
  return epoch === undefined ? { room, after: cursor } : { room, after: cursor, epoch };
}

/**
 * The error map to parse with: it puts the field's path before zod's own messages ("nick: Invalid input:
 * expected string, received number"), which do not say what they are about. The messages written above
 * say it in words ("a nickname uses …") and are left alone, so that a form can show them to a person.
 */
export const namingTheField: z.core.$ZodErrorMap = (issue) => {
  const fallback = z.config().localeError?.(issue);
  const message = typeof fallback === 'string' ? fallback : fallback?.message;
  return message !== undefined && issue.path?.length ? `${issue.path.join('.')}: ${message}` : message;
};

/** Turns a zod failure (parsed with namingTheField) into one readable sentence. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join('; ');
}
