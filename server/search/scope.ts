// The one place search learns which rooms a person may read: every public room they are not banned from,
// and the private rooms and DMs they are a member of, from the rooms domain. A store narrows its scan with
// the scope; every result's room is then asked roomAccess, the question every read path asks (search.ts),
// so nothing reaches a reader that another read path would refuse.
import type { Session } from '../accounts/accounts';
import type { AppContext } from '../context';
import { ApiError } from '../errors';
import { ErrorCode, isPrivateRoom } from '../protocol';
import { roomAccess } from '../rooms/access';
import type { RoomScope } from './store';

/** The rooms `session` may search: its private rooms (at most MAX_PRIVATE_ROOMS_PER_PERSON), and every public room. */
export async function readableScope({ rooms, config }: AppContext, session: Session | undefined): Promise<RoomScope> {
  // Guests and readers without a session are members of no private room (as roomAccess says).
  if (!session || session.guest) return { privateRooms: new Set() };
  // One read of the person's standings (not the rooms' records, as the sidebar's list reads): a ban is one too.
  const standings = await rooms.store.privateRoomsOf(session.userId, config.maxPrivateRoomsPerPerson);
  return { privateRooms: new Set(standings.filter((standing) => !standing.banned).map((standing) => standing.room)) };
}

/** Whether `session` may read `room` (false for a private room it is not in, one that does not exist, or a ban). */
export async function mayRead(ctx: AppContext, session: Session | undefined, room: string): Promise<boolean> {
  try {
    await roomAccess(ctx, session, room);
    return true;
  } catch (error) {
    if (error instanceof ApiError && (error.code === ErrorCode.notFound || error.code === ErrorCode.banned)) return false;
    throw error;
  }
}

/** Whether `room` is in `scope` (every public room, and the private rooms it lists). */
export function inScope(scope: RoomScope, room: string): boolean {
  return !isPrivateRoom(room) || scope.privateRooms.has(room);
}
