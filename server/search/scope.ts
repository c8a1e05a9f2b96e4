// The one place search learns which rooms a person may read: every public room, and the private rooms
// they are a member of. A store narrows its scan with it; every result's room is then asked the
// authorization question of the rooms domain again (search.ts), so nothing reaches a reader that
// another read path would refuse.
import type { Session } from '../accounts/accounts';
import type { AppContext } from '../context';
import type { RoomScope } from './store';

/** The rooms `session` may search. (No private rooms exist yet: every room is public.) */
export async function readableScope(_ctx: AppContext, _session: Session | undefined): Promise<RoomScope> {
  return { privateRooms: [] };
}

/** Whether `session` may read `room`: the question every read path asks. */
export async function mayRead(_ctx: AppContext, _session: Session | undefined, _room: string): Promise<boolean> {
  return true;
}

/** Whether `room` is in `scope` (every public room, and the private rooms it lists). */
export function inScope(scope: RoomScope, room: string): boolean {
  return !isPrivateRoom(room) || scope.privateRooms.includes(room);
}

/** Private rooms' ids start with `~`, which no public room name can. */
function isPrivateRoom(room: string): boolean {
  return room.startsWith('~');
}
