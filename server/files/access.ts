// Who may upload to a room and fetch its files: the rooms domain's one question (server/rooms/access.ts),
// asked here for the files' paths. A file of a room one may not read answers as a file that does not exist.
import type { Session } from '../accounts/accounts';
import type { AppContext } from '../context';
import { ApiError } from '../errors';
import { ErrorCode } from '../protocol';
import { requirePost, roomAccess } from '../rooms/access';

/** Whether `session` (undefined: nobody signed in) may fetch the files of `room`. */
export async function mayReadFiles(ctx: AppContext, session: Session | undefined, room: string): Promise<boolean> {
  try {
    await roomAccess(ctx, session, room);
    return true;
  } catch (error) {
    if (error instanceof ApiError && (error.code === ErrorCode.notFound || error.code === ErrorCode.banned)) return false;
    throw error;
  }
}

/**
 * Whether `session` may upload files to `room` (to send them there): throws what a send would get (not_found
 * for a private room it is not in, banned, muted) rather than answering false.
 */
export async function mayUploadFiles(ctx: Pick<AppContext, 'rooms'>, session: Session, room: string): Promise<boolean> {
  requirePost(await roomAccess(ctx, session, room));
  return true;
}
