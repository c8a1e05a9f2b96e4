// What every transport does with a room: read its log from a reader's cursor, append a message, and say
// someone is typing. WebSocket and HTTP handlers both come here, so both answer the same way.
import type { AppContext } from './context';
import { ApiError } from './errors';
import { ErrorCode, type ChatMessage, type PeopleState, type ResetReason } from './protocol';
import type { Session } from './accounts/accounts';
import { requirePost, roomAccess } from './rooms/access';
import { attachFiles, deleteMessageFiles, removeUncarriedFiles } from './files/files';
import { StoreUnavailableError, type AppendResult, type MessageStore, type NewMessage } from './store/store';
import { checkChange, targetMessage } from './changes/rules';
import type { ChangeRequest } from './validation';

export interface Page {
  messages: ChatMessage[];
  /** Whether the log holds messages older than the first of this page. */
  hasOlder: boolean;
}

export type CursorRead = ({ kind: 'messages' } & Page) | { kind: 'reset'; reason: ResetReason };

export type CursorCheck = { kind: 'servable'; head: number } | { kind: 'reset'; reason: ResetReason };

/**
 * What an answer or a frame holds besides its messages: type, room, epoch, hasOlder and brackets (a room
 * name and an epoch are at most 40 and 64 characters).
 */
const ENVELOPE_BYTES = 256;
/** Messages read from the store at first to fill a budget; each further read asks for twice as many. */
const FIRST_READ = 50;

/**
 * The room's latest page, cut to the newest of its messages that fit in `budget` bytes: what a reader
 * without a cursor starts from.
 */
export function readLatest(ctx: AppContext, room: string, budget: number): Promise<Page> {
  return readBefore(ctx, room, undefined, ctx.config.historyPageSize, budget);
}

/**
 * Up to `limit` messages before seq `before` (the newest, when undefined), oldest first, cut to the newest
 * of them that fit in `budget` bytes: the older ones are on the next page.
 */
export async function readBefore({ store }: AppContext, room: string, before: number | undefined, limit: number, budget: number): Promise<Page> {
  const newestFirst = await fill(budget, limit, (taken, count) => store.readBefore(room, taken.at(-1)?.seq ?? before, count).then((read) => read.reverse()));
  const messages = newestFirst.reverse();
  return { messages, hasOlder: (messages[0]?.seq ?? 1) > 1 };
}

/**
 * Whether the log can serve a reader at `after`, and up to which seq it holds messages for it now. A cursor
 * ahead of the log, from another epoch, or too far behind to replay gets a reset, never a silent skip.
 */
export async function checkCursor({ store, config }: Pick<AppContext, 'store' | 'config'>, room: string, after: number, epoch: string | undefined): Promise<CursorCheck> {
  if (fromAnotherEpoch(store, after, epoch)) return { kind: 'reset', reason: 'epoch' };
  const head = await store.head(room);
  if (after > head) {
    // On MongoDB a new primary's majority snapshot can lag, for a moment, what the old one's stream handed
    // on (SERVER-53813): in the log's own epoch the cursor is real, so the reader retries instead of reloading.
    if (store.kind === 'mongodb' && epoch === store.epoch) {
      throw new StoreUnavailableError(`the cursor ${after} of room ${room} is past the head ${head} MongoDB shows now: its majority snapshot is catching up`);
    }
    return { kind: 'reset', reason: 'ahead' };
  }
  if (head - after > config.maxReplay) return { kind: 'reset', reason: 'behind' };
  return { kind: 'servable', head };
}

/**
 * Up to `limit` messages after seq `after`, oldest first, cut to the first of them that fit in `budget`
 * bytes: the reader asks again from the last one for the rest.
 */
export function readAfter({ store }: AppContext, room: string, after: number, limit: number, budget: number): Promise<ChatMessage[]> {
  return fill(budget, limit, (taken, count) => store.readAfter(room, taken.at(-1)?.seq ?? after, count));
}

/** What a reader at `after` should receive: the messages after it, as many as fit in `budget` bytes, or a reset. */
export async function readFromCursor(ctx: AppContext, room: string, after: number, epoch: string | undefined, budget: number): Promise<CursorRead> {
  const cursor = await checkCursor(ctx, room, after, epoch);
  if (cursor.kind === 'reset') return cursor;
  const messages = after === cursor.head ? [] : await readAfter(ctx, room, after, ctx.config.maxReplay, budget);
  return { kind: 'messages', messages, hasOlder: (messages[0]?.seq ?? after + 1) > 1 };
}

/**
 * Up to `limit` messages, in the order `readNext` gives them after those taken so far, as many as fit in
 * `budget` bytes of JSON with their envelope; at least one, so that a reader always moves on (the config
 * makes every budget hold one). Reads a few at first, then more, so that large messages are not read by
 * the thousand to send a few dozen.
 */
