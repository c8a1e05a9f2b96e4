// The one interface every message store implements; the contract suite (store.contract.ts) holds them to it.
import type { AccountStore } from '../accounts/store';
import type { RoomStore } from '../rooms/store';
import type { FileStore } from '../files/store';
import type { ChatMessage, FileAttachment, MessageChange } from '../protocol';
import type { SearchStore } from '../search/store';

export interface NewMessage {
  room: string;
  clientId: string;
  author: string;
  /** The author is signed in to an account (see ChatMessage.account). */
  account?: true;
  text: string;
  /** The files the message carries, as checked and stamped by server/files/files.ts. */
  files?: FileAttachment[];
  /** A reply to this seq (see ChatMessage.replyTo). */
  replyTo?: number;
  /**
   * A change to an earlier message: the store applies it to that message's record in the same write
   * (server/changes/apply.ts), and a delete also empties the texts of the message's earlier edits.
   */
  change?: MessageChange;
}

export interface AppendResult {
  message: ChatMessage;
  /** The (room, clientId) pair was already stored: `message` is the original, nothing new was written. */
  duplicate: boolean;
}

/**
 * Called with newly stored messages, once each, per room in seq order. Messages written together (one
 * group commit) come in one call, so that readers get them in one frame.
 */
export type AppendListener = (messages: readonly ChatMessage[]) => void;

/**
 * A break in the feed:
 * - `stopped`: the feed stopped; the last messages it handed on may no longer be a room's end, so a
 *   reader waiting for what follows them must read the store.
 * - `missed`: the feed runs again but may have missed messages (it restarted from now, or the log was
 *   wiped): every reader reads what follows its cursor from the store (a reset when the epoch changed).
 */
export type FeedGap = 'stopped' | 'missed';
export type FeedGapListener = (gap: FeedGap) => void;

/** The messages a batch of appends newly stored (resends of stored ones left out), in order: what the feed hands on. */
export function newlyStored(results: readonly AppendResult[]): ChatMessage[] {
  return results.filter((result) => !result.duplicate).map((result) => result.message);
}

export interface MessageStore {
  readonly kind: 'embedded' | 'mongodb';
  /** Identifies this log's lifetime: a wiped store has a new epoch, so old cursors get a reset. */
  readonly epoch: string;
  /**
   * Stores a message, giving it the room's next seq; resolves only once it is durable. A change entry is
   * applied to its target's record too (a resend of one applies it again, which changes nothing).
   */
  append(message: NewMessage): Promise<AppendResult>;
  /** Up to `limit` messages with seq > after, oldest first. */
  readAfter(room: string, after: number, limit: number): Promise<ChatMessage[]>;
  /** Up to `limit` messages with seq < before (or the newest, when before is undefined), oldest first. */
  readBefore(room: string, before: number | undefined, limit: number): Promise<ChatMessage[]>;
  /** The room's last seq (0 for an empty room). */
  head(room: string): Promise<number>;
  /** The message stored (and durable) in `room` under `clientId`, as it stands now; undefined when there is none. */
  byClientId(room: string, clientId: string): Promise<ChatMessage | undefined>;
  /** Resolves if the store answers now; rejects with StoreUnavailableError if it does not. */
  ping(): Promise<void>;
  /** Subscribes to the feed of new messages; returns the unsubscribe function. */
  onAppend(listener: AppendListener): () => void;
  /** Subscribes to the feed's gaps (see FeedGap); returns the unsubscribe function. */
  onFeedGap(listener: FeedGapListener): () => void;
  close(): Promise<void>;
}

/** What the server runs on: the rooms' logs, and beside them the accounts and sessions, private rooms and standings, and the search index. */
export interface Store extends MessageStore {
  readonly accounts: AccountStore;
  readonly rooms: RoomStore;
  /** Files uploaded to rooms, and the messages they belong to. */
  readonly files: FileStore;
  /** The messages holding some words, across rooms (server/search/). */
  readonly search: SearchStore;
  /**
   * Removes `room`'s whole log, its messages with what finds them (resend ids, edit marks, search entries):
   * the private room was deleted. Resolves with how many messages it removed; safe to call again (a call cut
   * short is finished by the next).
   */
  removeRoomLog(room: string): Promise<number>;
  /**
   * Up to `limit` private rooms (ids starting with `~`) that have a log, in id order, after `after` when
   * given: what the sweep of deleted rooms pages through.
   */
  privateRoomsWithLogs(after: string | undefined, limit: number): Promise<string[]>;
}

/** The store failed or is unreachable; the request may be retried. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}
