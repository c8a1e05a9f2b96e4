// The MongoDB store's decisions at the driver boundary, with no MongoDB: each error built with the driver's
// own classes the way the driver builds it (an insertMany failure goes through the driver's own
// mergeBatchResults and BulkWriteResult, as its executeCommands does), each URI read by the driver's own
// parser, each change-stream event and error fed to the feed's state machine. No driver is mocked and no
// server faked; where a real connection is needed, it is refused by 127.0.0.1:1.
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MongoBulkWriteError,
  type BulkWriteResult,
  MongoClient,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
  Timestamp,
  UUID,
  type ChangeStreamDropDatabaseDocument,
  type ChangeStreamDropDocument,
  type ChangeStreamInsertDocument,
  type ChangeStreamInvalidateDocument,
  type ChangeStreamRenameDocument,
  type ChangeStreamUpdateDocument,
  type Document,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ChangeFeedState, type MessageDocument } from '../server/store/mongo-feed';
import { classifyWriteError, collisionDelayMs, deploymentOf, describeStartupError, READING_URI } from '../server/store/mongo-errors';
import { databaseNameOf, redactUri } from '../server/store/mongo-uri';
import { RecentMap } from '../server/store/recent-map';
import { MongoStore, openMongoStore } from '../server/store/mongo';
import { StoreUnavailableError } from '../server/store/store';
import { loadConfig } from '../server/config';
import { checkCursor } from '../server/roomlog';
import { openEmbeddedStore } from '../server/store/embedded';
import { OutageStore } from './outage-store';

// ---- insertMany's errors, built by the driver's own bulk code -----------------------------------

interface DriverBulk {
  BulkWriteResult: new (bulkResult: Document, ordered: boolean) => BulkWriteResult;
  Batch: new (batchType: number, originalZeroIndex: number) => { operations: Document[]; originalIndexes: number[] };
  BatchType: { INSERT: number };
  mergeBatchResults: (batch: unknown, bulkResult: Document, err: unknown, result: unknown) => void;
}
// The driver's own internals, where its public index exports only their types.
const requireFromDriver = createRequire(import.meta.url);
const driverBulk = requireFromDriver('mongodb/lib/bulk/common.js') as DriverBulk;
const { TopologyDescription } = requireFromDriver('mongodb/lib/sdam/topology_description.js') as {
  TopologyDescription: new (type: string, servers: null, setName: string) => ConstructorParameters<typeof MongoServerSelectionError>[1];
};
const newBulkWriteResult = (bulkResult: Document, ordered: boolean) => new driverBulk.BulkWriteResult(bulkResult, ordered);

/**
 * What an ordered insertMany of `count` documents throws when the insert command answers `response`
 * (a server reply with ok: 1) or fails with `thrown`: the steps of executeCommands and handleWriteError
 * in mongodb/lib/bulk/common.js, with the driver's own functions and classes.
 */
function insertManyError(count: number, outcome: { response: Document } | { thrown: Error }): MongoBulkWriteError {
  const batch = new driverBulk.Batch(driverBulk.BatchType.INSERT, 0);
  batch.operations = Array.from({ length: count }, (_, i) => ({ room: 'r', seq: i + 1 }));
  batch.originalIndexes = batch.operations.map((_, i) => i);
  const bulkResult: Document = { ok: 1, writeErrors: [], writeConcernErrors: [], insertedIds: [], nInserted: 0, nUpserted: 0, nMatched: 0, nModified: 0, nRemoved: 0, upserted: [] };
  // server.js throws a reply that holds a writeConcernError as MongoWriteConcernError (throwIfWriteConcernError).
  const thrown = 'thrown' in outcome ? outcome.thrown : outcome.response.writeConcernError ? new MongoWriteConcernError(outcome.response as ConstructorParameters<typeof MongoWriteConcernError>[0]) : undefined;
  if (thrown instanceof MongoWriteConcernError) {
    driverBulk.mergeBatchResults(batch, bulkResult, thrown, undefined);
    const wce = (thrown.result as Document).writeConcernError as Document;
    return new MongoBulkWriteError({ message: wce.errmsg, code: wce.code }, newBulkWriteResult(bulkResult, true));
  }
  if (thrown) return new MongoBulkWriteError(thrown, newBulkWriteResult(bulkResult, true));
  const response = (outcome as { response: Document }).response;
  driverBulk.mergeBatchResults(batch, bulkResult, null, response);
  const result = newBulkWriteResult(bulkResult, true);
  const [first] = bulkResult.writeErrors as { errmsg: string; code: number }[];
  if (!first) throw new Error('this reply is not a failure');
  return new MongoBulkWriteError({ message: first.errmsg, code: first.code, writeErrors: bulkResult.writeErrors }, result);
}

