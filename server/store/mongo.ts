// The MongoDB store, on the official driver. Each message is a document in `messages`, with unique
// indexes on {room, seq} and {room, clientId}. A new message takes seq = head + 1 and the unique index
// arbitrates between writers, so seq has no holes even across instances and without transactions.
// On a replica set the feed of new messages is a change stream, so every instance delivers what any
// instance wrote; on a standalone mongod the feed is local and the server runs as a single instance.
import { randomBytes } from 'node:crypto';
import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type ChangeStream,
  type ChangeStreamInsertDocument,
  type Collection,
  type Db,
  type ResumeToken,
  type Timestamp,
  type WriteConcernSettings,
} from 'mongodb';
import type { Logger } from 'pino';
import { createAccountIndexes, MongoAccountStore } from '../accounts/mongo-store';
import type { ChatMessage } from '../protocol';
import {
  StoreUnavailableError,
  type AppendListener,
  type AppendResult,
  type NewMessage,
  type Store,
  newlyStored,
} from './store';

const DUPLICATE_KEY = 11000;
/** The change stream cannot resume from the saved token: the oplog no longer holds that point. */
const HISTORY_LOST = [280, 286];
/** How often an instance saves its change-stream position (at most). */
const SAVE_RESUME_TOKEN_MS = 1000;
/** How many times a batch retries after losing a seq race to another writer before giving up. */
const MAX_SEQ_RETRIES = 50;

interface MetaDocument {
  _id: string;
  value: string;
}

/** One instance's position in the change stream, saved so that a restart resumes from it. */
interface InstanceDocument {
  _id: string;
  resumeToken: ResumeToken;
  savedAt: Date;
}

interface QueuedAppend {
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

export interface MongoStoreOptions {
  /** How long to wait for a server before failing (default 5 s). */
  serverSelectionTimeoutMS?: number;
  /** Database name when the URI names none (default `parley`). */
  dbName?: string;
  logger?: Logger;
  /** Names this instance: its change-stream position is saved under this id (default `default`). */
  instanceId?: string;
}

/** Connects, creates the indexes, and reads (or sets) the epoch. Throws StoreUnavailableError if MongoDB does not answer. */
export async function openMongoStore(uri: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000 });
  try {
    await client.connect();
    const db = client.db(options.dbName ?? (new URL(uri.replace(/^mongodb(\+srv)?:/, 'http:')).pathname.slice(1) || 'parley'));
    const hello = await db.admin().command({ hello: 1 });
    const replicaSet = typeof hello.setName === 'string' ? hello.setName : undefined;
    const messages = db.collection<ChatMessage>('messages');
    await messages.createIndexes([
      { key: { room: 1, seq: 1 }, unique: true, name: 'room_seq' },
      { key: { room: 1, clientId: 1 }, unique: true, name: 'room_clientId' },
    ]);
    await createAccountIndexes(db);
    const meta = db.collection<MetaDocument>('meta');
    // The epoch is read in a session to learn the cluster time now: the feed starts from there, not from
    // whenever the change stream's first aggregate reaches the server, or a message stored in between
    // would never reach this instance's hub.
    const session = client.startSession();
    let epochDoc: MetaDocument | null;
    let feedStart: Timestamp | undefined;
    try {
      epochDoc = await meta.findOneAndUpdate(
        { _id: 'epoch' },
        { $setOnInsert: { value: randomBytes(8).toString('hex') } },
        { upsert: true, returnDocument: 'after', session },
      );
      feedStart = session.operationTime;
    } finally {
      await session.endSession();
    }
    if (!epochDoc) throw new Error('could not read the epoch document');
    const instanceId = options.instanceId ?? 'default';
    const saved = replicaSet ? await db.collection<InstanceDocument>('instances').findOne({ _id: instanceId }) : null;
    return new MongoStore(client, db, epochDoc.value, replicaSet, options.logger, feedStart, instanceId, saved?.resumeToken);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw new StoreUnavailableError(`MongoDB did not answer at ${redactUri(uri)}: ${(error as Error).message}`);
  }
}

