// The private rooms that hold something in a MongoDB collection (messages, files), one index seek per room:
// what the sweep of deleted rooms' leftovers goes round (server/rooms/leftovers.ts).

/** A filter on a room field: the private room ids after one, or all of them. */
export type PrivateRoomRange = { $gte: string; $lt: string } | { $gt: string; $lt: string };

/**
 * Up to `limit` private rooms, in id order, after `after` when given, found by `firstIn`: the lowest room
 * within a range that holds something (a findOne sorted on the room's index), or undefined. A private room's
 * id is `~` and letters, below `~\uffff`; a public room's name never starts with `~`.
 */
export async function privateRoomsAfter(
  firstIn: (range: PrivateRoomRange) => Promise<string | undefined>,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  const rooms: string[] = [];
  for (let from = after; rooms.length < limit; ) {
    const next = await firstIn(from === undefined ? { $gte: '~', $lt: '~\uffff' } : { $gt: from, $lt: '~\uffff' });
    if (next === undefined) break;
    rooms.push(next);
    from = next;
  }
  return rooms;
}