const duplicateSeq = (index: number) => ({
  index,
  code: 11000,
  errmsg: `E11000 duplicate key error collection: parley.messages index: room_seq dup key: { room: "r", seq: ${index + 1} }`,
});
const replicationTimedOut = { code: 64, codeName: 'WriteConcernFailed', errmsg: 'waiting for replication timed out', errInfo: { wtimeout: true } };
const selectionFailed = () =>
  new MongoServerSelectionError('Server selection timed out after 5000 ms', new TopologyDescription('ReplicaSetNoPrimary', null, 'rs0'));

/** What the store before issue 15 did with every insertMany error: the defect this suite pins down. */
function oldIsDuplicateKey(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) return error.writeErrors instanceof Array ? error.writeErrors.every((e) => e.code === 11000) : error.code === 11000;
  return error instanceof MongoServerError && error.code === 11000;
}

describe('classifyWriteError: what a failed insertMany stored for sure', () => {
  it('reads a lost seq race (duplicate key, write concern met) as a collision after the documents before it', () => {
    const error = insertManyError(5, { response: { ok: 1, n: 2, writeErrors: [duplicateSeq(2)] } });
    expect(error.insertedCount).toBe(2);
    expect(classifyWriteError(error)).toEqual({ kind: 'collision', inserted: 2 });
    // The whole insert command refused with a duplicate key (ok: 0, as failCommand's errorCode answers): nothing written.
    const refused = insertManyError(3, { thrown: new MongoServerError({ ok: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error' }) });
    expect(classifyWriteError(refused)).toEqual({ kind: 'collision', inserted: 0 });
    // A single insert's duplicate key, as the server answers a plain insertOne.
    expect(classifyWriteError(new MongoServerError({ ok: 0, code: 11000, errmsg: duplicateSeq(0).errmsg }))).toEqual({ kind: 'collision', inserted: 0 });
  });

  it('never reads a write-concern failure as stored: an acked message could roll back, its seq a hole for good', () => {
    const error = insertManyError(3, { response: { ok: 1, n: 3, writeConcernError: replicationTimedOut } });
    expect(error.writeErrors).toEqual([]);
    expect(oldIsDuplicateKey(error)).toBe(true); // the data loss of defect 1
    expect(classifyWriteError(error)).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('waiting for replication timed out') });
  });

  it('never reads a duplicate key that came with a write-concern failure as a plain race', () => {
    const error = insertManyError(4, { response: { ok: 1, n: 1, writeErrors: [duplicateSeq(1)], writeConcernError: replicationTimedOut } });
    expect(classifyWriteError(error).kind).toBe('unknown');
  });

  it('reads network errors, a stepped-down primary and a failed server selection as unknown, never as a resend', () => {
    const failures: Error[] = [
      new MongoNetworkError('connection 3 to 10.0.0.2:27017 closed'),
      new MongoServerError({ ok: 0, code: 10107, codeName: 'NotWritablePrimary', errmsg: 'not primary' }),
      new MongoServerError({ ok: 0, code: 189, codeName: 'PrimarySteppedDown', errmsg: 'primary stepped down' }),
      selectionFailed(),
    ];
    for (const thrown of failures) {
      const error = insertManyError(2, { thrown });
      expect(oldIsDuplicateKey(error), thrown.message).toBe(true); // a first send would have been acked `duplicate: true`
      expect(classifyWriteError(error), thrown.message).toMatchObject({ kind: 'unknown' });
    }
    expect(classifyWriteError(new MongoWriteConcernError({ ok: 1, writeConcernError: replicationTimedOut })).kind).toBe('unknown');
    expect(classifyWriteError(new Error('anything else')).kind).toBe('unknown');
  });
});

describe('collisionDelayMs: backoff after a lost seq race', () => {
  it('grows with each attempt up to 100 ms, jittered within the upper half', () => {
    expect([1, 2, 3, 4].map((attempt) => collisionDelayMs(attempt, () => 1))).toEqual([2, 4, 8, 16]);
    expect(collisionDelayMs(1, () => 0)).toBe(1);
    expect(collisionDelayMs(30, () => 0)).toBe(50);
    expect(collisionDelayMs(30, () => 1)).toBe(100);
  });
});

// ---- URIs, by the driver's own parser ----------------------------------------------------------

describe('databaseNameOf and redactUri: URIs the driver accepts', () => {
  const cases: [uri: string, database: string][] = [
    ['mongodb://h1:27017,h2:27017,h3:27017/parley?replicaSet=rs0', 'parley'],
    ['mongodb://h1:27017,h2:27017,h3:27017/chat?replicaSet=rs0&readPreference=secondaryPreferred', 'chat'],
    ['mongodb://%2Ftmp%2Fmongodb-27017.sock/chat', 'chat'],
    ['mongodb+srv://ana:s3cret@cluster0.example.net/prod?retryWrites=true&w=majority', 'prod'],
    ['mongodb://ana:s3cret@[::1]:27017,h2/?replicaSet=rs0', 'parley'],
    ['mongodb://127.0.0.1:27017', 'parley'],
    ['mongodb://h1/my%20db', 'my db'],
  ];

  it('finds the database of multi-host, Unix-socket, SRV and IPv6 URIs, and `parley` when none is named', () => {
    for (const [uri, database] of cases) expect(databaseNameOf(uri), uri).toBe(database);
    // What the old `new URL('http://' + ...)` could not read at all.
    expect(() => new URL(cases[0]![0].replace(/^mongodb:/, 'http:'))).toThrow();
  });

  it('agrees with the driver: the database MongoClient would use, the hosts it would reach (no DNS, no connection)', () => {
    for (const [uri, database] of cases) {
      const client = new MongoClient(uri);
      if (database !== 'parley') expect(client.options.dbName).toBe(database);
      if (uri.includes('%2F')) expect(client.options.hosts.map(String)).toEqual(['/tmp/mongodb-27017.sock']);
    }
    expect(new MongoClient(cases[0]![0]).options.hosts.map(String)).toEqual(['h1:27017', 'h2:27017', 'h3:27017']);
    expect(new MongoClient(cases[3]![0]).options.srvHost).toBe('cluster0.example.net'); // resolved only at connect
  });

  it('redacts the password, keeps the rest, and says "unparseable" rather than echo a URI it cannot read', () => {
    expect(redactUri('mongodb+srv://ana:s3cret@cluster0.example.net/prod?w=majority')).toBe('mongodb+srv://ana:***@cluster0.example.net/prod?w=majority');
    expect(redactUri('mongodb://ana:s3cret@h1,h2/parley?replicaSet=rs0')).toBe('mongodb://ana:***@h1,h2/parley?replicaSet=rs0');
    expect(redactUri('mongodb://h1/parley')).toBe('mongodb://h1/parley');
    expect(redactUri('mongodb://ana:s3cret@')).not.toContain('s3cret');
    // Secrets in the options: a client key's password, an AWS session token; the harmless options stay.
    const options = 'mongodb://h1/parley?tls=true&tlsCertificateKeyFilePassword=k3ypass&authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:t0ken&proxyPassword=pr0xy&replicaSet=rs0';
    const redacted = redactUri(options);
    for (const secret of ['k3ypass', 't0ken', 'pr0xy']) expect(redacted).not.toContain(secret);
    expect(redacted).toBe('mongodb://h1/parley?tls=true&tlsCertificateKeyFilePassword=***&authMechanism=MONGODB-AWS&authMechanismProperties=***&proxyPassword=***&replicaSet=rs0');
    // The driver reads option names in any case: so does the redaction.
    expect(redactUri('mongodb://h1/?SSLPEMKeyPassword=k3ypass')).toBe('mongodb://h1/?SSLPEMKeyPassword=***');
  });
});

// ---- start-up errors ----------------------------------------------------------------------------

describe('start-up errors say which step failed and why', () => {
  const where = 'mongodb://ana:***@h1/parley';

  it('names an authentication failure, a missing right, an index that cannot be built, a URI the driver refuses', () => {
    const auth = new MongoServerError({ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' });
    expect(describeStartupError('connecting', auth, where)).toMatch(/^MongoDB at mongodb:\/\/ana:\*\*\*@h1\/parley: connecting failed: authentication failed: check the user/);
    const unauthorized = new MongoServerError({ ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'not authorized on parley to execute command' });
    expect(describeStartupError('creating the indexes and reading the epoch', unauthorized, where)).toContain('grant it readWrite');
    const duplicates = new MongoServerError({ ok: 0, code: 11000, errmsg: 'Index build failed: E11000 duplicate key error collection: parley.messages index: room_seq' });
    expect(describeStartupError('creating the indexes and reading the epoch', duplicates, where)).toContain('a unique index cannot be built');
    const conflict = new MongoServerError({ ok: 0, code: 85, codeName: 'IndexOptionsConflict', errmsg: 'An existing index has the same name' });
    expect(describeStartupError('creating the indexes and reading the epoch', conflict, where)).toContain('an index of that name exists');
    expect(describeStartupError('connecting', selectionFailed(), where)).toContain('no MongoDB server answered in time');
    let parseError: unknown;
    try {
      new MongoClient('mongodb://h1:99999/parley');
    } catch (error) {
      parseError = error;
    }
    expect(describeStartupError(READING_URI, parseError, where)).toContain('MONGODB_URI is not a valid connection string');
  });

  it('fails to open with that message, not "did not answer", for a bad URI and for a refused connection', async () => {
    await expect(openMongoStore('mongodb://h1:99999/parley')).rejects.toThrow(/reading MONGODB_URI failed: MONGODB_URI is not a valid connection string/);
    const refused = openMongoStore('mongodb://127.0.0.1:1/parley', { serverSelectionTimeoutMS: 300 });
    await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(refused).rejects.toThrow(/connecting failed: no MongoDB server answered in time \(.*ECONNREFUSED 127\.0\.0\.1:1/);
  });

  it('answers a health check within about a second when MongoDB does not answer, not after server selection gives up', async () => {
    const client = new MongoClient('mongodb://127.0.0.1:1/parley', { serverSelectionTimeoutMS: 10_000 });
    const store = new MongoStore(client, client.db('parley'), 'standalone', undefined, 10_000);
    const started = Date.now();
    await expect(store.ping()).rejects.toThrow(/did not answer within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    await client.close();
  });

  it('is not ready while its change stream is not live, and says so', async () => {
    const client = new MongoClient('mongodb://127.0.0.1:1/parley');
    const store = new MongoStore(client, client.db('parley'), 'replicaSet', 'rs0', 10_000);
    await expect(store.ping()).rejects.toThrow(/the feed of new messages is down: the change stream has not opened yet/);
    await client.close();
  });
});

describe('the accounts and rooms collections follow the log\'s consistency rules, whatever the URI says', () => {
  it('opens users, sessions, rooms and members like messages: majority reads from the primary, majority writes with a time limit', async () => {
    // A URI that would have accounts read from a lagging secondary and written unacknowledged by a majority.
    const client = new MongoClient('mongodb://127.0.0.1:1/parley?readPreference=secondaryPreferred&readConcernLevel=local&w=1');
    const store = new MongoStore(client, client.db('parley'), 'replicaSet', 'rs0', 7000);
    for (const collection of [store.accounts.users, store.accounts.sessions, store.rooms.roomDocs, store.rooms.standings]) {
      expect(collection.readPreference?.mode, collection.collectionName).toBe('primary');
      expect(collection.readConcern?.level, collection.collectionName).toBe('majority');
      expect(collection.writeConcern, collection.collectionName).toMatchObject({ w: 'majority', journal: true, wtimeoutMS: 7000 });
    }
    await client.close();
  });
});

describe('deploymentOf: which deployments have a change stream', () => {
  it('tells a replica set member, a mongos (no setName, msg isdbgrid) and a standalone apart', () => {
    expect(deploymentOf({ isWritablePrimary: true, setName: 'rs0', hosts: ['h1:27017', 'h2:27017', 'h3:27017'] })).toBe('replicaSet');
    expect(deploymentOf({ isWritablePrimary: true, msg: 'isdbgrid', maxWireVersion: 25 })).toBe('sharded');
    expect(deploymentOf({ isWritablePrimary: true, maxWireVersion: 25 })).toBe('standalone');
  });
});

// ---- the feed's state machine, fed the driver's events and errors -------------------------------

const token = (n: number) => ({ _data: `82${n.toString(16).padStart(8, '0')}` });
const ns = { db: 'parley', coll: 'messages' };
const collectionUUID = new UUID();
let eventNumber = 0;
/** A cluster time as the server stamps an oplog entry: second `t`, the `i`th operation in it. */
const clusterTime = (t: number, i = 1) => new Timestamp({ t, i });
let clock = 1_000;
/** The events' common part: the resume token, and the cluster time (by default, one second after the last event's). */
const stamp = (at: Timestamp = clusterTime(++clock)) => ({ _id: token(++eventNumber), clusterTime: at, wallTime: new Date(at.t * 1000) });

/** An insert as the stream hands it over: the message as the store wrote it, with its _id {room, seq}. */
function insertEvent(room: string, seq: number, at?: Timestamp): ChangeStreamInsertDocument<MessageDocument> {
  const _id = { room, seq };
  return {
    ...stamp(at),
    operationType: 'insert',
    ns,
    collectionUUID,
    documentKey: { _id },
    fullDocument: { _id, room, seq, clientId: `c-${room}-${seq}`, author: 'ana', text: `#${seq}`, at: 1 },
  };
}

type LogEndEvent = ChangeStreamDropDocument | ChangeStreamRenameDocument | ChangeStreamDropDatabaseDocument | ChangeStreamInvalidateDocument;

/** An event that ends the log the stream follows (and the stream: an invalidate follows the others). */
function endEvent(operationType: LogEndEvent['operationType'], at?: Timestamp): LogEndEvent {
  switch (operationType) {
    case 'drop':
      return { ...stamp(at), operationType, ns, collectionUUID };
    case 'rename':
      return { ...stamp(at), operationType, ns, collectionUUID, to: { db: 'parley', coll: 'messages_before_cleanup' } };
    case 'dropDatabase':
      return { ...stamp(at), operationType, ns: { db: 'parley' } };
    case 'invalidate':
      return { ...stamp(at), operationType };
  }
}

function updateEvent(room: string, seq: number): ChangeStreamUpdateDocument<MessageDocument> {
  return { ...stamp(), operationType: 'update', ns, collectionUUID, documentKey: { _id: { room, seq } }, updateDescription: { updatedFields: { text: 'edited' } } };
}

describe('ChangeFeedState: the change stream, every way it can go and end', () => {
  it('hands on the inserts of one batch together, without _id, each once, in order', () => {
    const feed = new ChangeFeedState();
    feed.opened();
    const step = feed.received([insertEvent('a', 1), insertEvent('b', 1), insertEvent('a', 2), updateEvent('a', 1)]);
    expect(step.wiped).toBeUndefined();
    expect(step.messages.map((m) => `${m.room}:${m.seq}`)).toEqual(['a:1', 'b:1', 'a:2']);
    expect(step.messages.every((m) => !('_id' in m))).toBe(true);
    // A reopened stream may replay what it had handed on: not twice.
    expect(feed.received([insertEvent('a', 2), insertEvent('a', 3)]).messages.map((m) => m.seq)).toEqual([3]);
  });

  it.each(['drop', 'rename', 'dropDatabase', 'invalidate'] as const)('reads a %s of the collection as a wiped log, and hands on the new one from seq 1 once it is set up', (operationType) => {
    const feed = new ChangeFeedState();
    feed.beginEpoch(clusterTime(clock));
    feed.opened();
    feed.received([insertEvent('a', 1), insertEvent('a', 2)]);
    const step = feed.received([insertEvent('a', 3), endEvent(operationType), insertEvent('a', 9)]);
    expect(step.messages.map((m) => m.seq)).toEqual([3]);
    expect(step.wiped).toContain(operationType);
    expect(step.outlived).toBeUndefined();
    // The store sets the log up again: a new epoch, whose seqs start again from 1, and they are handed on.
    feed.beginEpoch(clusterTime(++clock));
    expect(feed.received([insertEvent('a', 1)]).messages.map((m) => m.seq)).toEqual([1]);
  });

  it('restarts from now when its position left the oplog, or names another collection: readers read the gap from the store', () => {
    for (const [code, codeName] of [
      [286, 'ChangeStreamHistoryLost'],
      [280, 'ChangeStreamFatalError'],
      [260, 'InvalidResumeToken'],
      [136, 'CappedPositionLost'],
    ] as const) {
      const feed = new ChangeFeedState();
      feed.opened();
      const recovery = feed.failed(new MongoServerError({ ok: 0, code, codeName, errmsg: 'Resume of change stream was not possible' }));
      expect(recovery, codeName).toMatchObject({ action: 'restart', delayMs: 0 });
      expect(feed.live).toBe(false);
      expect(feed.reason).toContain(codeName);
      // A second failure in a row waits before trying again, rather than spinning.
      expect(feed.failed(new MongoServerError({ ok: 0, code, codeName, errmsg: 'again' })).delayMs).toBeGreaterThan(0);
    }
  });

  it('retries a refusal (Unauthorized) slowly and says the feed is down for that reason, not every second forever', () => {
    const feed = new ChangeFeedState();
    feed.opened();
    const recovery = feed.failed(new MongoServerError({ ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'not authorized on parley to execute command { aggregate: "messages" }' }));
    expect(recovery).toMatchObject({ action: 'resume', delayMs: 30_000 });
    expect(feed.reason).toMatch(/may not watch.*Unauthorized/);
  });

  it('resumes after network errors and a lost primary with a backoff that doubles to 10 s, and is live again once the stream answers', () => {
    const feed = new ChangeFeedState();
    expect(feed.live).toBe(false); // not before it first opens
    feed.opened();
    expect(feed.live).toBe(true);
    const delays = [
      new MongoNetworkError('connection 7 to 127.0.0.1:27017 closed'),
      selectionFailed(),
      new MongoServerError({ ok: 0, code: 10107, codeName: 'NotWritablePrimary', errmsg: 'not primary' }),
    ].map((error) => feed.failed(error));
    expect(delays.map((r) => r.action)).toEqual(['resume', 'resume', 'resume']);
    expect(delays.map((r) => r.delayMs)).toEqual([250, 500, 1000]);
    expect(feed.reason).toContain('NotWritablePrimary');
    for (let i = 0; i < 10; i++) feed.closed();
    expect(feed.closed()).toMatchObject({ action: 'resume', delayMs: 10_000, reason: 'the server closed the change stream' });
    feed.opened();
    expect(feed.live).toBe(true);
    expect(feed.reason).toBeUndefined();
    expect(feed.failed(new MongoNetworkError('closed')).delayMs).toBe(250);
  });
});

describe('ChangeFeedState when an append or a health check found the wipe before the change stream did', () => {
  // Room a's old log: seqs 1-4 handed on, 5 and 6 stored at second 199, the collection dropped at 200.
  // An append found seq 4 gone first, and the store set the new epoch up at 205 (the drop comes before
  // the new collection, and that before the epoch read that names it). The stream is still behind.
  const droppedAt = clusterTime(200);
  const renewedAt = clusterTime(205);
  function renewedBeforeTheStreamSawTheDrop(): ChangeFeedState {
    const feed = new ChangeFeedState();
    feed.beginEpoch(clusterTime(100));
    feed.opened();
    feed.received([1, 2, 3, 4].map((seq) => insertEvent('a', seq, clusterTime(150, seq))));
    feed.beginEpoch(renewedAt);
    return feed;
  }
  const lateOldInserts = () => [insertEvent('a', 5, clusterTime(199, 1)), insertEvent('a', 6, clusterTime(199, 2)), insertEvent('b', 1, clusterTime(199, 3))];

  it('hands on none of the old log\'s inserts it still carries: readers of the new epoch would take them for its own', () => {
    const feed = renewedBeforeTheStreamSawTheDrop();
    // Seq 5 and 6 of room a, seq 1 of a room never handed on: each would fit a new-epoch reader's cursor.
    expect(feed.received(lateOldInserts())).toEqual({ messages: [] });
  });

  it.each(['drop', 'rename', 'dropDatabase', 'invalidate'] as const)('reads the old log\'s %s as the end of a replaced log, not a wipe: no second new epoch, no second reset', (operationType) => {
    const feed = renewedBeforeTheStreamSawTheDrop();
    const step = feed.received([...lateOldInserts(), endEvent(operationType, droppedAt), endEvent('invalidate', droppedAt)]);
    expect(step.wiped, 'the store sets the log up again only for `wiped`').toBeUndefined();
    expect(step.outlived).toContain(operationType);
    expect(step.messages).toEqual([]);
    // The stream reopens where its position is cleared to: the new epoch's start.
    expect(feed.epochStart).toEqual(renewedAt);
  });

  it('hands on the new log from the epoch\'s start, each once, and reads a drop of the new log as a wipe', () => {
    const feed = renewedBeforeTheStreamSawTheDrop();
    feed.received([...lateOldInserts(), endEvent('drop', droppedAt)]);
    // Reopened at the epoch's start: the new log's seq 1 (stored at that very time by another instance), 2, 3.
    const reopened = feed.received([insertEvent('a', 1, renewedAt), insertEvent('a', 2, clusterTime(205, 2)), insertEvent('a', 3, clusterTime(206))]);
    expect(reopened.messages.map((m) => `${m.room}:${m.seq}:${m.text}`)).toEqual(['a:1:#1', 'a:2:#2', 'a:3:#3']);
    expect(feed.received([insertEvent('a', 3, clusterTime(206)), insertEvent('a', 4, clusterTime(207))]).messages.map((m) => m.seq)).toEqual([4]);
    // The new log dropped in turn: a wipe of this epoch.
    expect(feed.received([endEvent('drop', clusterTime(300))])).toMatchObject({ messages: [], wiped: expect.stringContaining('drop') });
  });
});

describe('RecentMap: the per-room caches stay bounded', () => {
  it('keeps the most recently used rooms up to its capacity, dropping the least recent first', () => {
    const heads = new RecentMap<string, number>(3);
    for (const room of ['a', 'b', 'c']) heads.set(room, 1);
    heads.get('a');
    heads.set('d', 1);
    expect(heads.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((room) => heads.get(room))).toEqual([1, undefined, 1, 1]);
    for (let i = 0; i < 10_000; i++) heads.set(`room-${i}`, i);
    expect(heads.size).toBe(3);
  });
});

// ---- a cursor past the head, as MongoDB can show it just after an election ---------------------

/** A real store that reports itself as MongoDB: what checkCursor decides from, with the log it reads. */
class ReportedAsMongo extends OutageStore {
  override get kind() {
    return 'mongodb' as const;
  }
}

describe('checkCursor on MongoDB: a cursor past the head in the log\'s own epoch', () => {
  it('is retried (store_unavailable), not reset: a new primary\'s majority snapshot can lag what the reader received', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-cursor-'));
    const store = new ReportedAsMongo(openEmbeddedStore(dir));
    const ctx = { store, config: loadConfig({ STORE: 'embedded', DATA_DIR: dir }) };
    try {
      for (const i of [1, 2, 3]) await store.append({ room: 'r', clientId: `c${i}`, author: 'ana', text: `#${i}` });
      // Seq 5 came from the old primary's stream; the new primary's majority snapshot shows 3 for now.
      await expect(checkCursor(ctx, 'r', 5, store.epoch)).rejects.toBeInstanceOf(StoreUnavailableError);
      // Without its epoch, or with another one, the cursor cannot be vouched for: a reset, as before.
      expect(await checkCursor(ctx, 'r', 5, undefined)).toEqual({ kind: 'reset', reason: 'ahead' });
      expect(await checkCursor(ctx, 'r', 5, 'another-epoch')).toEqual({ kind: 'reset', reason: 'epoch' });
      expect(await checkCursor(ctx, 'r', 3, store.epoch)).toEqual({ kind: 'servable', head: 3 });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
