// Who may upload to a room and fetch its files. One question, asked in one place: the merger replaces the
// body of these with server/rooms/access.ts's roomAccess(ctx, session, room) (`post` for an upload, `read`
// for a fetch), which throws the not_found a missing room gets (see /work/notes/shared-decisions.md, 1).
// Until rooms have members every room is public: anyone who may read a room may fetch its files.
import type { Session } from '../accounts/accounts';
import type { AppContext } from '../context';

/** Whether `session` (undefined: nobody signed in) may fetch the files of `room`. */
export async function mayReadFiles(_ctx: AppContext, _session: Session | undefined, _room: string): Promise<boolean> {
  return true;
}

/** Whether `session` may upload files to `room` (to send them there). */
export async function mayUploadFiles(_ctx: AppContext, _session: Session, _room: string): Promise<boolean> {
  return true;
}