async function fill(
  budget: number,
  limit: number,
  readNext: (taken: readonly ChatMessage[], count: number) => Promise<ChatMessage[]>,
): Promise<ChatMessage[]> {
  const taken: ChatMessage[] = [];
  let bytes = ENVELOPE_BYTES;
  for (let count = FIRST_READ; taken.length < limit; count *= 2) {
    const asked = Math.min(count, limit - taken.length);
    const read = await readNext(taken, asked);
    for (const message of read) {
      bytes += Buffer.byteLength(JSON.stringify(message)) + 1; // and the comma before the next
      if (bytes > budget && taken.length > 0) return taken;
      taken.push(message);
    }
    if (read.length < asked) break; // the log has no more
  }
  return taken;
}

/** A cursor the client got from an earlier life of the log (the store was wiped since): it gets a reset. */
export function fromAnotherEpoch(store: MessageStore, after: number, epoch: string | undefined): boolean {
  return after > 0 && epoch !== undefined && epoch !== store.epoch;
}

/** Who sends: the session that authors the message, and the address the send-rate limits count. */
export interface Sender {
  session: Session | undefined;
  ip: string;
}

/** What a send may carry besides its text: files, the message it replies to, or the change it makes instead. */
export interface SendExtras {
  /** Ids of files this session uploaded to the room, for the message to carry (see server/files/files.ts). */
  files?: readonly string[] | undefined;
  replyTo?: number | undefined;
  change?: ChangeRequest | undefined;
}

/**
 * Stores a message from `sender`, after checking what the protocol schema cannot (the configured length)
 * and the sender's rate. The author is the session's nick: nothing the client sends can name another.
 * An edit, a delete or a reaction comes this way too (`extras.change`: its text is the edit's, or empty),
 * so every rule on sending applies to it; who may make it is checked in server/changes/rules.ts.
 */
export async function appendMessage(
  ctx: AppContext,
  { session, ip }: Sender,
  room: string,
  clientId: string,
  text: string,
  { files: fileIds, replyTo, change }: SendExtras = {},
): Promise<AppendResult> {
  const { store, config, limits, writes, metrics, presence, rooms } = ctx;
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'sign in, or pick a guest nickname, before sending (POST /api/session)');
  const access = await roomAccess(ctx, session, room);
  requirePost(access);
  const length = countCharacters(text);
  if (length > config.maxTextLength) {
    throw new ApiError(ErrorCode.tooLarge, `a message has at most ${config.maxTextLength} characters (this one has ${length})`);
  }
  limits.takeSend(session.nick, ip);
  const entry: NewMessage = { room, clientId, author: session.nick, ...(session.guest ? {} : { account: true }), text };
  // A resend is answered with what its first try stored, before any rule on its target: a resent delete (or a
  // reply, an edit, a reaction whose target was deleted meanwhile) would otherwise be refused, not deduped.
  if (replyTo !== undefined || change) {
    const stored = await store.byClientId(room, clientId);
    if (stored) return { message: stored, duplicate: true };
  }
  if (replyTo !== undefined) {
    await targetMessage(store, room, replyTo);
    entry.replyTo = replyTo;
  }
  const checked = change && (await checkChange(store, config, session, room, change, { moderator: access.moderate }));
  if (checked) entry.change = checked.change;
  // A room exists once a message is stored in it, and then for good (on disk): its first message is what
  // creates it, so that is what the new-room budget counts.
  let newRoom = false;
  await limits.takeNewRoom(room, session.nick, ip, async () => {
    const head = await store.head(room);
    newRoom = head === 0;
    return head;
  });
  if (fileIds) entry.files = await attachFiles({ store, config }, session, room, clientId, fileIds);
  // Whoever writes a public room's first message owns the room, if an account: claimed before the message is
  // seen (so a reader of it finds its owner), and given up again if another's message came first. Claimed
  // after every check that can refuse the send: a refused first send left its sender the hidden owner of
  // the room that the next writer created.
  const claimed = newRoom && (await rooms.claimNewRoom(room, session));
  const result = await writes.track(() => store.append(entry));
  if (claimed && result.message.seq !== 1) await rooms.giveUpClaim(room, session);
  if (result.duplicate && entry.files) await removeUncarriedFiles(ctx, entry.files, result.message);
  // A deleted message's files go with it (the delete is stored: a reader sees "message deleted" first). Not
  // when the answer is another message that had this clientId first: then no delete was stored.
  const stored = result.message.change;
  if (checked?.change.kind === 'delete' && stored?.kind === 'delete' && stored.target === checked.target.seq) await deleteMessageFiles(ctx, checked.target);
  limits.roomStored(room);
  if (!result.duplicate) metrics.messageStored();
  // A message ends its author's typing; a reaction or a delete says nothing of what they are typing.
  if (!change) presence.sent(room, session.nick);
  return result;
}

/**
 * `session` is typing in `room` (ephemeral: see Presence). Like a send, it needs a session and the right to
 * post; it counts against the sender's presence budget.
 */
export async function signalTyping({ presence, limits, rooms }: AppContext, { session, ip }: Sender, room: string): Promise<void> {
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'sign in, or pick a guest nickname, before typing (POST /api/session)');
  limits.takePresence(session.nick, ip);
  requirePost(await roomAccess({ rooms }, session, room));
  presence.typing(room, session.nick);
}

/** Who is in `room` now, with those signed in to an account named. */
export function peopleIn({ presence, accounts }: AppContext, room: string): PeopleState {
  return accounts.markAccounts(presence.state(room));
}

function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
