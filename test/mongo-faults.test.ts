// The MongoDB store under faults MongoDB really produces, injected with the server's own failCommand fail
// point (test commands enabled), a dropped database under two running instances, a restart, and a
// primary step-down on a three-node replica set. Every test checks the log the way a user would notice a
// fault: 0 lost (every acked message is there, with its acked seq), 0 duplicated (each clientId once), no
// hole (seqs 1..n). Runs wherever a MongoDB is reachable (test/mongo-setup.ts); each test says what it
// proves when it runs, and the suite says in one line why it is skipped when it is not.
import { randomBytes } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';
import { ConnectionString } from 'mongodb-connection-string-url';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { ChatMessage, ServerFrame } from '../server/protocol';
import { openMongoStore, redactUri, type MongoStore } from '../server/store/mongo';
import { StoreUnavailableError, type AppendResult, type NewMessage } from '../server/store/store';
import { autoCleanup, createSession, range, seqs, startTestServer, subscribedSocket, TestSocket, withTimeout, type FrameOf } from './helpers';

autoCleanup();

/** The fail points match only this application's commands, so other tests on the same server are untouched. */
const APP_NAME = 'parley-faults';
const runPrefix = `parley_faults_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const mongo = inject('mongo');
let databases = 0;

/** `uri` with its database set to `name` and this suite's appName. */
function uriFor(uri: string, name: string): string {
  const parsed = new ConnectionString(uri);
  parsed.pathname = `/${name}`;
  parsed.searchParams.set('appName', APP_NAME);
  return parsed.toString();
}

interface Target {
  uri: string;
  /** How many members the replica set has (hello's `hosts`). */
  members: number;
  failPoints: boolean;
}

/** What the server offers these tests, or why they cannot run. */
async function probe(): Promise<Target | string> {
  if (!mongo.uri) return mongo.skip ?? 'MONGODB_URI is not set';
  const client = new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.connect();
    const hello = await client.db('admin').command({ hello: 1 });
    if (typeof hello.setName !== 'string') return `MongoDB at ${redactUri(mongo.uri)} is not a replica set (these tests follow its change stream)`;
    const failPoints = await client
      .db('admin')
      .command({ configureFailPoint: 'failCommand', mode: 'off' })
      .then(() => true)
      .catch(() => false);
    return { uri: mongo.uri, members: Array.isArray(hello.hosts) ? hello.hosts.length : 1, failPoints };
  } catch (error) {
    return `MongoDB at ${redactUri(mongo.uri)} did not answer: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await client.close();
  }
}

function proves(what: string): void {
  console.log(`[mongo faults] proves: ${what}`);
}

const target = await probe();

/** Reads the room's whole log and checks it: every acked message there with its seq, each clientId once, seqs 1..n. */
async function checkLog(uri: string, room: string, acked: readonly AppendResult[]): Promise<ChatMessage[]> {
  const client = new MongoClient(uri);
  try {
    const log = await client
      .db()
      .collection<ChatMessage>('messages', { readConcern: { level: 'majority' } })
      .find({ room }, { projection: { _id: 0 } })
      .sort({ seq: 1 })
      .toArray();
    expect(seqs(log), 'no hole').toEqual(range(1, log.length));
    expect(new Set(log.map((m) => m.clientId)).size, '0 duplicated').toBe(log.length);
    const bySeq = new Map(log.map((m) => [m.seq, m]));
    for (const { message } of acked) expect(bySeq.get(message.seq)?.clientId, `acked ${message.clientId} kept its seq ${message.seq}`).toBe(message.clientId);
    console.log(`[mongo faults]   room ${room}: ${log.length} messages, ${acked.length} acked, 0 lost, 0 duplicated, no hole`);
    return log;
  } finally {
    await client.close();
  }
}

/** Sends `message` until it is acked, resending with the same clientId after each refusal, as the client does. */
async function sendUntilAcked(store: MongoStore, message: NewMessage): Promise<AppendResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.append(message);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt > 600) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const message = (room: string, i: number): NewMessage => ({ room, clientId: `${room}-client-${i}`, author: 'ana', text: `#${i}` });

