// The MongoDB store, on the official driver. Each message is a document in `messages` whose _id is
// {room, seq}, with unique indexes on {room, seq} and {room, clientId}. A new message takes
// seq = head + 1, the head read with majority read concern, and the _id arbitrates between writers: seq
// has no holes even across instances, without transactions, and a rollback cannot take a seq another
// message was built on (see docs/scaling.md). Every read a reader or a resend depends on sees only
// majority-committed data, from the primary; every write waits for a majority, for at most the operation
// timeout. On a replica set or a sharded cluster the feed of new messages is a change stream, so every
// instance delivers what any instance wrote; on a standalone mongod the feed is local and one instance may run.
import { randomBytes } from 'node:crypto';
import {
  Binary,
  MongoClient,
  ReadPreference,
  type ChangeStream,
  type ChangeStreamDocument,
  type ChangeStreamOptions,
  type Collection,
  type CollectionOptions,
  type Db,
  type ResumeToken,
} from 'mongodb';
import type { Logger } from 'pino';
import { createAccountIndexes, MongoAccountStore } from '../accounts/mongo-store';
import { createRoomIndexes, MongoRoomStore } from '../rooms/mongo-store';
import { applyChange, refold } from '../changes/apply';
import { createFileIndexes, MongoFileStore } from '../files/mongo-store';
import type { ChatMessage } from '../protocol';
import { MongoSearch, SEARCH_INDEX, searchFields, WITHOUT_SEARCH_FIELDS } from '../search/mongo-index';
import { ChangeFeedState, type FeedRecovery, type MessageDocument } from './mongo-feed';
import { classifyWriteError, collisionDelayMs, deploymentOf, describeError, describeStartupError, READING_URI, type Deployment } from './mongo-errors';
import { databaseNameOf, redactUri } from './mongo-uri';
import { privateRoomsAfter } from './mongo-private-rooms';
import { RecentMap } from './recent-map';
import {
  StoreUnavailableError,
  type AppendListener,
  type AppendResult,
  type FeedGap,
  type FeedGapListener,
  type NewMessage,
  type Store,
} from './store';

export { redactUri } from './mongo-uri';

/** How long /healthz and /readyz wait for MongoDB before saying it does not answer. */
const PING_TIMEOUT_MS = 1000;
/** How often, at most, the log says that another process writes to a standalone mongod. */
const FOREIGN_WRITER_WARNING_MS = 60_000;
/** The events the feed follows: new messages, and every way the collection can go away. */
/** How often a change is applied again to a message that other changes keep changing, before the append fails (and is resent). */
const MATERIALIZE_ATTEMPTS = 20;
/** Messages a deleted room's log loses per delete: a window of this many seqs. */
const REMOVE_BATCH = 2000;
/** How many rooms' heads are cached; a room not written for a while reads its head again. */
const CACHED_HEADS = 10_000;
const FEED_PIPELINE = [
  { $match: { operationType: { $in: ['insert', 'drop', 'rename', 'dropDatabase', 'invalidate'] } } },
  // A message's search terms stay in the store: readers never get them.
  { $project: { 'fullDocument.terms': 0 } },
];
/** What a read of messages returns: the message, without the store's own fields. */
const MESSAGE_PROJECTION = { _id: 0, ...WITHOUT_SEARCH_FIELDS } as const;

interface MetaDocument {
  _id: string;
  value: string;
  /** In the epoch document: the UUID of the `messages` collection the epoch belongs to (see establish). */
  messages?: string;
}

