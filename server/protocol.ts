// The wire protocol: every frame and body that crosses between client and server, typed once, with
// the constants both sides need. What clients send is validated by the schemas in validation.ts, and
// its types are inferred from them and re-exported here, so server and client cannot drift apart.
// This file has no runtime dependencies, so the browser bundle stays small. docs/protocol.md
// describes the protocol with examples.
export type {
  ChangeRequest,
  ClientFrame,
  CreateRoomRequest,
  ModerationRequest,
  UsernameRequest,
  GuestRequest,
  PasswordRequest,
  ReadRequest,
  SearchQuery,
  SendFrame,
  SendRequest,
  SubscribeFrame,
} from './validation';

/** Room names: lowercase ASCII letters, digits, '-' and '_', so that they read well in a URL. */
export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
export const MAX_ROOM_LENGTH = 40;
/**
 * Private rooms and direct messages have ids of their own, `~` and 20 random characters, which no public
 * name can be (a public name starts with a letter or digit): an unknown id is `not_found`, exactly as a
 * room its reader is not a member of, while a public name is any room anyone may open.
 */
export const PRIVATE_ROOM_PATTERN = /^~[a-z2-7]{20}$/;
/** The longest title of a private room, in characters. */
export const MAX_ROOM_TITLE_LENGTH = 80;

/** Whether `room` names a private room or a direct message (by its id), rather than a public room. */
export function isPrivateRoom(room: string): boolean {
  return PRIVATE_ROOM_PATTERN.test(room);
}
/**
 * Names (an account's username, a guest's nickname): letters and digits of any script, spaces and a little
 * punctuation, after NFKC. The server also refuses invisible characters and mixed scripts, and a name too
 * like one taken (server/accounts/names.ts).
 */
export const NICK_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]*$/u;
export const MAX_NICK_LENGTH = 32;
/** A client id names one message attempt; retries reuse it so the server can turn them into the original. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** An uploaded file's id: 128 random bits, base64url (the server makes them). */
export const FILE_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
/** The most files a send may name, whatever MAX_FILES_PER_MESSAGE says (it bounds the frame). */
export const MAX_FILE_IDS = 100;
/** The longest file name kept, in characters (a longer one is cut, keeping its extension). */
export const MAX_FILE_NAME_LENGTH = 200;
/** Default cap on a message's text, in characters (code points). The server's limit is configurable. */
export const DEFAULT_MAX_TEXT_LENGTH = 4000;
export const DEFAULT_ROOM = 'lobby';
export const SOCKET_PATH = '/ws';

/** Close codes the server uses on a WebSocket, beyond the standard 1000/1001. */
export const CloseCode = {
  /** The server is shutting down or restarting: reconnect at once. */
  goingAway: 1001,
  /** The socket sent nothing (no first frame in time, or no frame and no subscription for long): reconnect when needed. */
  idle: 4000,
  /** The socket's unsent buffer passed its bound: reconnect and resume from your cursor. */
  slowReader: 4008,
  /** The session was signed out or revoked: the client is no longer signed in. */
  sessionEnded: 4001,
} as const;

/** Why a reader can no longer read a room (the `access_ended` frame and /wait answer). */
export type AccessEndedReason = 'left' | 'removed' | 'banned';