if (typeof target === 'string') {
  console.log(`[mongo faults] skipped: ${target}`);
  describe.skip(`MongoDB faults — skipped: ${target}`, () => {
    it('loses, duplicates and skips nothing under write-concern failures, closed connections, error codes, a wipe, a restart and a step-down', () => undefined);
  });
} else {
  const { uri: baseUri } = target;
  const used: string[] = [];
  const fresh = () => {
    const name = `${runPrefix}_${++databases}`;
    used.push(name);
    return uriFor(baseUri, name);
  };
  const admin = new MongoClient(baseUri);
  const failCommand = (data: Document, times: number) =>
    admin.db('admin').command({ configureFailPoint: 'failCommand', mode: { times }, data: { appName: APP_NAME, ...data } });

  afterEach(async () => {
    if (target.failPoints) await admin.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
  });
  afterAll(async () => {
    for (const name of used) await admin.db(name).dropDatabase();
    await admin.close();
  });

  const describeFailPoints = target.failPoints ? describe : describe.skip;
  if (!target.failPoints) {
    console.log(`[mongo faults] fail-point tests skipped: MongoDB at ${redactUri(baseUri)} refuses configureFailPoint (start mongod with --setParameter enableTestCommands=1)`);
  }

  describeFailPoints('failCommand fail points', () => {
    it('refuses a send whose write concern failed, never acks it, and turns the resend into the original', async () => {
      proves('a writeConcernError on insert is refused with store_unavailable (not acked, not "duplicate"), /readyz says so, the resend finds the original');
      const uri = fresh();
      const store = await openMongoStore(uri);
      try {
        // The insert runs and then reports the failure; the probe write of the health check fails the same way.
        await failCommand({ failCommands: ['insert', 'update'], writeConcernError: { code: 64, codeName: 'WriteConcernFailed', errmsg: 'waiting for replication timed out', errInfo: { wtimeout: true } } }, 2);
        await expect(store.append(message('wce', 1))).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(store.ping()).rejects.toThrow(/not confirmed by a majority/);
        await expect(store.ping()).resolves.toBeUndefined();
        const resent = await store.append(message('wce', 1));
        expect(resent.message.seq).toBe(1);
        const rest = await Promise.all(range(2, 20).map((i) => sendUntilAcked(store, message('wce', i))));
        await checkLog(uri, 'wce', [resent, ...rest]);
      } finally {
        await store.close();
      }
    });

    it('refuses a send whose connection closed twice (the driver retries once), and stores the resend once', async () => {
      proves('closeConnection on insert (original and the driver\'s retry) is refused; the resend is stored once; later sends follow with no hole');
      const uri = fresh();
      const store = await openMongoStore(uri);
      try {
        await store.append(message('closed', 1));
        await failCommand({ failCommands: ['insert'], closeConnection: true }, 2);
        await expect(store.append(message('closed', 2))).rejects.toBeInstanceOf(StoreUnavailableError);
        const acked = await Promise.all(range(1, 20).map((i) => sendUntilAcked(store, message('closed', i))));
        await checkLog(uri, 'closed', acked);
      } finally {
        await store.close();
      }
    });

    it('retries a lost seq race (duplicate key) with a backoff, and refuses a stepped-down primary instead of acking', async () => {
      proves('errorCode 11000 on insert is a lost race, retried until stored once; errorCode 10107 (NotWritablePrimary) is refused, never acked');
      const uri = fresh();
      const store = await openMongoStore(uri);
      try {
        await failCommand({ failCommands: ['insert'], errorCode: 11000 }, 3);
        const raced = await store.append(message('codes', 1));
        expect(raced).toMatchObject({ duplicate: false, message: { seq: 1 } });
        await failCommand({ failCommands: ['insert'], errorCode: 10107 }, 2);
        await expect(store.append(message('codes', 2))).rejects.toBeInstanceOf(StoreUnavailableError);
        const acked = await Promise.all(range(2, 20).map((i) => sendUntilAcked(store, message('codes', i))));
        await checkLog(uri, 'codes', [raced, ...acked]);
      } finally {
        await store.close();
      }
    });

    it('delivers every message to a WebSocket reader when the change stream loses its position or its connection', async () => {
      proves('getMore failing with ChangeStreamHistoryLost (286), then with a closed connection: the reader still gets 1..n, in order, once');
      const uri = fresh();
      const server = await startTestServer({ STORE: 'mongodb', MONGODB_URI: uri });
      const sender = await TestSocket.open(server.wsUrl, await createSession(server.url, 'Ana'));
      const { socket: reader } = await subscribedSocket(server.wsUrl, 'stream', { after: 0 });
      for (const [fault, from, to] of [[{ errorCode: 286 }, 1, 10], [{ closeConnection: true }, 11, 20]] as const) {
        await failCommand({ failCommands: ['getMore'], ...fault }, 1);
        for (const i of range(from, to)) await sender.sendMessage('stream', `#${i}`);
      }
      const got = await reader.messagesUntil('stream', 20, 30_000);
      expect(seqs(got)).toEqual(range(1, 20));
    });

    it('resets a reader once when a send finds `messages` dropped before the change stream does, and hands it nothing of the old log', async () => {
      proves('messages dropped while the change stream is held back (getMore blocked) and a send lands at once after: the send sets up the new epoch; the reader gets exactly one reset, then only what was sent after the drop, from seq 1; the old log\'s late inserts and its drop, reaching the stream after the new epoch, neither reach the reader nor reset it again');
      const uri = fresh();
      const server = await startTestServer({ STORE: 'mongodb', MONGODB_URI: uri });
      const sender = await TestSocket.open(server.wsUrl, await createSession(server.url, 'Ana'));
      const { socket: reader, subscribed } = await subscribedSocket(server.wsUrl, 'wipe', { after: 0 });
      for (const i of range(1, 3)) await sender.sendMessage('wipe', `old #${i}`);
      const oldLog = await reader.messagesUntil('wipe', 3, 30_000);
      // The stream's next two getMores wait 3 s each: the old log's last inserts and its drop reach it only
      // after the send below has found the wipe and set up the new epoch.
      await failCommand({ failCommands: ['getMore'], blockConnection: true, blockTimeMS: 3000 }, 2);
      for (const i of range(4, 6)) await sender.sendMessage('wipe', `old #${i}`);
      await admin.db(new ConnectionString(uri).pathname.slice(1)).collection('messages').drop();
      expect((await sender.sendMessage('wipe', 'new #1')).message.seq).toBe(1);
      // Up to the reset, the reader gets the old log (what the stream handed on before it was held), in order.
      const ofRoom = (frame: ServerFrame): frame is FrameOf<'messages'> | FrameOf<'reset'> => (frame.type === 'messages' || frame.type === 'reset') && frame.room === 'wipe';
      let reset: FrameOf<'reset'> | undefined;
      while (!reset) {
        const frame = await reader.next(ofRoom, 30_000);
        if (frame.type === 'reset') reset = frame;
        else oldLog.push(...frame.messages);
      }
      expect(seqs(oldLog)).toEqual(range(1, oldLog.length));
      expect(reset).toMatchObject({ reason: 'epoch' });
      expect(reset.epoch).not.toBe(subscribed.epoch);
      // The client reloads the room in the new epoch, then reads it live. 'new #2' reaches it only once the
      // stream has read past the old log's drop and reopened on the new log.
      const reloaded = await reader.subscribe('wipe');
      expect(reloaded).toMatchObject({ type: 'subscribed', epoch: reset.epoch, messages: [{ seq: 1, text: 'new #1' }] });
      await sender.sendMessage('wipe', 'new #2');
      const next = await reader.next(ofRoom, 30_000);
      expect(next, 'no second reset, no entry of the old log').toMatchObject({ type: 'messages', messages: [{ seq: 2, text: 'new #2' }] });
      await reader.roundTrip();
      expect(reader.frames.remaining().filter(ofRoom), 'nothing else').toEqual([]);
      await checkLog(uri, 'wipe', []);
    });
  });

  describe('a dropped database, a restart', () => {
    it('sets the log up again under two running instances: one new epoch, unique indexes, seqs from 1 with no hole', async () => {
      proves('dropDatabase under two running stores: both take the same new epoch, exactly one epoch change, the unique indexes are back, writes through both go on from seq 1 with no hole and no duplicate');
      const uri = fresh();
      const [a, b] = [await openMongoStore(uri), await openMongoStore(uri)];
      try {
        await Promise.all(range(1, 10).map((i) => (i % 2 ? a : b).append(message('wiped', i))));
        const oldEpoch = a.epoch;
        expect(b.epoch).toBe(oldEpoch);
        const renewed = (store: MongoStore) =>
          new Promise<void>((resolve) => {
            const stop = store.onFeedGap(() => {
              if (store.epoch !== oldEpoch) {
                stop();
                resolve();
              }
            });
          });
        const bothRenewed = Promise.all([renewed(a), renewed(b)]);
        // Every epoch either store takes from here on: the wipe must replace the epoch once, not once per notice.
        const epochsSeen = new Set([oldEpoch]);
        for (const store of [a, b]) store.onFeedGap(() => epochsSeen.add(store.epoch));
        await admin.db(new ConnectionString(uri).pathname.slice(1)).dropDatabase();
        await withTimeout(bothRenewed, 30_000, 'both stores to notice the wipe');
        expect(a.epoch).not.toBe(oldEpoch);
        expect(b.epoch).toBe(a.epoch);
        const acked = await Promise.all(range(11, 40).map((i) => sendUntilAcked(i % 2 ? a : b, message('wiped', i))));
        const log = await checkLog(uri, 'wiped', acked);
        expect(log).toHaveLength(30);
        await Promise.all([a.ping(), b.ping()]);
        epochsSeen.add(a.epoch).add(b.epoch);
        expect([...epochsSeen], 'exactly one epoch change').toEqual([oldEpoch, a.epoch]);
        const indexes = await admin.db(new ConnectionString(uri).pathname.slice(1)).collection('messages').indexes();
        expect(indexes.filter((index) => index.unique).map((index) => index.name).sort()).toEqual(['room_clientId', 'room_seq']);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('keeps seqs unique when `messages` is dropped while writers with no cached head send', async () => {
      proves('drop of messages during 60 concurrent sends to fresh rooms through two stores: each room 1..n with no hole and no duplicate, the unique indexes back, one epoch on both');
      const uri = fresh();
      const [a, b] = [await openMongoStore(uri), await openMongoStore(uri)];
      try {
        const rooms = ['d0', 'd1', 'd2'];
        const sends = range(1, 60).map((i) => sendUntilAcked(i % 2 ? a : b, message(rooms[i % 3]!, i)));
        await admin.db(new ConnectionString(uri).pathname.slice(1)).collection('messages').drop();
        const acked = await Promise.all(sends);
        await withTimeout(
          (async () => {
            while (a.epoch !== b.epoch) await Promise.allSettled([a.ping(), b.ping()]);
          })(),
          30_000,
          'both stores to serve one epoch',
        );
        // What was acked before the drop went with it: the log now holds what came after, by the same rules.
        expect(acked).toHaveLength(60);
        for (const room of rooms) await checkLog(uri, room, []);
        const indexes = await admin.db(new ConnectionString(uri).pathname.slice(1)).collection('messages').indexes();
        expect(indexes.filter((index) => index.unique).map((index) => index.name).sort()).toEqual(['room_clientId', 'room_seq']);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('loses nothing for a reader whose instance restarts while another keeps storing', async () => {
      proves('an instance closed and started again mid-stream: its reader resumes from its cursor and has 1..n, in order, once');
      const uri = fresh();
      const start = () => startTestServer({ STORE: 'mongodb', MONGODB_URI: uri });
      const a = await start();
      let b = await start();
      const sender = await TestSocket.open(a.wsUrl, await createSession(a.url, 'Ana'));
      let { socket: reader } = await subscribedSocket(b.wsUrl, 'restart', { after: 0 });
      const got: ChatMessage[] = [];
      for (const i of range(1, 10)) await sender.sendMessage('restart', `#${i}`);
      got.push(...(await reader.messagesUntil('restart', 10, 30_000)));
      await b.close();
      for (const i of range(11, 20)) await sender.sendMessage('restart', `#${i}`);
      b = await start();
      const resumed = await subscribedSocket(b.wsUrl, 'restart', { after: got.at(-1)!.seq });
      reader = resumed.socket;
      got.push(...resumed.subscribed.messages);
      for (const i of range(21, 30)) await sender.sendMessage('restart', `#${i}`);
      got.push(...(await reader.messagesUntil('restart', 30, 30_000)));
      expect(seqs(got)).toEqual(range(1, 30));
    });
  });

  const describeStepDown = target.members >= 3 ? describe : describe.skip;
  if (target.members < 3) {
    console.log(`[mongo faults] step-down test skipped: MONGODB_URI is a ${target.members}-node replica set; it needs 3 members (hello's hosts)`);
  }

  describeStepDown('a primary step-down', () => {
    it('loses, duplicates and skips nothing while the primary steps down under concurrent sends', async () => {
      proves('replSetStepDown during 200 concurrent sends in 4 rooms, each resent until acked: 0 lost, 0 duplicated, no hole in any room, and the epoch unchanged (a failover is not a wipe)');
      const uri = fresh();
      const store = await openMongoStore(uri, { operationTimeoutMs: 5000 });
      const epochBefore = store.epoch;
      const epochChanges: string[] = [];
      store.onFeedGap(() => {
        if (store.epoch !== epochBefore) epochChanges.push(store.epoch);
      });
      try {
        const rooms = ['s0', 's1', 's2', 's3'];
        let ackedSoFar = 0;
        let stepDown: () => void = () => undefined;
        const twentyAcked = new Promise<void>((resolve) => (stepDown = resolve));
        const sends = range(1, 200).map((i) =>
          sendUntilAcked(store, message(rooms[i % 4]!, i)).then((result) => {
            if (++ackedSoFar === 20) stepDown();
            return result;
          }),
        );
        // Step down once sends are flowing. The primary closes its connections as it steps down: the
        // command's own answer may be that error.
        await twentyAcked;
        await admin.db('admin').command({ replSetStepDown: 10, secondaryCatchUpPeriodSecs: 5 }).catch(() => undefined);
        const acked = await Promise.all(sends);
        for (const room of rooms) await checkLog(uri, room, acked.filter((result) => result.message.room === room));
        await sendUntilAcked(store, message('s0', 201));
        expect(epochChanges, 'the epoch never changed').toEqual([]);
        expect(store.epoch).toBe(epochBefore);
      } finally {
        await store.close();
      }
    });
  });
}
