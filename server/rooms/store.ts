// What the rooms domain keeps in the store (the embedded one and MongoDB alike, held to one contract:
// test/rooms.contract.ts): private rooms and direct messages, and each person's standing in a room (a
// member of a private room; a role, a mute or a ban in any room). Public rooms have no record of their own:
// they exist once written to, and only the people with a standing in one are stored.
import type { RoomRole } from '../protocol';

/** A private room or a direct message. */
export interface RoomRecord {
  /** `~` and 20 random characters (PRIVATE_ROOM_PATTERN). */
  id: string;
  /** A private room's title; a DM's is made of `dmNames` for each reader. */
  title: string;
  createdAt: number;
  /** A DM's key: its two people's user ids, sorted, joined by a space. One room per pair of people. */
  dmKey?: string;
  /** A DM's two names, in `dmKey`'s order. */
  dmNames?: [string, string];
}

/** Someone's standing in a room. */
export interface MemberRecord {
  room: string;
  userId: string;
  /** The person's name (an account's username, which never changes; or a guest's nickname). */
  name: string;
  role: RoomRole;
  muted?: true;
  banned?: true;
  since: number;
}

export interface RoomStore {
  /** Stores a new private room with its first members. */
  createRoom(room: RoomRecord, members: readonly MemberRecord[]): Promise<void>;
  /**
   * The DM with `room.dmKey`, or, when there is none, `room` stored with `members` (one wins when two open the
   * same DM at once). `created` says which.
   */
  openDm(room: RoomRecord & { dmKey: string }, members: readonly MemberRecord[]): Promise<{ room: RoomRecord; created: boolean }>;
  room(id: string): Promise<RoomRecord | undefined>;
  /** Removes a private room, its DM key and every standing in it. */
  deleteRoom(id: string): Promise<void>;
  member(room: string, userId: string): Promise<MemberRecord | undefined>;
  /** Stores a standing, replacing the one the person had in the room. */
  putMember(member: MemberRecord): Promise<void>;
  /** Removes a standing; false when there was none. */
  removeMember(room: string, userId: string): Promise<boolean>;
  /** Up to `limit` standings in the room, by name. */
  members(room: string, limit: number): Promise<MemberRecord[]>;
  /**
   * Up to `limit` of the person's standings in private rooms, by room id; bans left out: a room one is banned
   * from is not one of theirs, and cannot be left, so it must not count against their bound of rooms.
   */
  privateRoomsOf(userId: string, limit: number): Promise<MemberRecord[]>;
  /** Removes every standing of `userId` (a guest who is gone: its mutes and bans name nobody any more). */
  removeStandingsOf(userId: string): Promise<void>;
}