interface QueuedAppend {
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

export interface MongoStoreOptions {
  /** How long to wait for a server before failing (default 5 s). */
  serverSelectionTimeoutMS?: number;
  /** How long a write may wait for a majority, and a read may run, before it fails (default 10 s). */
  operationTimeoutMs?: number;
  /** Database name when the URI names none (default `parley`). */
  dbName?: string;
  logger?: Logger;
}

/** Connects, creates the indexes, reads (or sets) the epoch. Throws StoreUnavailableError saying which step failed and why. */
export async function openMongoStore(uri: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
  const where = redactUri(uri);
  const operationTimeoutMs = options.operationTimeoutMs ?? 10_000;
  const step = async <T>(what: string, work: () => Promise<T> | T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw new StoreUnavailableError(describeStartupError(what, error, where));
    }
  };
  const { client, dbName } = await step(READING_URI, () => ({
    dbName: options.dbName ?? databaseNameOf(uri),
    client: new MongoClient(uri, {
      serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
      // A connection that stops answering (a network partition) fails its operation instead of holding it.
      socketTimeoutMS: operationTimeoutMs * 2,
    }),
  }));
  try {
    await step('connecting', () => client.connect());
    const db = client.db(dbName);
    const hello = await step('asking the server what it is (hello)', () => db.admin().command({ hello: 1 }));
    const store = new MongoStore(client, db, deploymentOf(hello), typeof hello.setName === 'string' ? hello.setName : undefined, operationTimeoutMs, options.logger);
    await step('creating the indexes and reading the epoch', () => store.establish());
    await step('opening the change stream', () => store.follow());
    store.backfillSearch();
    return store;
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
}

export class MongoStore implements Store {
  readonly kind = 'mongodb';
  /** Changes only when the database was wiped under the running store (see reestablish). */
  epoch = '';
  /** The UUID of the `messages` collection the epoch belongs to, as the epoch document records it. */
  private messagesUuid: string | undefined;
  readonly accounts: MongoAccountStore;
  readonly rooms: MongoRoomStore;
  readonly files: MongoFileStore;
  readonly search: MongoSearch;
  private readonly messages: Collection<MessageDocument>;
  private readonly meta: Collection<MetaDocument>;
  private readonly listeners = new Set<AppendListener>();
  private readonly gapListeners = new Set<FeedGapListener>();
  /** Appends waiting per room; each room has at most one batch in flight, so its seqs go in order. */
  private readonly queues = new Map<string, QueuedAppend[]>();
  private readonly writing = new Map<string, Promise<void>>();
  /**
   * The last seq this process knows per room, all majority-committed: never ahead of the database but
   * after a wipe, which the next write to the room notices (its head is gone).
   */
  private readonly heads = new RecentMap<string, number>(CACHED_HEADS);
  private readonly feed = new ChangeFeedState();
  /** Whether a change stream feeds the hub (replica set, sharded cluster) or this process does (standalone). */
  private readonly watching: boolean;
  private changeStream: ChangeStream<MessageDocument, ChangeStreamDocument<MessageDocument>> | undefined;
  /** The stream's position after its last batch (the post-batch resume token): a reopened stream goes on from it. */
  private resumeToken: ResumeToken | undefined;
  /** The last write MongoDB did not confirm, until one is: /readyz answers 503 meanwhile. */
  private writeFailure: string | undefined;
  /** Set while the store sets itself up again after a wipe; appends wait for it. */
  private reestablishing: Promise<void> | undefined;
  /**
   * Why the log is not set up (a wipe was found and setting it up again failed): writes are refused
   * store_unavailable and /readyz answers 503 until it is, retried with a backoff.
   */
  private notEstablished: string | undefined;
  /** Failed attempts to set the log up again in a row: the retry delay doubles with each. */
  private establishFailures = 0;
  private lastForeignWriterWarning = 0;
  /**
   * Standalone only: a write whose outcome is unknown may have stored messages this process never handed
   * to its hub (there is no change stream to carry them): once writes work again, readers read the store.
   */
  private unannouncedWrites = false;
  private closed = false;
  private wakeFeed: (() => void) | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    readonly deployment: Deployment,
    /** The replica set's name, or undefined on a standalone mongod or a sharded cluster. */
    readonly replicaSet: string | undefined,
    private readonly operationTimeoutMs: number,
    private readonly logger?: Logger,
  ) {
    // Majority reads from the primary: a reader never sees a seq that can roll back, and a lagging
    // secondary named in the URI's readPreference never answers for the log.
    const logOptions: CollectionOptions = {
      readConcern: { level: 'majority' },
      readPreference: ReadPreference.primary,
      writeConcern: { w: 'majority', journal: true, wtimeoutMS: operationTimeoutMs },
    };
    this.messages = db.collection<MessageDocument>('messages', logOptions);
    this.meta = db.collection<MetaDocument>('meta', logOptions);
    this.accounts = new MongoAccountStore(db, logOptions, () => this.closed);
    this.rooms = new MongoRoomStore(db, logOptions, () => this.closed);
    this.files = new MongoFileStore(db, logOptions, operationTimeoutMs, () => this.closed);
    this.search = new MongoSearch(this.messages, (operation) => this.guard(operation), operationTimeoutMs);
    this.watching = deployment !== 'standalone';
  }

