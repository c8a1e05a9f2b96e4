// Private rooms, direct messages and moderation: creating a room, opening a DM, inviting, leaving, and a
// moderator's mute, ban and roles. Who may read and post is decided in access.ts; this module changes
// standings, and ends the open subscriptions and long-polls of whoever can no longer read a room.
import { randomBytes } from 'node:crypto';
import type { Person, Session } from '../accounts/accounts';
import { ApiError } from '../errors';
import { ErrorCode, isPrivateRoom, type AccessEndedReason, type ModerationAction, type ModerationResult, type RoomInfo, type RoomMember, type RoomSummary } from '../protocol';
import { TokenBuckets, type BucketRate } from '../rate-limit';
import { roomAccess, type RoomAccess } from './access';
import type { MemberRecord, RoomRecord, RoomStore } from './store';

export interface RoomsOptions {
  /** Usernames of the server's admins. */
  admins: readonly string[];
  maxRoomMembers: number;
  maxPrivateRoomsPerPerson: number;
  privateRoomRate: BucketRate;
  inviteRate: BucketRate;
  dmRate: BucketRate;
  moderationRate: BucketRate;
  now?: () => number;
}

/** Finds people by name, and tells them their list of rooms changed: the accounts domain. */
export interface PersonDirectory {
  personNamed(name: string): Promise<Person | undefined>;
  /**
   * `userId` joined a room (a DM opened with them, an invitation), or their standing in one changed (a mute, a
   * role): their open pages list their rooms and read their standing again at once.
   */
  roomsChanged(userId: string): void;
}

/** A connection reading a room: a subscription, a held long-poll. */
export interface RoomReader {
  /** Its person can no longer read the room: end, and tell the client why. */
  accessEnded(room: string, reason: AccessEndedReason): void;
}


export class Rooms {
  private readonly admins: ReadonlySet<string>;
  /** The connections reading each room, by the user id of who reads: closed when that person loses access. */
  private readonly readers = new Map<string, Map<string, Set<RoomReader>>>();
  private readonly creations: TokenBuckets;
  private readonly invites: TokenBuckets;
  private readonly dms: TokenBuckets;
  private readonly moderations: TokenBuckets;
  private readonly now: () => number;

  /**
   * A private room was deleted (its last member left): what it held outside the rooms' store (its files) goes
   * too. Awaited by the leave, so that the uploaders' quotas are back when it answers; see also deletedOf.
   */
  onRoomDeleted: (room: string) => Promise<void> = async () => undefined;

  constructor(
    readonly store: RoomStore,
    private readonly people: PersonDirectory,
    private readonly options: RoomsOptions,
  ) {
    this.admins = new Set(options.admins);
    this.creations = new TokenBuckets(options.privateRoomRate);
    this.invites = new TokenBuckets(options.inviteRate);
    this.dms = new TokenBuckets(options.dmRate);
    this.moderations = new TokenBuckets(options.moderationRate);
    this.now = options.now ?? Date.now;
  }

  /** Whether `session` is a server admin: an account (never a guest) named in ADMINS. */
  isAdmin(session: Session | undefined): boolean {
    return session !== undefined && !session.guest && this.admins.has(session.nick);
  }

  /** What `session` may do in `room` (see access.ts). */
  access(session: Session | undefined, room: string): Promise<RoomAccess> {
    return roomAccess({ rooms: this }, session, room);
  }

  /** A new private room, owned by its creator. */
  async create(session: Session | undefined, title: string): Promise<RoomInfo> {
    const me = requireAccount(session, 'create a private room');
    this.take(this.creations, me.userId, 'you are creating rooms too fast');
    await this.requireRoomToSpare(me.userId, 'you are in');
    const room: RoomRecord = { id: newRoomId(), title, createdAt: this.now() };
    await this.store.createRoom(room, [this.standing(room.id, named(me), 'owner')]);
    return this.info(me, room.id);
  }

