// Who is speaking: sign-up, sign-in and guests, and the sessions that carry them from request to request.
// A session id is 32 random bytes, handed to the browser in a cookie; the store keeps only its SHA-256, so
// every instance sees a session, and it can be ended from any of them. Each use moves its expiry on.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors';
import { ErrorCode, type PeopleState, type RoomRead } from '../protocol';
import { BoundedSlots, TokenBuckets, type BucketRate } from '../rate-limit';
import { checkName, type CheckedName } from './names';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords';
import { clearedSessionCookie, readSessionId, sessionCookie } from './session-cookie';
import type { AccountStore, SessionRecord, UserRecord } from './store';

/** Who a request comes from. */
export interface Session {
  /** The SHA-256 of the session id, in hex: names the session in the store and in the session list. */
  readonly id: string;
  readonly userId: string;
  /** The name shown beside this person's messages: an account's username, or a guest's nickname. */
  readonly nick: string;
  readonly guest: boolean;
  /**
   * When the session began, in ms since the epoch. A guest has one session for as long as it holds its
   * nickname: a message of that name from before was another guest's, who gave the name up.
   */
  readonly since: number;
}

/** Someone with a name, as another person names them. */
export interface Person {
  readonly userId: string;
  readonly name: string;
  readonly guest: boolean;
}

/** A connection that lasts no longer than its session: a WebSocket, a held long-poll. */
export interface SessionBound {
  /** The session was signed out or revoked: close. */
  sessionEnded(): void;
  /** The account read a room further, on this device or another: a WebSocket tells its page. */
  readMoved?(read: RoomRead): void;
  /** The account joined a room (a DM, an invitation): a WebSocket tells its page to list it. */
  roomsChanged?(): void;
}

/** A session just started: who, and the Set-Cookie value that hands its id to the browser. */
export interface StartedSession {
  session: Session;
  cookie: string;
}

export interface AccountsOptions {
  guests: boolean;
  /** A session unused this long is over. */
  sessionIdleMs: number;
  trustProxy: boolean;
  /** The clock (tests move it). */
  now?: () => number;
}

/** Password attempts (sign-ins and sign-ups) from one IP: a burst, then one every 2 s. */
const ATTEMPTS_PER_IP: BucketRate = { burst: 20, perSecond: 0.5 };
/**
 * Password hashes (scrypt, 32 MiB each) run at once, server-wide: node's thread pool has 4 threads, and the
 * embedded store's writes need the others, so sign-ins never stall the chat.
 */
const HASHES_AT_ONCE = 2;
/** Password checks that may wait for a hash slot; past them the server answers rate_limited at once. */
const HASHES_WAITING = 4;
/** How long a client refused for busy hash slots is told to wait (a hash takes about 50 ms). */
const HASHING_RETRY_AFTER_MS = 1000;
/** Sign-in attempts at one name from one IP: a burst, then one every 30 s. */
const ATTEMPTS_PER_NAME_AND_IP: BucketRate = { burst: 5, perSecond: 1 / 30 };
/**
 * Sign-in attempts at one name from anywhere: far above what its owner makes, so that strangers cannot lock
 * the owner out, but a bound on guessing from many addresses.
 */
const ATTEMPTS_PER_NAME: BucketRate = { burst: 100, perSecond: 1 / 2 };
/** A session's last use is written at most this often, so that a busy reader does not write on every request. */
const TOUCH_EVERY_MS = 60_000;
/** How much of a User-Agent is kept, to tell sessions apart in the list. */
const MAX_AGENT_LENGTH = 200;

export class Accounts {
  /** The connections open for each session (by id), closed when it ends, and whose session it is. */
  private readonly bound = new Map<string, { userId: string; connections: Set<SessionBound> }>();
  /** The ids of the sessions with connections here, per user: to tell every device of an account. */
  private readonly boundSessions = new Map<string, Set<string>>();
  private readonly attemptsPerIp = new TokenBuckets(ATTEMPTS_PER_IP);
  private readonly attemptsPerNameAndIp = new TokenBuckets(ATTEMPTS_PER_NAME_AND_IP);
  private readonly attemptsPerName = new TokenBuckets(ATTEMPTS_PER_NAME);
  private readonly hashing = new BoundedSlots(HASHES_AT_ONCE, HASHES_WAITING);
  /**
   * Whether each name seen lately is an account's, for the people list (names are unique, so a name is one
   * person). Bounded: the least recently seen are forgotten first.
   */
  private readonly accountNames = new Map<string, boolean>();
  /**
   * Verified against when the username does not exist, so that the answer takes as long as for one that does.
   * Made at the first sign-in (a scrypt at every start would cost each test server its time and 32 MiB).
   */
  private decoyHash: Promise<string> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly store: AccountStore,
    private readonly options: AccountsOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get guestsAllowed(): boolean {
    return this.options.guests;
  }