  /**
   * Creates the indexes (first, so that no write lands in an unindexed collection), then reads or sets the
   * epoch. `replacing` is the epoch of a log found wiped: it is replaced by a new one, by whichever instance
   * gets there first (the replacement matches the old value only once), and every instance reads that one.
   */
  async establish(replacing?: string): Promise<void> {
    await this.messages.createIndexes([
      { key: { room: 1, seq: 1 }, unique: true, name: 'room_seq' },
      { key: { room: 1, clientId: 1 }, unique: true, name: 'room_clientId' },
      // The change entries of a message: what a delete empties. Partial: messages have no change.
      { key: { room: 1, 'change.target': 1 }, partialFilterExpression: { 'change.target': { $exists: true } }, name: 'room_changeTarget' },
      SEARCH_INDEX,
    ]);
    await createAccountIndexes(this.db);
    await createRoomIndexes(this.db);
    await createFileIndexes(this.db);
    // The epoch names the collection it belongs to: a `messages` re-created since (dropped while no
    // instance ran, or under them) has another UUID, which a stale read after an election cannot fake.
    const messages = await this.messagesIdentity();
    const renew = { $set: { value: randomBytes(8).toString('hex'), messages } };
    const timeLimit = { maxTimeMS: this.operationTimeoutMs };
    if (replacing) await this.meta.updateOne({ _id: 'epoch', value: replacing }, renew, timeLimit);
    const found = await this.meta.findOneAndUpdate(
      { _id: 'epoch' },
      { $setOnInsert: { value: randomBytes(8).toString('hex'), messages } },
      { upsert: true, returnDocument: 'after', ...timeLimit },
    );
    if (!found) throw new Error('the epoch document was not returned');
    if (found.messages === undefined) {
      await this.meta.updateOne({ _id: 'epoch', value: found.value, messages: { $exists: false } }, { $set: { messages } }, timeLimit);
    } else if (found.messages !== messages) {
      await this.meta.updateOne({ _id: 'epoch', value: found.value }, renew, timeLimit);
    }
    // Read in a session to learn the cluster time now: the feed starts from there, not from whenever the
    // change stream's first aggregate reaches the server, or a message stored in between would be missed;
    // and what the stream still carries from before is of a replaced log, or in what readers read (beginEpoch).
    const session = this.client.startSession();
    try {
      const epochDoc = await this.meta.findOne({ _id: 'epoch' }, { session, ...timeLimit });
      if (!epochDoc) throw new Error('the epoch document is gone');
      this.epoch = epochDoc.value;
      this.messagesUuid = epochDoc.messages;
      this.feed.beginEpoch(session.operationTime);
    } finally {
      await session.endSession();
    }
  }

  /** The UUID of the `messages` collection now (hex), or undefined when it does not exist. */
  private async messagesIdentity(): Promise<string | undefined> {
    const [info] = await this.db.listCollections({ name: 'messages' }, { nameOnly: false, readPreference: ReadPreference.primary }).toArray();
    const uuid: unknown = info && 'info' in info ? info.info?.uuid : undefined;
    return uuid instanceof Binary ? uuid.toString('hex') : undefined;
  }

  /** Whether `messages` is another collection than the one the epoch belongs to: the log was wiped. */
  private async logWasWiped(): Promise<boolean> {
    return (await this.messagesIdentity()) !== this.messagesUuid;
  }

