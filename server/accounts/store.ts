// What the accounts domain keeps in the store (the embedded one and MongoDB alike, held to one contract:
// test/accounts.contract.ts): the people, by a key no two may share, and their sessions, by the hash of
// the session id (the id itself is never stored: a copy of the database signs nobody in).

/** Someone with a name: an account (with a password) or a guest (without one, for as long as its session lives). */
export interface UserRecord {
  /** Random, never reused. */
  id: string;
  /** The name as shown. */
  name: string;
  /** The name's confusable skeleton (see names.ts): unique among all users, accounts and guests. */
  nameKey: string;
  /** The password's PHC string (see passwords.ts); undefined for a guest. */
  passwordHash?: string;
  createdAt: number;
}

/** A signed-in browser (or script). */
export interface SessionRecord {
  /** SHA-256 of the session id, in hex. */
  hash: string;
  userId: string;
  /** The user's name and whether it is a guest, kept here so that a request needs one read. */
  name: string;
  guest: boolean;
  createdAt: number;
  lastSeenAt: number;
  /** Past this (ms since the epoch) the session is over; each use moves it on (sliding expiry). */
  expiresAt: number;
  /** The browser's User-Agent when it signed in (cut short), to tell sessions apart in the list. */
  agent: string;
}

/** Where an account stopped reading a room: the last seq it read, in which epoch of the log, and when. */
export interface ReadMarker {
  room: string;
  seq: number;
  epoch: string;
  /** When it last moved (ms since the epoch): the markers kept are the most recently moved. */
  at: number;
}

export interface AccountStore {
  /** Adds `user`, unless another holds its nameKey: then it adds nothing and returns that holder. */
  addUser(user: UserRecord): Promise<UserRecord | undefined>;
  userByKey(nameKey: string): Promise<UserRecord | undefined>;
  /** Removes a user that has no password (a guest whose name is to be freed); an account is never removed here. */
  removeGuest(userId: string): Promise<void>;
  addSession(session: SessionRecord): Promise<void>;
  session(hash: string): Promise<SessionRecord | undefined>;
  /** Moves a session's last use and expiry on; nothing if it is gone. */
  touchSession(hash: string, lastSeenAt: number, expiresAt: number): Promise<void>;
  /** The user's sessions, expired ones included, oldest first. */
  sessionsOf(userId: string): Promise<SessionRecord[]>;
  /** Removes a session; false if there was none. */
  removeSession(hash: string): Promise<boolean>;
  /** Of `hashes`, the sessions that exist and have not expired by `now`. */
  liveSessions(hashes: readonly string[], now: number): Promise<Set<string>>;
  /**
   * Removes sessions expired by `now` and guests left with no session (older than NEW_GUEST_GRACE_MS), looking
   * at no more than `maxRecords` of each per call (the next call goes on from there); returns the ids of the
   * guests it removed.
   */
  sweepExpired(now: number, maxRecords: number): Promise<string[]>;
  /**
   * Moves the user's marker in `marker.room` on to `marker.seq` (never back, within one epoch; a marker of
   * another epoch is replaced), and keeps at most `keep` markers for the user, dropping the least recently
   * moved. Returns the marker as stored.
   */
  setReadMarker(userId: string, marker: ReadMarker, keep: number): Promise<ReadMarker>;
  /** The user's markers, the most recently moved first. */
  readMarkers(userId: string): Promise<ReadMarker[]>;
  /** Forgets the user's marker in `room` (nothing if there is none). */
  removeReadMarker(userId: string, room: string): Promise<void>;
}

/**
 * How old a guest must be before sweepExpired removes it for having no session: a guest is stored a moment
 * before its session (see Accounts.startGuest), and a new one is left alone.
 */
export const NEW_GUEST_GRACE_MS = 60_000;
