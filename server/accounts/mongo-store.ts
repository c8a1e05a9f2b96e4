// The accounts part of the MongoDB store: collections `users` (unique index on nameKey: the index decides
// between two sign-ups of one name, on any instance; guests also indexed by age, for the sweep) and `sessions`
// (keyed by the id's hash, indexed by user, and removed by a TTL index once expired).
import { MongoServerError, type Collection, type CollectionOptions, type Db } from 'mongodb';
import { mongoOperation } from '../store/guarded';
import { NEW_GUEST_GRACE_MS, type AccountStore, type ReadMarker, type SessionRecord, type UserRecord } from './store';

const DUPLICATE_KEY = 11000;

/** `guest` marks a user without a password, so that a partial index holds the guests alone (for the sweep). */
type UserDocument = Omit<UserRecord, 'id'> & { _id: string; guest?: true };
/** `expires` repeats expiresAt as a Date, which is what a TTL index reads. */
type SessionDocument = Omit<SessionRecord, 'hash'> & { _id: string; expires: Date };

type ReadMarkerDocument = ReadMarker & { userId: string };

/** Creates the collections' indexes (idempotent): called when the store opens. */
export async function createAccountIndexes(db: Db): Promise<void> {
  await db.collection<UserDocument>('users').createIndexes([
    { key: { nameKey: 1 }, unique: true, name: 'nameKey' },
    { key: { createdAt: 1, _id: 1 }, partialFilterExpression: { guest: true }, name: 'guests_createdAt' },
  ]);
  await db.collection<SessionDocument>('sessions').createIndexes([
    { key: { userId: 1, createdAt: 1 }, name: 'userId_createdAt' },
    { key: { expires: 1 }, expireAfterSeconds: 0, name: 'expires_ttl' },
  ]);
  await db.collection<ReadMarkerDocument>('readMarkers').createIndexes([
    { key: { userId: 1, room: 1 }, unique: true, name: 'userId_room' },
    { key: { userId: 1, at: -1 }, name: 'userId_at' },
  ]);
}

export class MongoAccountStore implements AccountStore {
  /** Read and written with the log's options, whatever the URI says (see the constructor). */
  readonly users: Collection<UserDocument>;
  readonly sessions: Collection<SessionDocument>;
  readonly markers: Collection<ReadMarkerDocument>;

  constructor(
    db: Db,
    /**
     * The messages' options (majority reads from the primary, majority writes with a time limit): a session
     * a sign-in answered with is found by the next request and survives a failover, a removed one is gone
     * everywhere, and a name's holder is never read from a lagging secondary.
     */
    logOptions: CollectionOptions,
    private readonly isClosed: () => boolean,
  ) {
    this.users = db.collection<UserDocument>('users', logOptions);
    this.sessions = db.collection<SessionDocument>('sessions', logOptions);
    this.markers = db.collection<ReadMarkerDocument>('readMarkers', logOptions);
  }

  addUser({ id, ...user }: UserRecord): Promise<UserRecord | undefined> {
    return this.guard(async () => {
      const document: UserDocument = { _id: id, ...user, ...(user.passwordHash === undefined ? { guest: true as const } : {}) };
      if (await this.insertUnlessTaken(document)) return undefined;
      // Lost to a holder of the name; should it be gone already (a guest just freed it), try once more.
      const holder = await this.userByKeyNow(user.nameKey);
      if (holder) return holder;
      if (await this.insertUnlessTaken(document)) return undefined;
      // The index says a holder exists, but not yet on a majority (a sign-up in flight on the primary), so
      // the majority read missed it: read the primary's own copy, or a 503 would answer "name taken".
      const uncommitted = await this.userByKeyNow(user.nameKey, 'local');
      if (uncommitted) return uncommitted;
      throw new Error(`the name ${user.nameKey} is taken by a holder that cannot be read`);
    });
  }

  userByKey(nameKey: string): Promise<UserRecord | undefined> {
    return this.guard(() => this.userByKeyNow(nameKey));
  }

  async removeGuest(userId: string): Promise<void> {
    await this.guard(() => this.users.deleteOne({ _id: userId, passwordHash: { $exists: false } }));
  }

  async addSession({ hash, ...session }: SessionRecord): Promise<void> {
    await this.guard(() =>
      this.sessions.insertOne({ _id: hash, ...session, expires: new Date(session.expiresAt) }),
    );
  }

  session(hash: string): Promise<SessionRecord | undefined> {
    return this.guard(async () => {
      const found = await this.sessions.findOne({ _id: hash });
      return found ? toSession(found) : undefined;
    });
  }

  async touchSession(hash: string, lastSeenAt: number, expiresAt: number): Promise<void> {
    await this.guard(() => this.sessions.updateOne({ _id: hash }, { $set: { lastSeenAt, expiresAt, expires: new Date(expiresAt) } }));
  }

  sessionsOf(userId: string): Promise<SessionRecord[]> {
    return this.guard(async () => (await this.sessions.find({ userId }).sort({ createdAt: 1 }).toArray()).map(toSession));
  }