  append(message: NewMessage): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(message.room) ?? [];
      queue.push({ message, resolve, reject });
      this.queues.set(message.room, queue);
      if (!this.writing.has(message.room)) this.writing.set(message.room, this.writeQueued(message.room));
    });
  }

  async readAfter(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    return this.guard(() =>
      this.messages
        .find({ room, seq: { $gt: after } }, { projection: MESSAGE_PROJECTION, maxTimeMS: this.operationTimeoutMs })
        .sort({ seq: 1 })
        .limit(limit)
        .toArray(),
    );
  }

  async readBefore(room: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
    const filter = before === undefined ? { room } : { room, seq: { $lt: before } };
    const newestFirst = await this.guard(() =>
      this.messages.find(filter, { projection: MESSAGE_PROJECTION, maxTimeMS: this.operationTimeoutMs }).sort({ seq: -1 }).limit(limit).toArray(),
    );
    return newestFirst.reverse();
  }

  async byClientId(room: string, clientId: string): Promise<ChatMessage | undefined> {
    const found = await this.guard(() => this.messages.findOne({ room, clientId }, { projection: { _id: 0 }, maxTimeMS: this.operationTimeoutMs }));
    return found ?? undefined;
  }

  async head(room: string): Promise<number> {
    return this.guard(() => this.lastSeq(room));
  }

  async removeRoomLog(room: string): Promise<number> {
    let removed = 0;
    for (;;) {
      // A window of seqs at a time from the first left, on the room_seq index: each delete bounded, its
      // majority wait too. The search terms are fields of the messages: they go with them.
      const first = await this.guard(() =>
        this.messages.findOne({ room }, { projection: { _id: 0, seq: 1 }, sort: { seq: 1 }, maxTimeMS: this.operationTimeoutMs }),
      );
      if (!first) break;
      removed += (await this.guard(() => this.messages.deleteMany({ room, seq: { $lt: first.seq + REMOVE_BATCH } }))).deletedCount;
    }
    this.heads.delete(room);
    return removed;
  }

  privateRoomsWithLogs(after: string | undefined, limit: number): Promise<string[]> {
    // From one room to the next on the room_seq index.
    return privateRoomsAfter(
      async (range) =>
        (await this.guard(() => this.messages.findOne({ room: range }, { projection: { _id: 0, room: 1 }, sort: { room: 1, seq: 1 }, maxTimeMS: this.operationTimeoutMs })))?.room,
      after,
      limit,
    );
  }

  /**
   * Resolves when MongoDB answers within PING_TIMEOUT_MS, the feed is live, and the last write was
   * confirmed by a majority (or a probe write now is). Notices a wipe: the epoch document is gone.
   */
  async ping(): Promise<void> {
    await this.guard(() => withTimeout(this.check(), PING_TIMEOUT_MS, `MongoDB did not answer within ${PING_TIMEOUT_MS} ms`));
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onFeedGap(listener: FeedGapListener): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing.size > 0) await Promise.all(this.writing.values());
    this.wakeFeed?.();
    await this.changeStream?.close().catch(() => undefined);
    await this.client.close();
  }

  /**
   * In the background: gives search terms to the messages stored before search existed (once: a flag in
   * `meta` says it was done). A failure is logged, and the next start tries again; searches meanwhile find
   * the messages that have their terms.
   */
  backfillSearch(): void {
    void (async () => {
      try {
        if ((await this.meta.findOne({ _id: 'searchBackfill' }))?.value === 'done') return;
        const count = await this.search.backfill(() => this.closed);
        if (this.closed) return;
        await this.meta.updateOne({ _id: 'searchBackfill' }, { $set: { value: 'done' } }, { upsert: true });
        if (count > 0) this.logger?.info({ count }, 'search terms given to the messages stored before search');
      } catch (error) {
        if (!this.closed) this.logger?.warn({ err: error }, 'the search backfill stopped; it goes on at the next start');
      }
    })();
  }

  /** What ping checks, without its time limit. */
  private async check(): Promise<void> {
    if (this.notEstablished !== undefined) throw new StoreUnavailableError(this.notEstablished);
    if (this.watching && !this.feed.live) throw new StoreUnavailableError(`the feed of new messages is down: ${this.feed.reason}`);
    if (this.writeFailure !== undefined) {
      // A probe write with the writes' own concern: ready again only once a majority confirms one.
      try {
        await this.meta.updateOne({ _id: 'probe' }, { $set: { value: new Date().toISOString() } }, { upsert: true });
        this.writeFailure = undefined;
      } catch (error) {
        throw new StoreUnavailableError(`writes are not confirmed by a majority: ${describeError(error)}`);
      }
    }
    const epochDoc = await this.meta.findOne({ _id: 'epoch' }, { maxTimeMS: PING_TIMEOUT_MS });
    if (!epochDoc) await this.reestablish('the epoch document is gone', this.epoch);
    else if (epochDoc.value !== this.epoch) await this.reestablish('another instance found the log wiped and set a new epoch');
    else if (await this.logWasWiped()) await this.reestablish('the messages collection was dropped and created again', this.epoch);
    if (this.notEstablished !== undefined) throw new StoreUnavailableError(this.notEstablished);
  }

  /** The room's last seq in the database. Not refused after close(): appends accepted before it still finish. */
  private async lastSeq(room: string): Promise<number> {
    const last = await this.messages.findOne({ room }, { projection: { _id: 0, seq: 1 }, sort: { seq: -1 }, maxTimeMS: this.operationTimeoutMs });
    return last?.seq ?? 0;
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    try {
      return await operation();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`MongoDB failed: ${describeError(error)}`);
    }
  }

  /** Writes a room's queued messages, a batch at a time, until its queue is empty. */
  private async writeQueued(room: string): Promise<void> {
    for (let batch = this.queues.get(room); batch && batch.length > 0; batch = this.queues.get(room)) {
      this.queues.set(room, []);
      try {
        const results = await this.appendBatch(room, batch.map((queued) => queued.message));
        // A resend of a change applies it again: that completes one whose first attempt failed half way.
        for (const result of results) if (result.message.change) result.message = await this.materialize(result.message);
        this.writeFailure = undefined;
        if (this.unannouncedWrites) {
          this.unannouncedWrites = false;
          this.signalGap('missed');
        }
        batch.forEach((queued, i) => queued.resolve(results[i] as AppendResult));
      } catch (error) {
        const failure = error instanceof StoreUnavailableError ? error : new StoreUnavailableError(`MongoDB failed: ${describeError(error)}`);
        for (const queued of batch) queued.reject(failure);
      }
    }
    this.queues.delete(room);
    this.writing.delete(room);
  }

  /**
   * Stores a batch of one room's messages in order, turning resends into their originals. A lost seq race
   * is retried after a short, growing, jittered pause, until the operation timeout; any other failure
   * rejects the whole batch, since MongoDB may or may not keep what it took (the client resends, and the
   * clientId index turns what was kept into the original).
   */
  private async appendBatch(room: string, batch: NewMessage[]): Promise<AppendResult[]> {
    const results: (AppendResult | undefined)[] = new Array(batch.length);
    const deadline = Date.now() + this.operationTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      await this.reestablishing;
      if (this.notEstablished !== undefined) throw new StoreUnavailableError(this.notEstablished);
      const pending = batch.map((message, i) => ({ message, i })).filter(({ i }) => results[i] === undefined);
      if (pending.length === 0) return results as AppendResult[];

      // One read finds the resends (a clientId already stored) and checks the cached head is still there.
      const clientIds = new Set(pending.map(({ message }) => message.clientId));
      const cachedHead = this.heads.get(room);
      const found = await this.messages
        .find(
          { room, $or: [{ clientId: { $in: [...clientIds] } }, ...(cachedHead ? [{ seq: cachedHead }] : [])] },
          { projection: MESSAGE_PROJECTION, maxTimeMS: this.operationTimeoutMs },
        )
        .toArray();
      if (cachedHead && !found.some((message) => message.seq === cachedHead)) {
        // A wipe, or only a majority snapshot behind this process (a new primary catching up): the
        // collection's identity tells them apart, and in the second case the head is read again.
        if (await this.logWasWiped()) await this.reestablish(`message ${cachedHead} of room ${room} is gone, and so is its collection`, this.epoch);
        else this.heads.delete(room);
        continue;
      }
      const byClientId = new Map(found.filter((message) => clientIds.has(message.clientId)).map((message) => [message.clientId, message]));
      const fresh: { doc: ChatMessage; i: number }[] = [];
      const firstInBatch = new Map<string, number>();
      let seq = cachedHead ?? (await this.lastSeq(room));
      for (const { message, i } of pending) {
        const original = byClientId.get(message.clientId);
        if (original) {
          results[i] = { message: original, duplicate: true };
        } else if (!firstInBatch.has(message.clientId)) {
          firstInBatch.set(message.clientId, i);
          fresh.push({ doc: { ...message, seq: ++seq, at: Date.now() }, i });
        } // else: a repeat within the batch, resolved below once its first copy is stored
      }

      let inserted = fresh.length;
      if (fresh.length > 0) {
        try {
          // Copies with their _id, so that the messages acked and handed on stay without one.
          await this.messages.insertMany(fresh.map(({ doc }) => ({ _id: { room: doc.room, seq: doc.seq }, ...doc, ...searchFields(doc) })), { ordered: true });
        } catch (error) {
          this.heads.delete(room);
          const outcome = classifyWriteError(error);
          if (outcome.kind === 'unknown') {
            this.writeFailure = outcome.reason;
            if (!this.watching) this.unannouncedWrites = true;
            throw new StoreUnavailableError(`MongoDB did not confirm the write: ${outcome.reason}`);
          }
          inserted = outcome.inserted;
          this.noticeForeignWriter(room);
        }
      }
      const stored = fresh.slice(0, inserted);
      for (const { doc, i } of stored) results[i] = { message: doc, duplicate: false };
      // After a lost race another writer is ahead: the next attempt reads the head rather than trust this one.
      if (inserted > 0 && inserted === fresh.length) this.heads.set(room, Math.max(this.heads.get(room) ?? 0, stored.at(-1)!.doc.seq));
      // No change stream on a standalone: this process is the only writer, so it feeds its own hub.
      if (!this.watching && stored.length > 0) this.emit(stored.map(({ doc }) => doc));
      // Later copies of a clientId in this batch become the first copy's message.
      batch.forEach((message, i) => {
        const first = firstInBatch.get(message.clientId);
        const original = first === undefined ? undefined : results[first];
        if (results[i] === undefined && first !== i && original) results[i] = { message: original.message, duplicate: true };
      });
      if (inserted === fresh.length) continue;
      const pause = collisionDelayMs(attempt);
      if (Date.now() + pause > deadline) {
        throw new StoreUnavailableError(
          `could not get a seq in room ${room} within ${this.operationTimeoutMs} ms: the next seq stayed taken (by other writers, or by a write a majority read does not show yet)`,
        );
      }
      await sleep(pause);
    }
  }

  /**
   * Applies the stored change entry `entry` to its target's record (server/changes/apply.ts), after the
   * entry is stored: the log is the truth and this is a copy of it. Not one transaction (a standalone has
   * none), but an order that is right when it stops half way: the entry is stored, the append rejects, the
   * client resends it, and the resend (a duplicate) runs this again, which finishes the job and changes
   * nothing done before (an entry the record reflects is skipped). The record is replaced only if no other
   * change landed since it was read (lastChange), else read again. A delete marks the target first, then
   * empties its edits: an edit stored meanwhile either is among them or finds the target deleted and
   * empties itself.
   * Two instances storing changes to one message in the same instant may get here out of seq order: the
   * later one finds the record past its entry and applies them all again from the log (refold).
   */
  private async materialize(entry: ChatMessage): Promise<ChatMessage> {
    const { room, change } = entry;
    if (!change) return entry;
    const options = { maxTimeMS: this.operationTimeoutMs };
    let target: ChatMessage | null = null;
    let changed: ChatMessage | undefined;
    for (let attempt = 1; ; attempt++) {
      target = await this.messages.findOne({ room, seq: change.target }, { projection: MESSAGE_PROJECTION, ...options });
      if (!target) return entry;
      changed = applyChange(target, entry);
      // A change stored before one the record reflects already (another instance applied its own first):
      // every change of the message is applied again from the log, in seq order.
      if (changed === target && entry.seq < (target.lastChange ?? 0)) changed = await this.refoldFromLog(target);
      if (changed === target) break;
      // With its search terms made again: an edit is found by its new words, a deleted message by none.
      const record = { ...changed, ...searchFields(changed) };
      const replaced = await this.messages.replaceOne({ room, seq: target.seq, lastChange: target.lastChange ?? { $exists: false } }, record, options);
      if (replaced.matchedCount === 1) break;
      if (attempt >= MATERIALIZE_ATTEMPTS) throw new StoreUnavailableError(`message ${target.seq} of room ${room} kept changing while a change was applied`);
    }
    if (change.kind === 'delete') {
      await this.messages.updateMany({ room, 'change.target': target.seq, 'change.kind': 'edit', text: { $ne: '' } }, { $set: { text: '' } }, options);
    } else if (change.kind === 'edit' && (changed ?? target).deleted && entry.text !== '') {
      await this.messages.updateOne({ room, seq: entry.seq }, { $set: { text: '' } }, options);
      return { ...entry, text: '' };
    }
    return entry;
  }

  /** `target` as every change entry of it in the log leaves it (see refold). */
  private async refoldFromLog(target: ChatMessage): Promise<ChatMessage> {
    const changes = await this.messages
      .find({ room: target.room, 'change.target': target.seq }, { projection: MESSAGE_PROJECTION, maxTimeMS: this.operationTimeoutMs })
      .sort({ seq: 1 })
      .toArray();
    return refold(target, changes);
  }

  /** A seq race on a standalone mongod means a second process writes to it, whose messages this one never delivers live. */
  private noticeForeignWriter(room: string): void {
    if (this.watching || Date.now() - this.lastForeignWriterWarning < FOREIGN_WRITER_WARNING_MS) return;
    this.lastForeignWriterWarning = Date.now();
    this.logger?.error(
      { room },
      'another process writes to this standalone mongod: its messages do not reach this instance\'s readers live. Run one instance, or make the mongod a replica set',
    );
  }

  /**
   * The database was wiped (or the collection dropped) under the running store: forget the cached heads,
   * create the indexes again, take the new epoch (replacing `wipedEpoch`, or the one another instance set),
   * and have every reader check its cursor: it gets a reset. One at a time; appends wait for it. Should it
   * fail, the store refuses writes and is not ready (notEstablished) until a retry, with a backoff, succeeds.
   */
  private reestablish(reason: string, wipedEpoch?: string): Promise<void> {
    this.reestablishing ??= (async () => {
      this.logger?.warn({ reason }, 'the MongoDB message log was wiped; setting it up again (new epoch)');
      this.notEstablished = `the message log is being set up again: ${reason}`;
      this.heads.clear();
      try {
        await this.establish(wipedEpoch);
      } catch (error) {
        this.notEstablished = `the message log could not be set up again after a wipe (${describeError(error)})`;
        this.logger?.error({ err: error }, 'could not set the MongoDB message log up again; writes are refused until it is');
        this.retryEstablish(reason, wipedEpoch);
        return;
      } finally {
        this.reestablishing = undefined;
      }
      this.notEstablished = undefined;
      this.establishFailures = 0;
      this.signalGap('missed');
    })();
    return this.reestablishing;
  }

  /** Tries reestablish again once a delay has passed that doubles with each failure, up to 10 s. */
  private retryEstablish(reason: string, wipedEpoch: string | undefined): void {
    const delayMs = Math.min(10_000, 250 * 2 ** this.establishFailures++);
    setTimeout(() => {
      if (!this.closed && this.notEstablished !== undefined) void this.reestablish(reason, wipedEpoch);
    }, delayMs).unref();
  }

  /**
   * Starts following the change stream (replica set, sharded cluster), until close. Resolves once the
   * stream first answers; rejects if that first attempt fails (the store cannot start without its feed).
   */
  follow(): Promise<void> {
    if (!this.watching) return Promise.resolve();
    return new Promise((resolve, reject) => void this.followChanges(resolve, reject));
  }

  private async followChanges(started: () => void, failedToStart: (error: unknown) => void): Promise<void> {
    let from: 'position' | 'now' = 'position';
    let everOpened = false;
    const opened = () => {
      everOpened = true;
      started();
    };
    while (!this.closed) {
      let recovery: FeedRecovery;
      try {
        recovery = await this.followStream(from, opened, everOpened);
      } catch (error) {
        if (this.closed) return;
        if (!everOpened) {
          failedToStart(error);
          return;
        }
        recovery = this.feed.failed(error);
      }
      if (this.closed) return;
      this.logger?.warn({ reason: recovery.reason, retryInMs: recovery.delayMs, action: recovery.action }, 'the MongoDB change stream ended; reopening it');
      if (recovery.action === 'restart') this.resumeToken = undefined;
      from = recovery.action === 'restart' ? 'now' : 'position';
      await new Promise<void>((resolve) => {
        this.wakeFeed = resolve;
        setTimeout(resolve, recovery.delayMs).unref();
      });
    }
  }

  /**
   * Opens the stream, reads it until it ends, closes it, and returns how to go on; throws what the stream
   * threw. A failure outside the stream (a throwing listener, watch() itself, setting the log up again) is
   * logged and read as a lost position, so the loop goes on and readers read the store.
   */
  private async followStream(from: 'position' | 'now', opened: () => void, openedBefore: boolean): Promise<FeedRecovery> {
    let stream: ChangeStream<MessageDocument, ChangeStreamDocument<MessageDocument>> | undefined;
    let streamFailed = false;
    try {
      stream = this.messages.watch(FEED_PIPELINE, this.streamOptions(from));
      this.changeStream = stream;
      return await this.readStream(stream, from === 'now', opened, () => (streamFailed = true));
    } catch (error) {
      if (streamFailed || this.closed || !openedBefore) throw error;
      this.logger?.error({ err: error }, 'the MongoDB feed failed outside its change stream; restarting it');
      const recovery = this.feed.failed(error);
      return { ...recovery, action: 'restart' };
    } finally {
      // Long-polls waiting on the hub's last batch must read the store while the feed is down: said before
      // the close, which can wait for a server to be selected.
      if (!this.closed) this.signalGap('stopped');
      await stream?.close().catch(() => undefined);
    }
  }

  /**
   * Where a stream opens: after its last position; at the cluster time the epoch was set up, when it has
   * none in this epoch; with no start option after the position was lost (the `missed` gap is signalled
   * once it is open).
   */
  private streamOptions(from: 'position' | 'now'): ChangeStreamOptions {
    if (from === 'now') return {};
    if (this.resumeToken) return { resumeAfter: this.resumeToken };
    const start = this.feed.epochStart;
    return start ? { startAtOperationTime: start } : {};
  }

  /**
   * Hands on the stream's events a batch at a time (one call to the hub per batch, so one frame per reader),
   * until the stream ends; returns how to go on. The stream is open once the server answered its first
   * aggregate, which sets a position (the driver's resumeTokenChanged), or once it handed on an event.
   */
  private async readStream(
    stream: ChangeStream<MessageDocument, ChangeStreamDocument<MessageDocument>>,
    afterGap: boolean,
    opened: () => void,
    streamFailed: () => void,
  ): Promise<FeedRecovery> {
    const next = async () => {
      try {
        return await stream.tryNext();
      } catch (error) {
        streamFailed();
        throw error;
      }
    };
    let isOpen = false;
    const open = () => {
      if (isOpen || this.closed) return;
      isOpen = true;
      this.feed.opened();
      opened();
      // Reopened from now after losing the position: readers read what they missed from the store.
      if (afterGap) this.signalGap('missed');
    };
    stream.on('resumeTokenChanged', (token: ResumeToken) => {
      this.resumeToken = token;
      open();
    });
    for (;;) {
      const first = await next();
      if (this.closed) return { action: 'resume', delayMs: 0, reason: 'closed' };
      open();
      const events = first ? [first] : [];
      while (stream.bufferedCount() > 0) {
        const event = await next();
        if (event) events.push(event);
      }
      const step = this.feed.received(events);
      for (const message of step.messages) this.heads.set(message.room, Math.max(this.heads.get(message.room) ?? 0, message.seq));
      if (step.messages.length > 0) this.emit(step.messages);
      this.resumeToken = stream.resumeToken ?? this.resumeToken;
      if (step.wiped) await this.reestablish(step.wiped, this.epoch);
      const ended = step.wiped ?? step.outlived;
      if (ended) {
        // The log this stream followed is gone, and the stream with it. It reopens at the start of the
        // epoch that replaced the log (set up just now, or before, by an append or a health check that
        // found the wipe first): all of the new log, none of the old, and no gap. While the log is not
        // set up again there is no such start: from now, with a gap, as after a lost position.
        this.resumeToken = undefined;
        return { action: this.notEstablished === undefined ? 'resume' : 'restart', delayMs: 0, reason: ended };
      }
      if (!first && stream.closed) return this.feed.closed();
    }
  }

  /** Tells every gap listener; one that throws is logged, and neither stops the others nor the feed. */
  private signalGap(gap: FeedGap): void {
    for (const listener of this.gapListeners) {
      try {
        listener(gap);
      } catch (error) {
        this.logger?.error({ err: error, gap }, 'a feed gap listener failed');
      }
    }
  }

  private emit(messages: readonly ChatMessage[]): void {
    for (const listener of this.listeners) listener(messages);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `work`, or a rejection with `message` once `ms` have passed (the work goes on unobserved). */
function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreUnavailableError(message)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
