// The one authorization question every path asks about a room (subscribe, /wait, history, people, typing,
// sends over either transport, and the rooms' own calls): what may this person do here? A private room that
// the person may not read answers exactly as a room that does not exist: the same error, after the same one
// read of the store (their standing, which neither has), so that no answer tells one from the other.
import type { Session } from '../accounts/accounts';
import { ApiError } from '../errors';
import { ErrorCode, isPrivateRoom, type RoomRole } from '../protocol';
import type { MemberRecord, RoomStore } from './store';

/** What a person may do in a room they may read. */
export interface RoomAccess {
  room: string;
  private: boolean;
  /** Always true: a person who may not read gets an error instead. */
  read: true;
  /** May post (false: muted). A sender also needs a session: appendMessage asks for one first. */
  post: boolean;
  /** May remove messages, mute and ban: the owner, a moderator, or a server admin. */
  moderate: boolean;
  role: RoomRole | undefined;
  muted: boolean;
  /** A server admin (ADMINS). */
  admin: boolean;
}

/** What roomAccess needs: the standings in the store, and who the admins are. */
export interface AccessContext {
  readonly rooms: { readonly store: Pick<RoomStore, 'member'>; isAdmin(session: Session | undefined): boolean };
}

/**
 * What `session` may do in `room`; throws not_found (a private room it is not a member of, or one that does
 * not exist: the same answer) or banned (a public room a moderator banned it from).
 */
export async function roomAccess({ rooms }: AccessContext, session: Session | undefined, room: string): Promise<RoomAccess> {
  const admin = rooms.isAdmin(session);
  if (isPrivateRoom(room)) {
    // Guests and readers without a session are members of no private room: no read, whether it exists or not.
    if (!session || session.guest) throw noSuchRoom();
    const member = await rooms.store.member(room, session.userId);
    if (!member || member.banned) throw noSuchRoom();
    return accessOf(room, true, member, admin);
  }
  const standing = session ? await rooms.store.member(room, session.userId) : undefined;
  if (standing?.banned) throw new ApiError(ErrorCode.banned, 'a moderator banned you from this room: you cannot read or post in it');
  return accessOf(room, false, standing, admin);
}

/** Throws unless `access` allows posting (a muted person reads, but does not post). */
export function requirePost(access: RoomAccess): void {
  if (!access.post) throw new ApiError(ErrorCode.muted, 'a moderator muted you in this room: you can read it, but not post');
}

/** The answer to a private room one may not read, and to a room that does not exist: one error, word for word. */
export function noSuchRoom(): ApiError {
  return new ApiError(ErrorCode.notFound, 'there is no such room');
}

function accessOf(room: string, isPrivate: boolean, standing: MemberRecord | undefined, admin: boolean): RoomAccess {
  const role = standing?.role === 'member' && !isPrivate ? undefined : standing?.role;
  const muted = standing?.muted === true;
  const moderate = admin || role === 'owner' || role === 'moderator';
  return { room, private: isPrivate, read: true, post: !muted, moderate, role, muted, admin };
}
