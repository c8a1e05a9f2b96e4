// Where a signed-in person stopped reading each room, kept in the store so that every device opens a room
// at the same place and counts the same unread messages. A guest's stay in its browser (localStorage).
import type { AppContext } from '../context';
import { ApiError } from '../errors';
import { ErrorCode, type RoomRead } from '../protocol';
import type { Session } from './accounts';

/**
 * Markers kept per account: the sidebar lists at most 30 rooms, so this is rooms enough for every device's
 * list, and a client that marks room after room pushes out only its own oldest.
 */
export const MAX_READ_MARKERS = 100;

/** Moves the account's marker in `room` on to `seq` (never past the room's end, never back); the marker as kept. */
export async function markRead(ctx: AppContext, session: Session | undefined, room: string, seq: number, epoch: string): Promise<RoomRead> {
  const userId = accountOf(session);
  if (epoch !== ctx.store.epoch) {
    throw new ApiError(ErrorCode.invalidRequest, 'this read marker is from an earlier life of the log (it was reset): reload the room');
  }
  const head = await ctx.store.head(room);
  const stored = await ctx.store.accounts.setReadMarker(userId, { room, seq: Math.min(seq, head), epoch, at: movedAt() }, MAX_READ_MARKERS);
  const read = { room, seq: stored.seq };
  // The account's pages on this instance hear of it now; on another instance, at their next look.
  ctx.accounts.readMoved(userId, read);
  return read;
}

/** The account's markers in this epoch of the log, the most recently moved first; none for a guest. */
export async function readMarkersOf(ctx: AppContext, session: Session | undefined): Promise<RoomRead[]> {
  const userId = session && !session.guest ? session.userId : undefined;
  if (userId === undefined) return [];
  const markers = await ctx.store.accounts.readMarkers(userId);
  return markers.filter((marker) => marker.epoch === ctx.store.epoch).map(({ room, seq }) => ({ room, seq }));
}

/** Forgets the account's marker in `room`: the person took the room off their list, on every device. */
export async function forgetRead(ctx: AppContext, session: Session | undefined, room: string): Promise<void> {
  await ctx.store.accounts.removeReadMarker(accountOf(session), room);
}

let lastMovedAt = 0;

/** Now, in ms, and never the same twice in this process: two markers moved in one ms still keep their order. */
function movedAt(): number {
  lastMovedAt = Math.max(Date.now(), lastMovedAt + 1);
  return lastMovedAt;
}

function accountOf(session: Session | undefined): string {
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'sign in to keep where you stopped reading');
  if (session.guest) throw new ApiError(ErrorCode.invalidRequest, "read markers are kept for accounts: a guest's stay in its browser");
  return session.userId;
}