  /** The direct message between `session` and `username`, made the first time; both are members again. */
  async openDm(session: Session | undefined, username: string): Promise<{ info: RoomInfo; created: boolean }> {
    const me = requireAccount(session, 'send direct messages');
    this.take(this.dms, me.userId, 'you are opening direct messages too fast');
    const other = await this.account(username);
    if (other.userId === me.userId) throw new ApiError(ErrorCode.invalidRequest, 'a direct message is with someone else: pick another username');
    const pair = me.userId < other.userId ? ([named(me), other] as const) : ([other, named(me)] as const);
    const dmKey = `${pair[0].userId} ${pair[1].userId}`;
    for (const person of pair) {
      if ((await this.isFull(person.userId)) && !(await this.inDm(person.userId, dmKey))) {
        throw this.full(person.userId === me.userId ? 'you are in' : `${person.name} is in`);
      }
    }
    const id = newRoomId();
    const { room, created } = await this.store.openDm(
      { id, title: '', createdAt: this.now(), dmKey, dmNames: [pair[0].name, pair[1].name] },
      pair.map((person) => this.standing(id, person, 'member')),
    );
    if (!created) {
      // Either may have left it: opening it again brings both back, with its history.
      for (const person of pair) if (!(await this.store.member(room.id, person.userId))) await this.store.putMember(this.standing(room.id, person, 'member'));
    }
    for (const person of pair) this.people.roomsChanged(person.userId);
    return { info: await this.info(me, room.id), created };
  }

  /** Adds `username` (an account) to the private room; any member may invite. */
  async invite(session: Session | undefined, room: string, username: string): Promise<RoomMember> {
    const me = requireAccount(session, 'invite people');
    await this.access(me, room);
    const record = await this.privateRoom(room);
    if (record.dmKey !== undefined) throw new ApiError(ErrorCode.forbidden, 'a direct message is between two people: create a private room to talk with more');
    this.take(this.invites, me.userId, 'you are inviting too fast');
    const person = await this.account(username);
    const existing = await this.store.member(room, person.userId);
    if (existing?.banned) throw new ApiError(ErrorCode.forbidden, `${person.name} is banned from this room: a moderator must unban them first`);
    if (existing) return memberOf(existing, true);
    const members = await this.store.members(room, this.options.maxRoomMembers);
    if (members.length >= this.options.maxRoomMembers) {
      throw new ApiError(ErrorCode.limitReached, `a room has at most ${this.options.maxRoomMembers} members`);
    }
    await this.requireRoomToSpare(person.userId, `${person.name} is in`);
    const standing = this.standing(room, person, 'member');
    await this.store.putMember(standing);
    this.people.roomsChanged(person.userId);
    return memberOf(standing, true);
  }

  /**
   * `session` leaves the private room: its connections to the room end. An owner's room passes to a moderator,
   * or else to the member who joined first; the last member's leaving deletes the room (its id is not found
   * from then on), and its files with it (onRoomDeleted).
   */
  async leave(session: Session | undefined, room: string): Promise<void> {
    const me = requireAccount(session, 'leave a room');
    if (!isPrivateRoom(room)) throw new ApiError(ErrorCode.invalidRequest, 'a public room has no members to leave: take it off your list instead');
    const access = await this.access(me, room);
    await this.store.removeMember(room, me.userId);
    // The leaver's other pages learn it now, not once a deleted room's log is gone (seconds, for a long one).
    this.endReading(room, me.userId, 'left');
    const standings = await this.store.members(room, this.options.maxRoomMembers);
    const rest = standings.filter((member) => !member.banned);
    if (!someoneIn(standings, this.options.maxRoomMembers)) {
      await this.store.deleteRoom(room);
      await this.onRoomDeleted(room);
    } else if (access.role === 'owner') {
      const heir = rest.filter((member) => member.role === 'moderator').sort(bySince)[0] ?? rest.sort(bySince)[0];
      if (heir) await this.store.putMember({ ...heir, role: 'owner' });
    }
  }

