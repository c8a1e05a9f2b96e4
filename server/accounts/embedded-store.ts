// The accounts part of the embedded store: users and sessions in LMDB, beside the rooms' logs. A name is
// claimed in the same transaction that checks it is free, so two sign-ups of one name cannot both win.
import type { Database, RootDatabase } from 'lmdb';
import { lmdbRead, lmdbWrite } from '../store/guarded';
import { NEW_GUEST_GRACE_MS, type AccountStore, type ReadMarker, type SessionRecord, type UserRecord } from './store';

export class EmbeddedAccountStore implements AccountStore {
  /** id -> user */
  private readonly users: Database<UserRecord, string>;
  /** nameKey -> user id */
  private readonly nameKeys: Database<string, string>;
  /** hash -> session */
  private readonly sessions: Database<SessionRecord, string>;
  /** [user id, hash] -> true: a user's sessions. */
  private readonly userSessions: Database<true, [string, string]>;
  /** [user id, room] -> where the user stopped reading it */
  private readonly readMarkersDb: Database<ReadMarker, [string, string]>;

  constructor(
    private readonly root: RootDatabase,
    /** Whether the store is closed: then every call fails as an unreachable store would. */
    private readonly isClosed: () => boolean,
  ) {
    this.users = root.openDB({ name: 'users' });
    this.nameKeys = root.openDB({ name: 'nameKeys' });
    this.sessions = root.openDB({ name: 'sessions' });
    this.userSessions = root.openDB({ name: 'userSessions' });
    this.readMarkersDb = root.openDB({ name: 'readMarkers' });
  }

  addUser(user: UserRecord): Promise<UserRecord | undefined> {
    return this.write(() => {
      const holderId = this.nameKeys.get(user.nameKey);
      const holder = holderId === undefined ? undefined : this.users.get(holderId);
      if (holder) return holder;
      this.users.putSync(user.id, user);
      this.nameKeys.putSync(user.nameKey, user.id);
      return undefined;
    });
  }

  async userByKey(nameKey: string): Promise<UserRecord | undefined> {
    return this.read(() => {
      const id = this.nameKeys.get(nameKey);
      return id === undefined ? undefined : this.users.get(id);
    });
  }

  async removeGuest(userId: string): Promise<void> {
    await this.write(() => {
      const user = this.users.get(userId);
      if (!user || user.passwordHash !== undefined) return;
      this.users.removeSync(userId);
      if (this.nameKeys.get(user.nameKey) === userId) this.nameKeys.removeSync(user.nameKey);
    });
  }

  async addSession(session: SessionRecord): Promise<void> {
    await this.write(() => {
      this.sessions.putSync(session.hash, session);
      this.userSessions.putSync([session.userId, session.hash], true);
    });
  }

  async session(hash: string): Promise<SessionRecord | undefined> {
    return this.read(() => this.sessions.get(hash));
  }

  async touchSession(hash: string, lastSeenAt: number, expiresAt: number): Promise<void> {
    await this.write(() => {
      const session = this.sessions.get(hash);
      if (session) this.sessions.putSync(hash, { ...session, lastSeenAt, expiresAt });
    });
  }

  async sessionsOf(userId: string): Promise<SessionRecord[]> {
    return this.read(() => {
      const hashes = Array.from(this.userSessions.getRange({ start: [userId, ''], end: [userId, '\uffff'] }), ({ key }) => key[1]);
      return hashes
        .map((hash) => this.sessions.get(hash))
        .filter((session): session is SessionRecord => session !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt);
    });
  }

  async liveSessions(hashes: readonly string[], now: number): Promise<Set<string>> {
    return this.read(() => new Set(hashes.filter((hash) => (this.sessions.get(hash)?.expiresAt ?? 0) > now)));
  }

  removeSession(hash: string): Promise<boolean> {
    return this.write(() => {
      const session = this.sessions.get(hash);
      if (!session) return false;
      this.sessions.removeSync(hash);
      this.userSessions.removeSync([session.userId, hash]);
      return true;
    });
  }

  /** Where the previous sweepExpired stopped, in sessions and in users: the next goes on from there. */
  private sessionSweepFrom = '';
  private userSweepFrom = '';

  async sweepExpired(now: number, maxRecords: number): Promise<string[]> {
    return this.write(() => {
      const guests: string[] = [];
      const sessions = Array.from(this.sessions.getRange({ start: this.sessionSweepFrom, limit: maxRecords }));
      for (const { key, value } of sessions) {
        if (value.expiresAt > now) continue;
        this.sessions.removeSync(key);
        this.userSessions.removeSync([value.userId, key]);
      }
      this.sessionSweepFrom = sessions.length < maxRecords ? '' : `${sessions.at(-1)?.key ?? ''}\u0000`;
      const users = Array.from(this.users.getRange({ start: this.userSweepFrom, limit: maxRecords }));
      for (const { key, value } of users) {
        if (value.passwordHash !== undefined || value.createdAt > now - NEW_GUEST_GRACE_MS) continue;
        if (Array.from(this.userSessions.getKeys({ start: [key, ''], end: [key, '\uffff'], limit: 1 })).length > 0) continue;
        this.users.removeSync(key);
        if (this.nameKeys.get(value.nameKey) === key) this.nameKeys.removeSync(value.nameKey);
        guests.push(key);
      }
      this.userSweepFrom = users.length < maxRecords ? '' : `${users.at(-1)?.key ?? ''}\u0000`;
      return guests;
    });
  }

  setReadMarker(userId: string, marker: ReadMarker, keep: number): Promise<ReadMarker> {
    return this.write(() => {
      const previous = this.readMarkersDb.get([userId, marker.room]);
      const stored = previous && previous.epoch === marker.epoch && previous.seq > marker.seq ? { ...marker, seq: previous.seq } : marker;
      this.readMarkersDb.putSync([userId, marker.room], stored);
      const markers = this.markersOf(userId);
      for (const old of markers.slice(keep)) this.readMarkersDb.removeSync([userId, old.room]);
      return stored;
    });
  }

  async readMarkers(userId: string): Promise<ReadMarker[]> {
    return this.read(() => this.markersOf(userId));
  }

  async removeReadMarker(userId: string, room: string): Promise<void> {
    await this.write(() => this.readMarkersDb.removeSync([userId, room]));
  }

  private markersOf(userId: string): ReadMarker[] {
    return Array.from(this.readMarkersDb.getRange({ start: [userId, ''], end: [userId, '\uffff'] }), ({ value }) => value).sort((a, b) => b.at - a.at);
  }

  private read<T>(reader: () => T): T {
    return lmdbRead(this.isClosed, reader);
  }

  /** Runs `writer` in a write transaction: it sees no other write between its reads and its own writes. */
  private write<T>(writer: () => T): Promise<T> {
    return lmdbWrite(this.root, this.isClosed, writer);
  }
}