  /** The session the request's cookie names, if it is live; undefined for none, an unknown or an expired one. */
  async sessionOf(req: IncomingMessage): Promise<Session | undefined> {
    const id = readSessionId(req, this.options.trustProxy);
    if (id === undefined) return undefined;
    const record = await this.store.session(hashOf(id));
    if (!record || (record.guest && !this.options.guests)) return undefined;
    const now = this.now();
    if (record.expiresAt <= now) {
      await this.forget(record);
      return undefined;
    }
    if (now - record.lastSeenAt >= TOUCH_EVERY_MS) await this.store.touchSession(record.hash, now, now + this.options.sessionIdleMs);
    return this.sessionFrom(record);
  }

  /**
   * The person who holds `name` (or a name that looks like it: the same key), for an invitation, a DM or a
   * moderator's action; undefined when nobody does.
   */
  async personNamed(name: string): Promise<Person | undefined> {
    const checked = checkName(name, 'username');
    if ('problem' in checked) return undefined;
    const user = await this.store.userByKey(checked.key);
    return user && { userId: user.id, name: user.name, guest: user.passwordHash === undefined };
  }

  /** A guest session for `nick`. A guest already (`current`) gives up its old name, unless it keeps the same one. */
  async startGuest(nick: string, req: IncomingMessage, current: Session | undefined): Promise<StartedSession> {
    if (!this.options.guests) throw new ApiError(ErrorCode.guestsOff, 'this server has no guests: sign in, or sign up for an account');
    const checked = nameOrRefusal(nick, 'nickname');
    if (current?.guest && current.nick === checked.name) return { session: current, cookie: this.cookieFor(req, undefined) };
    const user: UserRecord = { id: randomBytes(16).toString('hex'), name: checked.name, nameKey: checked.key, createdAt: this.now() };
    await this.claim(user, current?.guest ? current.userId : undefined);
    const started = await this.startSession(user, req);
    if (current?.guest) await this.end(current);
    return started;
  }

  /** A new account, signed in at once. */
  async signUp(username: string, password: string, req: IncomingMessage, ip: string): Promise<StartedSession> {
    this.takeAttempt(this.attemptsPerIp, ip, 'from this address');
    const checked = nameOrRefusal(username, 'username');
    checkPassword(password);
    const user: UserRecord = {
      id: randomBytes(16).toString('hex'),
      name: checked.name,
      nameKey: checked.key,
      passwordHash: await this.hashed(() => hashPassword(password)),
      createdAt: this.now(),
    };
    await this.claim(user, undefined);
    return this.replacingSession(user, req);
  }

  /**
   * Signs in with a password. The same refusal, after the same work (a scrypt of the password), whether the
   * username exists or not; attempts are limited per IP, per name and IP, and per name.
   */
  async signIn(username: string, password: string, req: IncomingMessage, ip: string): Promise<StartedSession> {
    this.takeAttempt(this.attemptsPerIp, ip, 'from this address');
    const checked = checkName(username, 'username');
    const key = 'key' in checked ? checked.key : username;
    this.takeAttempt(this.attemptsPerNameAndIp, `${ip} ${key}`, 'for this username from this address');
    this.takeAttempt(this.attemptsPerName, key, 'for this username');
    // A password sign-up would refuse can match no account: the same answer, after the same work, as a wrong one.
    const user = 'key' in checked && passwordProblem(password) === undefined ? await this.store.userByKey(key) : undefined;
    const matches = await this.hashed(async () => {
      this.decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
      const stored = user?.passwordHash ?? (await this.decoyHash);
      return verifyPassword(password, stored);
    });
    if (!user?.passwordHash || !matches) throw new ApiError(ErrorCode.signInFailed, 'the username or the password is wrong');
    return this.replacingSession(user, req);
  }

  /**
   * Ends the session the request's cookie names, if any (a guest's name is free again), also a guest's with
   * GUESTS=off, which sessionOf no longer sees.
   */
  async signOut(req: IncomingMessage): Promise<void> {
    const record = await this.recordOf(req);
    if (record) await this.forget(record);
  }

  /** The Set-Cookie value that makes the browser forget its session cookie. */
  clearedCookie(req: IncomingMessage): string {
    return clearedSessionCookie(req, this.options.trustProxy);
  }

  /** The user's live sessions, oldest first. */
  async sessionsOf(session: Session): Promise<SessionRecord[]> {
    const now = this.now();
    return (await this.store.sessionsOf(session.userId)).filter((record) => record.expiresAt > now);
  }