  /** A moderator's action on `username` in the room. */
  async moderate(session: Session | undefined, room: string, username: string, action: ModerationAction): Promise<ModerationResult> {
    const me = requireAccount(session, 'moderate');
    const access = await this.access(me, room);
    if (!access.moderate) throw new ApiError(ErrorCode.forbidden, "only the room's owner, its moderators or a server admin can do this");
    this.take(this.moderations, me.userId, 'you are moderating too fast');
    const person = await this.people.personNamed(username);
    const standing = person && (await this.store.member(room, person.userId));
    if (!person || (access.private && !standing)) throw new ApiError(ErrorCode.notFound, `nobody called "${username}" is in this room`);
    if (person.userId === me.userId) throw new ApiError(ErrorCode.invalidRequest, 'you cannot do this to yourself');
    if (this.admins.has(person.name) && !person.guest) throw new ApiError(ErrorCode.forbidden, `${person.name} is a server admin`);
    // A server admin may act on an owner: a public room's owner is only whoever wrote in it first.
    if (standing?.role === 'owner' && !access.admin) throw new ApiError(ErrorCode.forbidden, `${person.name} owns this room`);
    if (standing?.role === 'owner' && action === 'promote') throw new ApiError(ErrorCode.invalidRequest, `${person.name} owns this room already`);
    const promoting = action === 'promote' || action === 'demote';
    const mayName = access.admin || access.role === 'owner';
    if ((promoting || standing?.role === 'moderator') && !mayName) {
      throw new ApiError(ErrorCode.forbidden, "only the room's owner or a server admin can name moderators, or act on one");
    }
    if (action === 'promote' && person.guest) throw new ApiError(ErrorCode.forbidden, 'a guest cannot be a moderator: only accounts can');
    if (action === 'remove' && !access.private) throw new ApiError(ErrorCode.invalidRequest, 'a public room has no members to remove: mute or ban instead');
    if (!standing) await this.requireStandingToSpare(room);
    const current = standing ?? this.standing(room, person, 'member');
    const next = changed(current, action, access.private);
    if (next === undefined) await this.store.removeMember(room, person.userId);
    else await this.store.putMember(next);
    if (action === 'ban' || action === 'remove') this.endReading(room, person.userId, action === 'ban' ? 'banned' : 'removed');
    // A mute, a role: the person's open pages show it at once (a muted composer, a moderator's actions).
    else this.people.roomsChanged(person.userId);
    return next === undefined ? { name: person.name, removed: true } : memberOf(next, access.private);
  }

  /** GET /api/rooms/:room: the room as `session` sees it. */
  async info(session: Session | undefined, room: string): Promise<RoomInfo> {
    const access = await this.access(session, room);
    const base = { room, private: access.private, role: access.role, moderate: access.moderate, post: access.post, muted: access.muted, admin: access.admin };
    if (!access.private) return { ...base, title: room, dm: false, post: access.post && session !== undefined };
    const record = await this.privateRoom(room);
    return { ...base, title: titleFor(record, session?.nick), dm: record.dmKey !== undefined };
  }

  /** The person's private rooms and DMs, by title. */
  async list(session: Session | undefined): Promise<RoomSummary[]> {
    if (!session || session.guest) return [];
    const standings = await this.store.privateRoomsOf(session.userId, this.options.maxPrivateRoomsPerPerson);
    const summaries: RoomSummary[] = [];
    for (const standing of standings) {
      const record = await this.store.room(standing.room);
      if (record) summaries.push({ room: record.id, title: titleFor(record, session.nick), dm: record.dmKey !== undefined });
    }
    return summaries.sort((a, b) => a.title.localeCompare(b.title));
  }

  /** A private room's members; a public room's people with a role, a mute or a ban. Bans are shown to moderators only. */
  async members(session: Session | undefined, room: string): Promise<RoomMember[]> {
    const access = await this.access(session, room);
    const standings = await this.store.members(room, this.options.maxRoomMembers);
    return standings.filter((standing) => access.moderate || !standing.banned).map((standing) => memberOf(standing, access.private));
  }

  /**
   * `session` is about to write the first message of a public room: an account becomes its owner (true), unless
   * it has a standing there already. The claim is made before the message is stored, so that whoever reads the
   * message finds the room's owner; see giveUpClaim.
   */
  async claimNewRoom(room: string, session: Session): Promise<boolean> {
    if (isPrivateRoom(room) || session.guest || (await this.store.member(room, session.userId))) return false;
    await this.store.putMember(this.standing(room, named(session), 'owner'));
    return true;
  }