export class MongoStore implements Store {
  readonly kind = 'mongodb';
  readonly accounts: MongoAccountStore;
  private readonly messages: Collection<ChatMessage>;
  private readonly writeConcern: WriteConcernSettings;
  private readonly listeners = new Set<AppendListener>();
  /** Appends waiting per room; each room has at most one batch in flight, so its seqs go in order. */
  private readonly queues = new Map<string, QueuedAppend[]>();
  private readonly writing = new Map<string, Promise<void>>();
  /** Last seq this process knows per room; never ahead of the database, so a stale value only costs a retry. */
  private readonly heads = new Map<string, number>();
  private changeStream: ChangeStream<ChatMessage, ChangeStreamInsertDocument<ChatMessage>> | undefined;
  private resumeToken: ResumeToken | undefined;
  private readonly instances: Collection<InstanceDocument>;
  /** The token last written to `instances`, and the timer that writes the next. */
  private savedToken: ResumeToken | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    readonly epoch: string,
    /** The replica set's name, or undefined on a standalone mongod. */
    readonly replicaSet: string | undefined,
    private readonly logger?: Logger,
    /** Where the change stream starts before it has a resume token (the cluster time at open). */
    private feedStart?: Timestamp,
    private readonly instanceId = 'default',
    /** The position this instance saved before it last stopped: the change stream resumes from there. */
    savedToken?: ResumeToken,
  ) {
    this.messages = db.collection<ChatMessage>('messages');
    this.instances = db.collection<InstanceDocument>('instances');
    this.resumeToken = savedToken;
    this.savedToken = savedToken;
    // Ack only once a majority holds the write (on a replica set), or the journal does (standalone).
    this.writeConcern = replicaSet ? { w: 'majority', journal: true } : { w: 1, journal: true };
    this.accounts = new MongoAccountStore(db, this.writeConcern, () => this.closed);
    if (replicaSet) this.watch();
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
      this.messages.find({ room, seq: { $gt: after } }, { projection: { _id: 0 } }).sort({ seq: 1 }).limit(limit).toArray(),
    );
  }

  async readBefore(room: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
    const filter = before === undefined ? { room } : { room, seq: { $lt: before } };
    const newestFirst = await this.guard(() =>
      this.messages.find(filter, { projection: { _id: 0 } }).sort({ seq: -1 }).limit(limit).toArray(),
    );
    return newestFirst.reverse();
  }

  async head(room: string): Promise<number> {
    return this.guard(() => this.lastSeq(room));
  }

  /** The room's last seq in the database. Not refused after close(): appends accepted before it still finish. */
  private async lastSeq(room: string): Promise<number> {
    const last = await this.messages.findOne({ room }, { projection: { _id: 0, seq: 1 }, sort: { seq: -1 } });
    return last?.seq ?? 0;
  }

  async ping(): Promise<void> {
    await this.guard(() => this.db.command({ ping: 1 }));
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing.size > 0) await Promise.all(this.writing.values());
    await this.changeStream?.close().catch(() => undefined);
    clearTimeout(this.saveTimer);
    await this.saveResumeToken();
    await this.client.close();
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    try {
      return await operation();
    } catch (error) {
      throw new StoreUnavailableError(`MongoDB failed: ${(error as Error).message}`);
    }
  }

  /** Writes a room's queued messages, a batch at a time, until its queue is empty. */
  private async writeQueued(room: string): Promise<void> {
    for (let batch = this.queues.get(room); batch && batch.length > 0; batch = this.queues.get(room)) {
      this.queues.set(room, []);
      try {
        const results = await this.appendBatch(room, batch.map((queued) => queued.message));
        if (!this.replicaSet) {
          // No change stream on a standalone: this process is the only writer, so it feeds its own hub.
          const stored = newlyStored(results);
          if (stored.length > 0) this.emit(stored);
        }
        batch.forEach((queued, i) => queued.resolve(results[i] as AppendResult));
      } catch (error) {
        const failure = error instanceof StoreUnavailableError ? error : new StoreUnavailableError(`MongoDB failed: ${(error as Error).message}`);
        for (const queued of batch) queued.reject(failure);
      }
    }
    this.queues.delete(room);
    this.writing.delete(room);
  }

  /** Stores a batch of one room's messages in order, turning resends into their originals. */
  private async appendBatch(room: string, batch: NewMessage[]): Promise<AppendResult[]> {
    const results: (AppendResult | undefined)[] = new Array(batch.length);
    for (let attempt = 0; attempt < MAX_SEQ_RETRIES; attempt++) {
      const pending = batch.map((message, i) => ({ message, i })).filter(({ i }) => results[i] === undefined);
      if (pending.length === 0) return results as AppendResult[];

      // Resends: a clientId already stored, or repeated within this batch, is the original message.
      const stored = await this.messages
        .find({ room, clientId: { $in: pending.map(({ message }) => message.clientId) } }, { projection: { _id: 0 } })
        .toArray();
      const byClientId = new Map(stored.map((message) => [message.clientId, message]));
      const fresh: { doc: ChatMessage; i: number }[] = [];
      const firstInBatch = new Map<string, number>();
      let seq = this.heads.get(room) ?? (await this.lastSeq(room));
      for (const { message, i } of pending) {
        const original = byClientId.get(message.clientId);
        if (original) {
          results[i] = { message: original, duplicate: true };
        } else if (firstInBatch.has(message.clientId)) {
          continue; // resolved below, once its first copy is stored
        } else {
          firstInBatch.set(message.clientId, i);
          fresh.push({ doc: { ...message, seq: ++seq, at: Date.now() }, i });
        }
      }
      if (fresh.length === 0) continue;

      let inserted = fresh.length;
      try {
        // insertMany adds _id to the documents it is given: hand it copies so the messages stay clean.
        await this.messages.insertMany(
          fresh.map(({ doc }) => ({ ...doc })),
          { ordered: true, writeConcern: this.writeConcern },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Another writer took a seq or stored one of these clientIds first: keep what went in, retry the rest.
        inserted = error instanceof MongoBulkWriteError ? error.insertedCount : 0;
        this.heads.delete(room);
      }
      for (const { doc, i } of fresh.slice(0, inserted)) results[i] = { message: doc, duplicate: false };
      if (inserted > 0) this.heads.set(room, Math.max(this.heads.get(room) ?? 0, fresh[inserted - 1]!.doc.seq));
      // Later copies of a clientId in this batch become the first copy's message.
      batch.forEach((message, i) => {
        const first = firstInBatch.get(message.clientId);
        const stored = first === undefined ? undefined : results[first];
        if (results[i] === undefined && first !== i && stored) results[i] = { message: stored.message, duplicate: true };
      });
    }
    throw new StoreUnavailableError(`could not get a seq in room ${room} after ${MAX_SEQ_RETRIES} tries`);
  }

  /** Follows inserts into `messages` and emits them; on an error, resumes after the last one seen. */
  private watch(): void {
    if (this.closed) return;
    const stream = this.messages.watch<ChatMessage, ChangeStreamInsertDocument<ChatMessage>>(
      [{ $match: { operationType: 'insert' } }],
      this.resumeToken
        ? { resumeAfter: this.resumeToken }
        : this.feedStart
          ? { startAtOperationTime: this.feedStart }
          : {},
    );
    this.changeStream = stream;
    stream.on('change', (change) => {
      this.resumeToken = change._id;
      this.saveTimer ??= setTimeout(() => void this.saveResumeToken(), SAVE_RESUME_TOKEN_MS).unref();
      const { _id, ...message } = change.fullDocument as ChatMessage & { _id?: unknown };
      this.heads.set(message.room, Math.max(this.heads.get(message.room) ?? 0, message.seq));
      this.emit([message]);
    });
    stream.on('error', (error) => {
      if (this.closed) return;
      if (error instanceof MongoServerError && HISTORY_LOST.includes(Number(error.code))) {
        // The saved position fell off the oplog (a long stop): follow from now. Readers lose nothing,
        // since they resume from their own cursors in the store; only this hub's feed skips ahead.
        this.logger?.warn({ err: error }, 'MongoDB change stream cannot resume from the saved position; following from now');
        this.resumeToken = undefined;
        this.feedStart = undefined;
      } else {
        this.logger?.warn({ err: error }, 'MongoDB change stream failed; resuming in 1 s');
      }
      void stream.close().catch(() => undefined);
      setTimeout(() => this.watch(), 1000).unref();
    });
  }

  /** Writes this instance's change-stream position to `instances`, if it moved since the last write. */
  private async saveResumeToken(): Promise<void> {
    this.saveTimer = undefined;
    const token = this.resumeToken;
    if (token === undefined || token === this.savedToken) return;
    try {
      await this.instances.updateOne({ _id: this.instanceId }, { $set: { resumeToken: token, savedAt: new Date() } }, { upsert: true });
      this.savedToken = token;
    } catch (error) {
      this.logger?.warn({ err: error }, 'could not save the change-stream position; will try again');
    }
  }

  private emit(messages: readonly ChatMessage[]): void {
    for (const listener of this.listeners) listener(messages);
  }
}

function isDuplicateKey(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) return error.writeErrors instanceof Array ? error.writeErrors.every((e) => e.code === DUPLICATE_KEY) : error.code === DUPLICATE_KEY;
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/** The URI without its password, for logs and errors. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