  /** Ends one of the user's sessions (by id); false when the user has no such session. */
  async revoke(session: Session, id: string): Promise<boolean> {
    const target = (await this.store.sessionsOf(session.userId)).find((record) => record.hash === id);
    if (!target) return false;
    await this.end(this.sessionFrom(target));
    return true;
  }

  /** The Set-Cookie value that renews the request's session cookie for another idle period (or starts it with `id`). */
  cookieFor(req: IncomingMessage, id: string | undefined): string {
    const current = id ?? readSessionId(req, this.options.trustProxy) ?? '';
    return sessionCookie(current, req, this.options.trustProxy, Math.floor(this.options.sessionIdleMs / 1000));
  }

  /**
   * Called with a guest's id once it is gone (signed out, its session over, its name taken over): what other
   * domains keep of it (its standings in rooms) goes with it. Set once, by the app.
   */
  onGuestGone: (userId: string) => Promise<void> = async () => undefined;

  /** Removes a bounded batch of expired sessions and of guests left without one; returns how many guests went. */
  async sweep(): Promise<number> {
    const guests = await this.store.sweepExpired(this.now(), SWEEP_BATCH);
    for (const guest of guests) await this.onGuestGone(guest);
    return guests.length;
  }

  /**
   * Closes the connections whose session has ended elsewhere: signed out or revoked on another instance (which
   * closed only its own connections), or expired. Asks the store about every session with a connection here,
   * RECHECK_BATCH at a time; returns how many sessions it found ended.
   */
  async recheckConnections(): Promise<number> {
    const ids = [...this.bound.keys()];
    let ended = 0;
    for (let start = 0; start < ids.length; start += RECHECK_BATCH) {
      const batch = ids.slice(start, start + RECHECK_BATCH);
      const live = await this.store.liveSessions(batch, this.now());
      for (const id of batch) {
        if (live.has(id)) continue;
        ended++;
        this.closeConnections(id);
      }
    }
    return ended;
  }

  /** `state` with the present names that are accounts' (as far as this instance has seen them) in `accounts`. */
  markAccounts(state: PeopleState): PeopleState {
    const accounts = state.present.filter((name) => this.accountNames.get(name) === true);
    return accounts.length > 0 ? { ...state, accounts } : state;
  }

  /** `connection` closes when `session` ends. */
  attach(session: Session, connection: SessionBound): void {
    let entry = this.bound.get(session.id);
    if (!entry) this.bound.set(session.id, (entry = { userId: session.userId, connections: new Set() }));
    entry.connections.add(connection);
    let sessions = this.boundSessions.get(session.userId);
    if (!sessions) this.boundSessions.set(session.userId, (sessions = new Set()));
    sessions.add(session.id);
  }

  detach(session: Session, connection: SessionBound): void {
    const entry = this.bound.get(session.id);
    if (!entry?.connections.delete(connection) || entry.connections.size > 0) return;
    this.forgetBound(session.id);
  }

  /** Tells every connection of the account here (each of its devices) that it read `read.room` up to `read.seq`. */
  readMoved(userId: string, read: RoomRead): void {
    for (const connection of this.connectionsOf(userId)) connection.readMoved?.(read);
  }

  /**
   * Tells every connection of the account here that it joined a room. Pages on other instances list it at
   * their next look (every 15 s).
   */
  roomsChanged(userId: string): void {
    for (const connection of this.connectionsOf(userId)) connection.roomsChanged?.();
  }

  private *connectionsOf(userId: string): Iterable<SessionBound> {
    for (const sessionId of this.boundSessions.get(userId) ?? []) yield* this.bound.get(sessionId)?.connections ?? [];
  }

  /** Forgets the session's connections (closed, or to be closed); returns them. */
  private forgetBound(sessionId: string): Set<SessionBound> {
    const entry = this.bound.get(sessionId);
    if (!entry) return new Set();
    this.bound.delete(sessionId);
    const sessions = this.boundSessions.get(entry.userId);
    sessions?.delete(sessionId);
    if (sessions?.size === 0) this.boundSessions.delete(entry.userId);
    return entry.connections;
  }

  /** Removes the session (and a guest's name with it) and closes its connections on this instance. */
  private async end(session: Session): Promise<void> {
    await this.store.removeSession(session.id);
    if (session.guest) await this.removeGuest(session.userId);
    this.closeConnections(session.id);
  }

  private async removeGuest(userId: string): Promise<void> {
    await this.store.removeGuest(userId);
    await this.onGuestGone(userId);
  }

  private closeConnections(sessionId: string): void {
    for (const connection of this.forgetBound(sessionId)) connection.sessionEnded();
  }

  private async forget(record: SessionRecord): Promise<void> {
    await this.end(this.sessionFrom(record));
  }

