// What every transport does with a room: read its log from a reader's cursor, append a message, and say
// someone is typing. WebSocket and HTTP handlers both come here, so both answer the same way.
import type { AppContext } from './context';
import { ApiError } from './errors';
import { ErrorCode, type ChatMessage, type ResetReason } from './protocol';
import type { Session } from './session';
import type { AppendResult, MessageStore } from './store/store';

export interface Page {
  messages: ChatMessage[];
  /** Whether the log holds messages older than the first of this page. */
  hasOlder: boolean;
}

export type CursorRead = ({ kind: 'messages' } & Page) | { kind: 'reset'; reason: ResetReason };

/** The room's latest page: what a reader without a cursor starts from. */
export async function readLatest({ store, config }: AppContext, room: string): Promise<Page> {
  const messages = await store.readBefore(room, undefined, config.historyPageSize);
  return { messages, hasOlder: (messages[0]?.seq ?? 1) > 1 };
}

/**
 * What a reader at `after` should receive: every message after it. A cursor the log cannot serve
 * (ahead of it, from another epoch, or too far behind to replay) gets a reset, never a silent skip.
 */
export async function readFromCursor(
  { store, config }: AppContext,
  room: string,
  after: number,
  epoch: string | undefined,
): Promise<CursorRead> {
  if (fromAnotherEpoch(store, after, epoch)) return { kind: 'reset', reason: 'epoch' };
  const head = await store.head(room);
  if (after > head) return { kind: 'reset', reason: 'ahead' };
  if (head - after > config.maxReplay) return { kind: 'reset', reason: 'behind' };
  const messages = after === head ? [] : await store.readAfter(room, after, config.maxReplay);
  return { kind: 'messages', messages, hasOlder: (messages[0]?.seq ?? after + 1) > 1 };
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

/**
 * Stores a message from `sender`, after checking what the protocol schema cannot (the configured length)
 * and the sender's rate. The author is the session's nick: nothing the client sends can name another.
 */
export async function appendMessage(
  { store, config, limits, writes, metrics, presence }: AppContext,
  { session, ip }: Sender,
  room: string,
  clientId: string,
  text: string,
): Promise<AppendResult> {
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'pick a nickname before sending (POST /api/session)');
  const length = countCharacters(text);
  if (length > config.maxTextLength) {
    throw new ApiError(ErrorCode.tooLarge, `a message has at most ${config.maxTextLength} characters (this one has ${length})`);
  }
  limits.takeSend(session.nick, ip);
  const result = await writes.track(() => store.append({ room, clientId, author: session.nick, text }));
  if (!result.duplicate) metrics.messageStored();
  presence.sent(room, session.nick);
  return result;
}

/** `session` is typing in `room` (ephemeral: see Presence). Like a send, it needs a nickname. */
export function signalTyping({ presence }: AppContext, session: Session | undefined, room: string): void {
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'pick a nickname before typing (POST /api/session)');
  presence.typing(room, session.nick);
}

function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
