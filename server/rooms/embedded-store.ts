// The rooms part of the embedded store: private rooms and standings in LMDB, beside the rooms' logs. A DM is
// found by its key in the same transaction that creates it, so two people opening it at once get one room.
import type { Database, RootDatabase } from 'lmdb';
import { lmdbRead, lmdbWrite } from '../store/guarded';
import type { MemberRecord, RoomRecord, RoomStore } from './store';

export class EmbeddedRoomStore implements RoomStore {
  /** id -> private room */
  private readonly roomRecords: Database<RoomRecord, string>;
  /** dmKey -> room id */
  private readonly dmKeys: Database<string, string>;
  /** [room, user id] -> standing */
  private readonly standings: Database<MemberRecord, [string, string]>;
  /** [user id, room] -> true: a person's standings. */
  private readonly memberships: Database<true, [string, string]>;

  constructor(
    private readonly root: RootDatabase,
    /** Whether the store is closed: then every call fails as an unreachable store would. */
    private readonly isClosed: () => boolean,
  ) {
    this.roomRecords = root.openDB({ name: 'privateRooms' });
    this.dmKeys = root.openDB({ name: 'dmKeys' });
    this.standings = root.openDB({ name: 'roomMembers' });
    this.memberships = root.openDB({ name: 'memberships' });
  }

  async createRoom(room: RoomRecord, members: readonly MemberRecord[]): Promise<void> {
    await this.write(() => this.insert(room, members));
  }

  openDm(room: RoomRecord & { dmKey: string }, members: readonly MemberRecord[]): Promise<{ room: RoomRecord; created: boolean }> {
    return this.write(() => {
      const id = this.dmKeys.get(room.dmKey);
      const existing = id === undefined ? undefined : this.roomRecords.get(id);
      if (existing) return { room: existing, created: false };
      this.insert(room, members);
      this.dmKeys.putSync(room.dmKey, room.id);
      return { room, created: true };
    });
  }

  async room(id: string): Promise<RoomRecord | undefined> {
    return this.read(() => this.roomRecords.get(id));
  }

  async deleteRoom(id: string): Promise<void> {
    await this.write(() => {
      const room = this.roomRecords.get(id);
      if (room?.dmKey !== undefined && this.dmKeys.get(room.dmKey) === id) this.dmKeys.removeSync(room.dmKey);
      this.roomRecords.removeSync(id);
      for (const { key } of Array.from(this.standings.getRange({ start: [id, ''], end: [id, '\uffff'] }))) {
        this.standings.removeSync(key);
        this.memberships.removeSync([key[1], id]);
      }
    });
  }

  async member(room: string, userId: string): Promise<MemberRecord | undefined> {
    return this.read(() => this.standings.get([room, userId]));
  }

  async putMember(member: MemberRecord): Promise<void> {
    await this.write(() => {
      this.standings.putSync([member.room, member.userId], member);
      this.memberships.putSync([member.userId, member.room], true);
    });
  }

  removeMember(room: string, userId: string): Promise<boolean> {
    return this.write(() => {
      if (this.standings.get([room, userId]) === undefined) return false;
      this.standings.removeSync([room, userId]);
      this.memberships.removeSync([userId, room]);
      return true;
    });
  }

  async members(room: string, limit: number): Promise<MemberRecord[]> {
    return this.read(() =>
      Array.from(this.standings.getRange({ start: [room, ''], end: [room, '\uffff'] }), ({ value }) => value)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .slice(0, limit),
    );
  }

  async removeStandingsOf(userId: string): Promise<void> {
    await this.write(() => {
      for (const key of Array.from(this.memberships.getKeys({ start: [userId, ''], end: [userId, '\uffff'] }))) {
        this.standings.removeSync([key[1], userId]);
        this.memberships.removeSync(key);
      }
    });
  }

  async privateRoomsOf(userId: string, limit: number): Promise<MemberRecord[]> {
    return this.read(() => {
      const found: MemberRecord[] = [];
      for (const [, room] of this.memberships.getKeys({ start: [userId, '~'], end: [userId, '~\uffff'] })) {
        if (found.length >= limit) break;
        const standing = this.standings.get([room, userId]);
        if (standing && !standing.banned) found.push(standing);
      }
      return found;
    });
  }

  /** Stores a room and its first members (inside a write transaction). */
  private insert(room: RoomRecord, members: readonly MemberRecord[]): void {
    this.roomRecords.putSync(room.id, room);
    for (const member of members) {
      this.standings.putSync([member.room, member.userId], member);
      this.memberships.putSync([member.userId, member.room], true);
    }
  }

  private read<T>(reader: () => T): T {
    return lmdbRead(this.isClosed, reader);
  }

  /** Runs `writer` in a write transaction: it sees no other write between its reads and its own writes. */
  private write<T>(writer: () => T): Promise<T> {
    return lmdbWrite(this.root, this.isClosed, writer);
  }
}
