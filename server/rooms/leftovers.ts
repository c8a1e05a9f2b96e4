// What a deleted private room leaves behind, and how it goes: its files (sent or waiting for a send) and its
// log (its messages, with their resend ids, edit marks and search entries). Both are removed when the room's
// last member leaves, before the leave is answered; what a crash or a failing store left of them is found
// again by a sweep that goes round the private rooms holding some, a batch at a time.
import type { Store } from '../store/store';
import type { Rooms } from './rooms';

/** Private rooms looked at per sweep round (the next round goes on after the last). */
const ROOM_SWEEP_BATCH = 100;

/** One kind of thing a private room holds: the rooms that hold some, and the removal of a room's. */
export interface RoomLeftovers {
  /** What it is, for the logs: "files", "messages". */
  readonly what: string;
  /** Up to `limit` private rooms holding some, in id order, after `after` when given. */
  list(after: string | undefined, limit: number): Promise<string[]>;
  /** Removes all of `room`'s; resolves with how many went. */
  remove(room: string): Promise<number>;
}

/** A private room's files, sent or waiting for a send. */
export function roomFiles(store: Store): RoomLeftovers {
  return { what: 'files', list: (after, limit) => store.files.privateRoomsWithFiles(after, limit), remove: (room) => store.files.removeRoom(room) };
}

/** A private room's log: its messages, with their resend ids, edit marks and search entries. */
export function roomLog(store: Store): RoomLeftovers {
  return { what: 'messages', list: (after, limit) => store.privateRoomsWithLogs(after, limit), remove: (room) => store.removeRoomLog(room) };
}

/** All a private room leaves, in the order it goes: files first, so their uploaders' quotas are back first. */
export function leftoversOf(store: Store): RoomLeftovers[] {
  return [roomFiles(store), roomLog(store)];
}

/**
 * One round of a sweep: removes `leftovers` of the private rooms that are deleted although these are not (a
 * crash or a store failure came between the two: see Rooms.deletedOf, which also finishes a leave cut short
 * before it deleted the room). Looks at `batch` rooms holding some, after `after`; resolves with how many it
 * removed, and the room the next round goes on after (undefined: the next starts over from the first).
 */
export async function sweepDeletedRooms(
  rooms: Pick<Rooms, 'deletedOf'>,
  leftovers: RoomLeftovers,
  after?: string,
  batch = ROOM_SWEEP_BATCH,
): Promise<{ removed: number; next: string | undefined }> {
  const holding = await leftovers.list(after, batch);
  let removed = 0;
  for (const room of await rooms.deletedOf(holding)) removed += await leftovers.remove(room);
  return { removed, next: holding.length === batch ? holding[holding.length - 1] : undefined };
}