  /** Another's message was stored first (two wrote to a new room at once): the claim of claimNewRoom is undone. */
  async giveUpClaim(room: string, session: Session): Promise<void> {
    const standing = await this.store.member(room, session.userId);
    if (standing?.role === 'owner' && !standing.muted && !standing.banned) await this.store.removeMember(room, session.userId);
  }

  /**
   * Which of the private `rooms` are deleted: no record of them, or one that a leave cut short (a crash, a
   * failed store) left with nobody but banned people in it, which is deleted now, as the leave would have.
   * What the sweep of deleted rooms' files and logs asks (server/rooms/leftovers.ts): a room being
   * created is stored a moment before its first member (MongoDB), but holds nothing before it has one.
   */
  async deletedOf(rooms: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const room of rooms) {
      if (!isPrivateRoom(room)) continue;
      if (await this.store.room(room)) {
        if (someoneIn(await this.store.members(room, this.options.maxRoomMembers), this.options.maxRoomMembers)) continue;
        await this.store.deleteRoom(room);
      }
      deleted.push(room);
    }
    return deleted;
  }

  /** `reader` reads `room` for `userId`: it ends when that person can no longer read the room. */
  watch(room: string, userId: string, reader: RoomReader): void {
    let byUser = this.readers.get(room);
    if (!byUser) this.readers.set(room, (byUser = new Map()));
    let connections = byUser.get(userId);
    if (!connections) byUser.set(userId, (connections = new Set()));
    connections.add(reader);
  }

  unwatch(room: string, userId: string, reader: RoomReader): void {
    const byUser = this.readers.get(room);
    const connections = byUser?.get(userId);
    if (!byUser || !connections?.delete(reader)) return;
    if (connections.size === 0) byUser.delete(userId);
    if (byUser.size === 0) this.readers.delete(room);
  }

  /**
   * Ends the connections here whose person lost the room on another instance (left, removed or banned there,
   * which ended only that instance's connections): one read of each watched room's standings (at most
   * MAX_ROOM_MEMBERS) per call. Returns how many people it found without access.
   */
  async recheckReaders(): Promise<number> {
    let ended = 0;
    for (const [room, byUser] of [...this.readers]) {
      const standings = new Map((await this.store.members(room, this.options.maxRoomMembers)).map((standing) => [standing.userId, standing]));
      const isPrivate = isPrivateRoom(room);
      for (const userId of [...byUser.keys()]) {
        const standing = standings.get(userId);
        if (standing?.banned) this.endReading(room, userId, 'banned');
        else if (isPrivate && !standing) this.endReading(room, userId, 'removed');
        else continue;
        ended++;
      }
    }
    return ended;
  }

  /** Ends every connection of `userId` reading `room` on this instance. */
  private endReading(room: string, userId: string, reason: AccessEndedReason): void {
    const connections = this.readers.get(room)?.get(userId);
    for (const reader of [...(connections ?? [])]) {
      this.unwatch(room, userId, reader);
      reader.accessEnded(room, reason);
    }
  }

  private async privateRoom(room: string): Promise<RoomRecord> {
    const record = await this.store.room(room);
    if (!record) throw new ApiError(ErrorCode.notFound, 'there is no such room');
    return record;
  }

  /** The account called `username`; not_found when no account is (a guest cannot be invited or messaged). */
  private async account(username: string): Promise<Person> {
    const person = await this.people.personNamed(username);
    if (!person || person.guest) throw new ApiError(ErrorCode.notFound, `no account is called "${username}" (guests cannot join private rooms)`);
    return person;
  }

  /** Whether the person is in the DM with `dmKey` (read only when they are at their bound of rooms). */
  private async inDm(userId: string, dmKey: string): Promise<boolean> {
    for (const standing of await this.store.privateRoomsOf(userId, this.options.maxPrivateRoomsPerPerson)) {
      if ((await this.store.room(standing.room))?.dmKey === dmKey) return true;
    }
    return false;
  }

  private async isFull(userId: string): Promise<boolean> {
    const { maxPrivateRoomsPerPerson } = this.options;
    return (await this.store.privateRoomsOf(userId, maxPrivateRoomsPerPerson)).length >= maxPrivateRoomsPerPerson;
  }

  private async requireRoomToSpare(userId: string, who: string): Promise<void> {
    if (await this.isFull(userId)) throw this.full(who);
  }

  private full(who: string): ApiError {
    const max = this.options.maxPrivateRoomsPerPerson;
    return new ApiError(ErrorCode.limitReached, `${who} ${max} private rooms and direct messages already, the most one can be in: leave one first`);
  }

  private async requireStandingToSpare(room: string): Promise<void> {
    const standings = await this.store.members(room, this.options.maxRoomMembers);
    if (standings.length >= this.options.maxRoomMembers) {
      throw new ApiError(ErrorCode.limitReached, `a room keeps at most ${this.options.maxRoomMembers} people with a role, a mute or a ban`);
    }
  }

  private standing(room: string, person: Named, role: MemberRecord['role']): MemberRecord {
    return { room, userId: person.userId, name: person.name, role, since: this.now() };
  }

  private take(buckets: TokenBuckets, key: string, what: string): void {
    const taken = buckets.take(key, this.now());
    if (!taken.ok) throw new ApiError(ErrorCode.rateLimited, `${what}: try again in ${Math.ceil(taken.retryAfterMs / 1000)} s`, taken.retryAfterMs);
  }
}