/** Stable error codes, shared by HTTP bodies and WebSocket error frames. */
export const ErrorCode = {
  invalidJson: 'invalid_json',
  invalidFrame: 'invalid_frame',
  invalidRequest: 'invalid_request',
  tooLarge: 'too_large',
  unauthenticated: 'unauthenticated',
  /** A username or nickname that cannot be used (invisible characters, mixed scripts, a bad character). */
  invalidName: 'invalid_name',
  /** Someone has this name, or one that looks like it. */
  nameTaken: 'name_taken',
  /**
   * An edit, delete or reaction this person may not make, or on a message that cannot take it (deleted, not a
   * message); a moderation only the room's owner, its moderators or a server admin may make; or a guest asking
   * for what needs an account (private rooms, DMs).
   */
  forbidden: 'forbidden',
  /** A password too short or too long. */
  invalidPassword: 'invalid_password',
  /** Sign-in refused: the same answer whether the username exists or not. */
  signInFailed: 'sign_in_failed',
  /** GUESTS=off: sign in or sign up instead. */
  guestsOff: 'guests_off',
  forbiddenOrigin: 'forbidden_origin',
  /** The request named a host this server does not answer for (a DNS-rebinding page, or a name missing from ALLOWED_HOSTS). */
  unknownHost: 'unknown_host',
  notFound: 'not_found',
  /** Banned from this public room by a moderator: you cannot read or post in it. */
  banned: 'banned',
  /** Muted in this room by a moderator: you can read it, but not post. */
  muted: 'muted',
  /** A per-person bound (members of a room, private rooms of one person) is reached. */
  limitReached: 'limit_reached',
  rateLimited: 'rate_limited',
  /** A per-person file limit (bytes held, uploads waiting for a send) would be passed: send or delete some first. */
  quotaExceeded: 'quota_exceeded',
  storeUnavailable: 'store_unavailable',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Error codes a client should retry after a while rather than give up on. */
export const RETRYABLE_ERRORS: ReadonlySet<ErrorCode> = new Set([ErrorCode.rateLimited, ErrorCode.storeUnavailable, ErrorCode.internal]);

/** A stored message, as the server sends it. */
export interface ChatMessage {
  room: string;
  /** Position in the room's log: 1, 2, 3, ... with no holes. */
  seq: number;
  /** The sender's id for this message; a resend with the same id is the same message. */
  clientId: string;
  /** Name of the author, stamped by the server from the sender's session. */
  author: string;
  /**
   * True when the author was signed in to an account (with a password); absent when the author was a guest,
   * whose name is held only while its session lives (as were the authors of messages from before accounts).
   */
  account?: true;
  text: string;
  /** Files sent with the message (uploaded first: POST /api/rooms/:room/files), in the order sent. */
  files?: FileAttachment[];
  /** When the server stored it, in milliseconds since the epoch. */
  at: number;
  /** A reply: the seq of the message it answers, in the same room. */
  replyTo?: number;
  /**
   * Present on a change entry: this entry changes the earlier message `change.target` (its own seq moves
   * cursors like any entry, but it is not shown as a message). For an edit, `text` is the new text; for a
   * delete or a reaction, `text` is empty.
   */
  change?: MessageChange;
  // The message as it now stands (materialized by the store when a change is stored, so a history page or a
  // replay returns it current; a reader following live applies the change entries with applyChange).
  /** When it was last edited. */
  editedAt?: number;
  /** Deleted by its author, or removed by a moderator: `text` is empty, and so are its earlier edits' texts. */
  deleted?: DeletedBy;
  /** Reactions, in the order each emoji was first used; present while there is at least one. */
  reactions?: Reaction[];
  /** The seq of the last change entry this record reflects: an entry at or below it changes nothing. */
  lastChange?: number;
}

/** A file as a message carries it, stamped by the server from what it stored. */
export interface FileAttachment {
  id: string;
  /** The name the uploader gave it: shown, and offered when it is saved. */
  name: string;
  /** In bytes. */
  size: number;
  /** The type read from the content, never from the name: see INLINE_IMAGE_TYPES. */
  type: string;
  /** For images, the size the uploader's browser measured (layout only: the image may say otherwise). */
  width?: number;
  height?: number;
}

/** Types shown in the page (as thumbnails that open full size); every other file is a link that downloads. */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Where a file is served: GET /files/:id/:name (the name is for the person saving it; the id finds it). */
export function fileUrl({ id, name }: Pick<FileAttachment, 'id' | 'name'>): string {
  return `/files/${id}/${encodeURIComponent(name)}`;
}
/** Who deleted a message: its author, or a moderator (shown as "message removed by a moderator"). */
export type DeletedBy = 'author' | 'moderator';

/** A change entry: what it does to its target (see ChatMessage.change). */
export type MessageChange =
  | { kind: 'edit'; target: number }
  | { kind: 'delete'; target: number; by: DeletedBy }
  /** The entry's author now reacts with `emoji` (on) or no longer does (off): a state, so applying it twice changes nothing. */
  | { kind: 'reaction'; target: number; emoji: string; on: boolean };

/** One emoji on a message, and who reacted with it, in the order they did. */
export interface Reaction {
  emoji: string;
  names: string[];
}

/** Default caps on reactions (configurable: MAX_REACTION_EMOJI, MAX_REACTORS_PER_EMOJI). */
export const DEFAULT_MAX_REACTION_EMOJI = 20;
export const DEFAULT_MAX_REACTORS_PER_EMOJI = 100;
/** The longest emoji the server takes, in UTF-16 code units (a family with skin tones is about 35). */
export const MAX_EMOJI_LENGTH = 48;

// ---- WebSocket: server -> client --------------------------------------------------------------

/** Why a cursor cannot be served: ahead of the log, from another epoch, or too far behind to replay. */
export type ResetReason = 'ahead' | 'epoch' | 'behind';

/**
 * The most nicknames a `people` picture lists (of those present, and of those typing): a room of
 * thousands says how many are there, and names the first of them.
 */
export const PEOPLE_LIST_LIMIT = 100;

/** Who is in a room now: present nicknames, those typing, and readers without a nickname. Never stored. */
export interface PeopleState {
  room: string;
  /**
   * Nicknames reading the room now (over WebSocket, or long-polling it lately), sorted; the first
   * PEOPLE_LIST_LIMIT of them.
   */
  present: string[];
  /** How many nicknames are present: more than `present` lists when the room has more than the limit. */
  presentCount: number;
  /** Present nicknames typing now (a signal in the last few seconds, and no message since), sorted; at most PEOPLE_LIST_LIMIT. */
  typing: string[];
  /** WebSocket readers without a session (neither signed in nor a guest). */
  guests: number;
  /** Of `present`, those signed in to an account; the others are guests. Omitted when there are none. */
  accounts?: string[];
}

/** How far a room's log has gone: its last seq. */
export interface RoomHead {
  room: string;
  seq: number;
}

/** The most rooms one `watch` frame may name (the sidebar lists at most 30). */
export const MAX_WATCHED_ROOMS = 50;

export type ServerFrame =
  /** Answer to subscribe: what follows the cursor (or the latest page), then live messages follow. */
  | { type: 'subscribed'; room: string; epoch: string; messages: ChatMessage[]; hasOlder: boolean }
  /**
   * Live messages of a subscribed room, consecutive seqs, oldest first. Messages stored together come
   * in one frame (one write per socket for the lot); a first seq past the reader's cursor + 1 means it
   * missed something, and it subscribes again from its cursor.
   */
  | { type: 'messages'; room: string; messages: ChatMessage[] }
  /** The cursor cannot be served: drop the room's view and subscribe again without a cursor. */
  | { type: 'reset'; room: string; epoch: string; reason: ResetReason }
  /** The store holds the message sent with this clientId (a resend gets the original). */
  | { type: 'ack'; clientId: string; message: ChatMessage }
  /** `retryAfterMs` comes with `rate_limited`: send the same frame again after that long. */
  | { type: 'error'; code: ErrorCode; message: string; clientId?: string; room?: string; retryable: boolean; retryAfterMs?: number }
  | { type: 'pong' }
  /**
   * The heads of the rooms named by the last `watch` frame: all of them at once, then those that moved, at
   * most once a second.
   */
  | { type: 'heads'; heads: RoomHead[] }
  /** The account read a room up to `seq` (on this device or another): its unread count there is what follows. */
  | ({ type: 'read' } & RoomRead)
  /**
   * The account joined a private room or a DM (someone opened one with it, or invited it), or its standing in a
   * room changed (muted, unmuted, made or unmade moderator): list the rooms and read the open one's standing again.
   */
  | { type: 'rooms' }
  /** Who is in a subscribed room: once after `subscribed`, then whenever it changes (at most every second or so). */
  | ({ type: 'people' } & PeopleState)
  /**
   * You can no longer read this room (you left it in another tab, were removed or banned): the server has
   * ended the subscription. Leave the room's view; a private room leaves the sidebar too.
   */
  | { type: 'access_ended'; room: string; reason: AccessEndedReason };

// ---- HTTP answers -------------------------------------------------------------------------

/** GET or POST /api/session and POST /api/accounts answer with who the session is and the server's limits. */
export interface SessionResponse {
  /** The name shown beside this person's messages: the account's username, or the guest's nickname. */
  nick: string;
  /** True for a guest, false for an account. */
  guest: boolean;
  maxTextLength: number;
}

/** GET /api/session: the session, or `nick: null` while this browser has none (and whether it may be a guest). */
export type SessionLookupResponse = SessionResponse | { nick: null; maxTextLength: number; guestsAllowed: boolean };

/** One of the signed-in person's sessions, in GET /api/sessions. */
export interface SessionSummary {
  /** Names the session for DELETE /api/sessions/:id (the SHA-256 of its secret id, never the id itself). */
  id: string;
  /** The session of this request. */
  current: boolean;
  /** When it signed in, and when it was last used (to the minute), in ms since the epoch. */
  createdAt: number;
  lastSeenAt: number;
  /** The browser's User-Agent when it signed in. */
  agent: string;
}

/** GET /api/sessions: every live session of the signed-in person, oldest first. */
export interface SessionListResponse {
  sessions: SessionSummary[];
}

/** Where an account stopped reading a room: the last seq read. PUT /api/rooms/:room/read answers one. */
export interface RoomRead {
  room: string;
  seq: number;
}

/** GET /api/reads: the account's read markers, the most recently moved first (empty for a guest). */
export interface ReadMarkersResponse {
  markers: RoomRead[];
}

/** POST /api/rooms/:room/files: the stored file, to name in a send's `files` before it expires (see docs/protocol.md). */
export interface UploadResponse {
  file: FileAttachment;
  /** Where it is served. */
  url: string;
}

/** POST /api/rooms/:room/messages */
export interface SendResponse {
  message: ChatMessage;
  /** True when this clientId was already stored: the answer is the original message. */
  duplicate: boolean;
}

/** GET /api/rooms/:room/messages?before=N&limit=L: a page of history, oldest first. */
export interface HistoryResponse {
  room: string;
  epoch: string;
  messages: ChatMessage[];
  /** Whether messages older than the first of this page exist. */
  hasOlder: boolean;
}

/** GET /wait?room=R&after=N&epoch=E: long-poll. Without `after`: the latest page at once. */
export type WaitResponse =
  | { type: 'messages'; room: string; epoch: string; messages: ChatMessage[]; hasOlder?: boolean }
  | { type: 'reset'; room: string; epoch: string; reason: ResetReason }
  /** A held wait ended because you can no longer read the room (see the `access_ended` frame). */
  | { type: 'access_ended'; room: string; epoch: string; reason: AccessEndedReason };

// ---- Rooms: private rooms, direct messages, roles -------------------------------------------

/** A person's role in a room. Members of public rooms have no stored role: they are readers. */
export type RoomRole = 'owner' | 'moderator' | 'member';

/** GET /api/rooms/:room: what this room is, and what you may do in it. */
export interface RoomInfo {
  room: string;
  /** A private room's title; a DM's is the other person's name; a public room's is its name. */
  title: string;
  private: boolean;
  /** A direct message (a private room of two). */
  dm: boolean;
  /** Your role here: undefined for a reader of a public room who has none. */
  role?: RoomRole;
  /** You may remove messages, mute, ban, and (the owner, or an admin) name moderators. */
  moderate: boolean;
  /** You may post here (false: muted, or a guest in a room that needs an account). */
  post: boolean;
  muted: boolean;
  /** You are a server admin (ADMINS). */
  admin: boolean;
}

/** One of your private rooms or DMs, in GET /api/rooms. */
export interface RoomSummary {
  room: string;
  title: string;
  dm: boolean;
}

/** GET /api/rooms: your private rooms and direct messages, by title. */
export interface RoomListResponse {
  rooms: RoomSummary[];
}

/** A person with a standing in a room: a member of a private room, or anyone with a role, a mute or a ban. */
export interface RoomMember {
  name: string;
  role?: RoomRole;
  muted?: true;
  banned?: true;
}

/** GET /api/rooms/:room/members: the members of a private room; of a public room, those with a role, a mute or a ban. */
export interface MemberListResponse {
  room: string;
  members: RoomMember[];
}

/**
 * POST /api/rooms/:room/moderation: what a moderator does to a person in the room. `promote` and `demote`
 * (name or unname a moderator) are the owner's and admins'; `remove` is for private rooms (the person may be
 * invited again; a ban keeps them out until unbanned).
 */
export type ModerationAction = 'mute' | 'unmute' | 'ban' | 'unban' | 'promote' | 'demote' | 'remove';

/** What POST /api/rooms/:room/moderation answers: the person's standing now, or that they are no longer in the room. */
export type ModerationResult = RoomMember | { name: string; removed: true };

/** GET /healthz and GET /readyz */
export interface HealthResponse {
  status: 'ok' | 'degraded';
  store: { kind: 'embedded' | 'mongodb'; reachable: boolean; error?: string };
}

/** Every HTTP error body. */
export interface ErrorResponse {
  /** `retryAfterMs` comes with `rate_limited` (429), as does the Retry-After header (in seconds). */
  error: { code: ErrorCode; message: string; retryable: boolean; retryAfterMs?: number };
}

// ---- Search ----------------------------------------------------------------------------------

/** The longest search query, in characters. */
export const MAX_SEARCH_QUERY_LENGTH = 200;
/** The most terms one search may ask for (words, and a CJK run's pairs of characters). */
export const MAX_SEARCH_TERMS = 10;
/** The most results one page of a search may hold (the server's default page may be smaller). */
export const MAX_SEARCH_PAGE_SIZE = 50;

/** A message a search found, as it now stands, and the spans of its text that matched. */
export interface SearchResult {
  message: ChatMessage;
  /** [start, end) offsets into `message.text`, in UTF-16 code units (JavaScript string indexes), in order. */
  highlights: [number, number][];
}

/** GET /api/search?q=...: the messages holding every word, newest first, of the rooms you may read. */
export interface SearchResponse {
  results: SearchResult[];
  /** Set when more may match: ask again with `before` set to it for the next (older) page. */
  next?: string;
}