  /**
   * Stores `user` under its name key, or refuses with who holds it. A guest's name whose session is over is
   * taken over; so is `releasing`'s (the caller's own old guest name).
   */
  private async claim(user: UserRecord, releasing: string | undefined): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const holder = await this.store.addUser(user);
      if (!holder) return;
      const free = holder.passwordHash === undefined && (holder.id === releasing || !(await this.guestIsLive(holder)));
      if (!free) throw nameTaken(user.name, holder);
      await this.removeGuest(holder.id);
    }
    throw new ApiError(ErrorCode.nameTaken, `"${user.name}" is being taken by someone else right now: pick another name`);
  }

  private async guestIsLive(guest: UserRecord): Promise<boolean> {
    const now = this.now();
    return (await this.store.sessionsOf(guest.id)).some((session) => session.expiresAt > now);
  }

  /** A new session for `user`, ending the one the browser had (a guest's name is free again at once). */
  private async replacingSession(user: UserRecord, req: IncomingMessage): Promise<StartedSession> {
    const previous = await this.recordOf(req);
    const started = await this.startSession(user, req);
    if (previous) await this.forget(previous);
    return started;
  }

  /** The stored session the request's cookie names, live or not, whatever GUESTS says. */
  private async recordOf(req: IncomingMessage): Promise<SessionRecord | undefined> {
    const id = readSessionId(req, this.options.trustProxy);
    return id === undefined ? undefined : this.store.session(hashOf(id));
  }

  private async startSession(user: UserRecord, req: IncomingMessage): Promise<StartedSession> {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const agent = req.headers['user-agent'];
    const record: SessionRecord = {
      hash: hashOf(id),
      userId: user.id,
      name: user.name,
      guest: user.passwordHash === undefined,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + this.options.sessionIdleMs,
      agent: typeof agent === 'string' ? agent.slice(0, MAX_AGENT_LENGTH) : '',
    };
    await this.store.addSession(record);
    return { session: this.sessionFrom(record), cookie: this.cookieFor(req, id) };
  }

  private sessionFrom(record: SessionRecord): Session {
    this.accountNames.delete(record.name);
    this.accountNames.set(record.name, !record.guest);
    if (this.accountNames.size > MAX_REMEMBERED_NAMES) this.accountNames.delete(this.accountNames.keys().next().value as string);
    return { id: record.hash, userId: record.userId, nick: record.name, guest: record.guest, since: record.createdAt };
  }

  /** Runs a password hash in one of the few hash slots; refuses with rate_limited when they and the line are full. */
  private async hashed<T>(work: () => Promise<T>): Promise<T> {
    const outcome = await this.hashing.run(work);
    if (!outcome.ran) {
      throw new ApiError(ErrorCode.rateLimited, `the server is busy checking passwords: try again in ${HASHING_RETRY_AFTER_MS / 1000} s`, HASHING_RETRY_AFTER_MS);
    }
    return outcome.result;
  }

  private takeAttempt(buckets: TokenBuckets, key: string, what: string): void {
    const taken = buckets.take(key, this.now());
    if (!taken.ok) {
      throw new ApiError(ErrorCode.rateLimited, `too many sign-in attempts ${what}: try again in ${Math.ceil(taken.retryAfterMs / 1000)} s`, taken.retryAfterMs);
    }
  }
}

/** Sessions and users one sweep looks at, each: a short write transaction, whatever the store holds. */
const SWEEP_BATCH = 1000;

/** Sessions one liveSessions query asks about. */
const RECHECK_BATCH = 1000;

/** How many names markAccounts remembers. */
const MAX_REMEMBERED_NAMES = 100_000;

function hashOf(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function nameOrRefusal(raw: string, what: 'nickname' | 'username'): CheckedName {
  const checked = checkName(raw, what);
  if ('problem' in checked) throw new ApiError(ErrorCode.invalidName, checked.problem);
  return checked;
}

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new ApiError(ErrorCode.invalidPassword, problem);
}

/**
 * Why sign-up refuses `password`, or undefined. Characters are code points, counted alike on sign-up and
 * sign-in; half a surrogate pair is refused, as it would hash like U+FFFD (every such password alike).
 */
function passwordProblem(password: string): string | undefined {
  if (/\p{Cs}/u.test(password)) return 'a password cannot hold half a character (a lone UTF-16 surrogate)';
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `a password has at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  return undefined;
}

function nameTaken(wanted: string, holder: UserRecord): ApiError {
  const who = holder.passwordHash === undefined ? 'a guest' : 'an account';
  return new ApiError(
    ErrorCode.nameTaken,
    wanted === holder.name ? `"${wanted}" is taken by ${who}: pick another name` : `"${wanted}" looks too like "${holder.name}", which ${who} has: pick another name`,
  );
}