  liveSessions(hashes: readonly string[], now: number): Promise<Set<string>> {
    return this.guard(async () => {
      const live = await this.sessions.find({ _id: { $in: [...hashes] }, expiresAt: { $gt: now } }, { projection: { _id: 1 } }).toArray();
      return new Set(live.map(({ _id }) => _id));
    });
  }

  /** Where the previous sweepExpired stopped among the guests (by age): the next goes on from there. */
  private guestSweepFrom: { createdAt: number; id: string } | undefined;

  /**
   * Removes guests left with no live session, the oldest first, `maxRecords` at a time; the TTL index removes
   * expired sessions by itself.
   */
  sweepExpired(now: number, maxRecords: number): Promise<string[]> {
    return this.guard(async () => {
      const from = this.guestSweepFrom;
      const after = from ? { $or: [{ createdAt: { $gt: from.createdAt } }, { createdAt: from.createdAt, _id: { $gt: from.id } }] } : {};
      const guests = await this.users
        .find({ guest: true, createdAt: { $lt: now - NEW_GUEST_GRACE_MS }, ...after }, { projection: { _id: 1, createdAt: 1 } })
        .sort({ createdAt: 1, _id: 1 })
        .limit(maxRecords)
        .toArray();
      const last = guests.at(-1);
      this.guestSweepFrom = guests.length < maxRecords || !last ? undefined : { createdAt: last.createdAt, id: last._id };
      const ids = guests.map(({ _id }) => _id);
      if (ids.length === 0) return [];
      const live = new Set(await this.sessions.distinct('userId', { userId: { $in: ids }, expiresAt: { $gt: now } }));
      const left = ids.filter((id) => !live.has(id));
      if (left.length > 0) await this.users.deleteMany({ _id: { $in: left }, guest: true });
      return left;
    });
  }

  removeSession(hash: string): Promise<boolean> {
    return this.guard(async () => (await this.sessions.deleteOne({ _id: hash })).deletedCount === 1);
  }

  setReadMarker(userId: string, marker: ReadMarker, keep: number): Promise<ReadMarker> {
    return this.guard(async () => {
      const stored = await this.moveReadMarker(userId, marker).catch((error: unknown) => {
        // Two first markers of one room at once: both upserts insert, the unique index takes one, and the
        // other, tried again, updates it.
        if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return this.moveReadMarker(userId, marker);
        throw error;
      });
      const dropped = await this.markers.find({ userId }, { projection: { _id: 1 } }).sort({ at: -1 }).skip(keep).toArray();
      if (dropped.length > 0) await this.markers.deleteMany({ _id: { $in: dropped.map(({ _id }) => _id) } });
      return stored;
    });
  }

  readMarkers(userId: string): Promise<ReadMarker[]> {
    return this.guard(async () =>
      (await this.markers.find({ userId }, { projection: { _id: 0, userId: 0 } }).sort({ at: -1 }).toArray()).map(toReadMarker),
    );
  }

  async removeReadMarker(userId: string, room: string): Promise<void> {
    await this.guard(() => this.markers.deleteOne({ userId, room }));
  }

  /**
   * One atomic update: the marker moves on (the greater seq within one epoch, the new one from another), so
   * two devices moving it at once leave the furthest.
   */
  private async moveReadMarker(userId: string, { room, seq, epoch, at }: ReadMarker): Promise<ReadMarker> {
    const sameEpoch = { $eq: ['$epoch', epoch] };
    const updated = await this.markers.findOneAndUpdate(
      { userId, room },
      [{ $set: { userId, room, epoch, at, seq: { $cond: [{ $and: [sameEpoch, { $gt: ['$seq', seq] }] }, '$seq', seq] } } }],
      { upsert: true, returnDocument: 'after', projection: { _id: 0, userId: 0 } },
    );
    if (!updated) throw new Error(`the read marker of ${room} was not stored`);
    return toReadMarker(updated);
  }

  /** Whether `user` was inserted (false: the unique nameKey index says another holds the name). */
  private async insertUnlessTaken(user: UserDocument): Promise<boolean> {
    try {
      await this.users.insertOne(user);
      return true;
    } catch (error) {
      if (error instanceof MongoServerError && error.code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  /** The holder of `nameKey`, read from the primary at `level` (majority unless the index proved a holder exists). */
  private async userByKeyNow(nameKey: string, level: 'majority' | 'local' = 'majority'): Promise<UserRecord | undefined> {
    const found = await this.users.findOne({ nameKey }, { readConcern: { level } });
    if (!found) return undefined;
    const { _id, guest: _guest, ...user } = found;
    return { id: _id, ...user };
  }

  private guard<T>(operation: () => Promise<T>): Promise<T> {
    return mongoOperation(this.isClosed, operation);
  }
}

function toReadMarker({ room, seq, epoch, at }: ReadMarker): ReadMarker {
  return { room, seq, epoch, at };
}

function toSession({ _id, expires: _expires, ...session }: SessionDocument): SessionRecord {
  return { hash: _id, ...session };
}