/** 20 characters of a-z2-7 (100 random bits) after `~`: see PRIVATE_ROOM_PATTERN. */
export function newRoomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return `~${Array.from(randomBytes(20), (byte) => alphabet[byte % 32]).join('')}`;
}

/** Someone as a standing names them. */
interface Named {
  userId: string;
  name: string;
}

function named(session: Session): Named {
  return { userId: session.userId, name: session.nick };
}

function requireAccount(session: Session | undefined, what: string): Session {
  if (!session) throw new ApiError(ErrorCode.unauthenticated, `sign in to ${what}`);
  if (session.guest) throw new ApiError(ErrorCode.forbidden, `guests cannot ${what}: sign up for an account`);
  return session;
}

/** A DM is titled with the other person's name; a private room with its own title. */
function titleFor(room: RoomRecord, me: string | undefined): string {
  if (!room.dmNames) return room.title;
  const [first, second] = room.dmNames;
  return first === me ? second : first;
}

/** The standing after `action`; undefined when nothing is left to keep (a public room's reader with no role, mute or ban). */
function changed(current: MemberRecord, action: ModerationAction, isPrivate: boolean): MemberRecord | undefined {
  const { muted: _muted, banned: _banned, ...plain } = current;
  let next: MemberRecord;
  switch (action) {
    case 'mute':
      next = { ...current, muted: true };
      break;
    case 'unmute':
      next = { ...plain, ...(current.banned ? { banned: true as const } : {}) };
      break;
    case 'ban':
      next = { ...plain, role: 'member', banned: true };
      break;
    case 'unban':
      // A private room's banned person must be invited again.
      if (isPrivate) return undefined;
      next = { ...plain, ...(current.muted ? { muted: true as const } : {}) };
      break;
    case 'promote':
      if (current.banned) throw new ApiError(ErrorCode.invalidRequest, `${current.name} is banned: unban them first`);
      next = { ...current, role: 'moderator' };
      break;
    case 'demote':
      next = { ...current, role: 'member' };
      break;
    case 'remove':
      return undefined;
  }
  const plainReader = !isPrivate && next.role === 'member' && !next.muted && !next.banned;
  return plainReader ? undefined : next;
}

function memberOf(standing: MemberRecord, isPrivate: boolean): RoomMember {
  const role = standing.role === 'member' && !isPrivate ? undefined : standing.role;
  return { name: standing.name, ...(role ? { role } : {}), ...(standing.muted ? { muted: true } : {}), ...(standing.banned ? { banned: true } : {}) };
}

function bySince(a: MemberRecord, b: MemberRecord): number {
  return a.since - b.since;
}

/**
 * Whether anyone but banned people is in a private room, from its standings as the store listed them (by name,
 * at most `limit`). A list that came back full says nothing of the rest: a room that holds more standings than
 * MAX_ROOM_MEMBERS now allows (it was lowered, or two invitations raced its check) may have members past the
 * banned names listed first, and a room with members is never deleted, nor its log.
 */
function someoneIn(standings: readonly MemberRecord[], limit: number): boolean {
  return standings.length >= limit || standings.some((standing) => !standing.banned);
}
