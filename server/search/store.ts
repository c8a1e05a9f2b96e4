// What each message store gives search (the embedded one and MongoDB alike, held to one contract:
// test/search.contract.ts): the messages holding every one of some terms, newest first, a bounded part
// at a time, within the rooms a person may read.
import type { ChatMessage } from '../protocol';

/** Where a page of results ends: the next page holds what is older. Ordered by `at`, then room, then seq. */
export interface SearchPosition {
  at: number;
  room: string;
  seq: number;
}

/** The rooms a search may return messages of (see scope.ts). */
export interface RoomScope {
  /** The private rooms the person is a member of; every public room is in scope too. */
  privateRooms: ReadonlySet<string>;
}

export interface StoreSearch {
  /** Index terms (terms.ts), all of which a message must hold; at least one, unless `room` or `author` is set. */
  terms: readonly string[];
  scope: RoomScope;
  /** Only this room. */
  room?: string;
  /** Only messages by this name (compared folded: names are unique after case folding). */
  author?: string;
  /** Only messages stored at or after this time, and before `until` (ms since the epoch). */
  since?: number;
  until?: number;
  /** Only messages older than this position (the previous page's end). */
  below?: SearchPosition;
  /** The most messages to return. */
  limit: number;
  /**
   * The most index entries to look at: a search of words that are common apart and rare together stops
   * there, and says where to go on (`next`), rather than hold the store for long.
   */
  scanLimit: number;
}

export interface SearchHits {
  /** Newest first; the messages as they now stand (an edited one with its new text; deleted ones are not found). */
  messages: ChatMessage[];
  /** Set when more may match: search again with `below` set to it. */
  next?: SearchPosition;
}

export interface SearchStore {
  search(query: StoreSearch): Promise<SearchHits>;
}

/** Whether `a` comes before `b` in search order (newest first). */
export function newerThan(a: SearchPosition, b: SearchPosition): boolean {
  if (a.at !== b.at) return a.at > b.at;
  if (a.room !== b.room) return a.room > b.room;
  return a.seq > b.seq;
}
