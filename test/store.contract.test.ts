// Runs the store contract against every store: the embedded one always (a fresh temp DATA_DIR per
// store), MongoDB whenever one is reachable (MONGODB_URI, or a mongodb-memory-server replica set: see
// test/mongo-setup.ts). Without one, the MongoDB suite is reported as
// skipped with its reason, never silently and never as a failure. The driver is never mocked.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb, type Key } from 'lmdb';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openEmbeddedStore, type EmbeddedStore } from '../server/store/embedded';
import { openMongoStore, redactUri } from '../server/store/mongo';
import type { Store } from '../server/store/store';
import { range } from './helpers';
import { describeStoreContract } from './store.contract';

// ---- embedded -----------------------------------------------------------------------------------

describe('embedded store (lmdb)', () => {
  const dirs = new Map<Store, string>();
  afterAll(async () => {
    for (const dir of new Set(dirs.values())) await rm(dir, { recursive: true, force: true });
  });
  /** A new store in a directory of its own, removed after the suite. */
  async function newStore(): Promise<{ dir: string; store: EmbeddedStore }> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-store-'));
    const store = openEmbeddedStore(dir);
    dirs.set(store, dir);
    return { dir, store };
  }
  describeStoreContract(
    'embedded',
    async () => (await newStore()).store,
    async (closed) => {
      const dir = dirs.get(closed);
      if (!dir) throw new Error('reopen: not a store this suite opened');
      const store = openEmbeddedStore(dir);
      dirs.set(store, dir);
      return store;
    },
  );

  // LMDB shows a commit to reads before its flush: a reader must not get a message before its sender's ack.
  it('shows no read a message before its append resolves (when it is on disk)', async () => {
    const { store } = await newStore();
    const early: string[] = [];
    for (let i = 1; i <= 30; i++) {
      let acked = false;
      const append = store.append({ room: 'r', clientId: `client-${i}-xxxx`, author: 'alice', text: `#${i}` }).then(() => (acked = true));
      // Read on every turn of the event loop until the ack, as readers polling the room would.
      while (!acked) {
        const [head, after, before] = await Promise.all([store.head('r'), store.readAfter('r', i - 1, 10), store.readBefore('r', undefined, 10)]);
        if (!acked && (head >= i || after.length > 0 || before.at(-1)?.seq === i)) early.push(`#${i}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await append;
      expect((await store.readAfter('r', i - 1, 10)).map((m) => m.seq)).toEqual([i]);
    }
    expect(early).toEqual([]);
    await store.close();
  });

  // A message of MAX_TEXT_LENGTH is indexed under up to MAX_TERMS_PER_MESSAGE terms: 500 such messages in one
  // transaction held the event loop 580-750 ms, where 500 short ones hold it 27 (measured apart, not here).
  // What a user notices is a send elsewhere waiting for it: the send goes between two parts of the removal.
  it("removes a deleted room's long messages in parts: a send to another room is stored while most of them are still there", async () => {
    const { store } = await newStore();
    const room = `~${'l'.repeat(20)}`;
    const longText = (i: number) => Array.from({ length: 700 }, (_, j) => `w${i}x${j}`).join(' ').slice(0, 4000);
    // Fewer than one part of short messages (500): only the bound on text splits them.
    await Promise.all(range(1, 400).map((i) => store.append({ room, clientId: `long-${i}-xxxx`, author: 'alice', text: longText(i) })));
    await store.search.flush();
    const removal = store.removeRoomLog(room);
    const left = await store.append({ room: 'lobby', clientId: 'meanwhile-xxxx', author: 'bob', text: 'meanwhile' }).then(async () => (await store.readAfter(room, 0, 500)).length);
    expect(await removal).toBe(400);
    expect(left).toBeGreaterThan(300);
    expect(await store.readAfter(room, 0, 500)).toEqual([]);
    await store.close();
  });

  it("leaves no entry of a deleted room's log in any of its databases: messages, resend ids, heads, edit marks, search", async () => {
    const { dir, store } = await newStore();
    const gone = `~${'g'.repeat(20)}`;
    const first = await store.append({ room: gone, clientId: 'gone-1-xxxx', author: 'alice', text: 'our secret plan' });
    await store.append({ room: gone, clientId: 'gone-2-xxxx', author: 'alice', text: 'our secret plan, edited', change: { kind: 'edit', target: first.message.seq } });
    await store.append({ room: 'lobby', clientId: 'lobby-1-xxxx', author: 'alice', text: 'a public plan' });
    // Indexed, as a search would have it, before the room goes.
    await store.search.search({ terms: ['plan'], scope: { privateRooms: new Set([gone]) }, limit: 5, scanLimit: 1000 });
    // And one not indexed yet (marked to be, a moment later).
    await store.append({ room: gone, clientId: 'gone-3-xxxx', author: 'alice', text: 'one more plan' });
    expect(await store.removeRoomLog(gone)).toBe(3);
    await store.close();

    const root = openLmdb({ path: join(dir, 'parley.lmdb'), maxDbs: 32 });
    const mentions: Record<string, number> = {};
    for (const name of ['messages', 'clientIds', 'heads', 'edits', 'searchUnindexed', 'searchPostings']) {
      const db = root.openDB<unknown, Key>({ name, ...(name === 'searchPostings' ? { dupSort: true, encoding: 'ordered-binary' as const } : {}) });
      const entries = Array.from(db.getRange({}), ({ key, value }) => JSON.stringify([key, value]));
      mentions[name] = entries.filter((entry) => entry.includes(gone)).length;
      // The lobby's message is still there.
      if (['messages', 'clientIds', 'heads', 'searchPostings'].includes(name)) expect(entries.some((entry) => entry.includes('lobby')), name).toBe(true);
    }
    await root.close();
    expect(mentions).toEqual({ messages: 0, clientIds: 0, heads: 0, edits: 0, searchUnindexed: 0, searchPostings: 0 });
  });

  // Senders that send again on each ack keep a commit in flight at all times: readers must not wait for a
  // pause in the sending (issue 19: 1% of deliveries 70-210 ms late while acks stayed under 10 ms).
  it('hands readers each acked message on the next turn, while commits keep overlapping', async () => {
    const { store } = await newStore();
    const fed = new Set<string>();
    store.onAppend((messages) => messages.forEach((m) => fed.add(m.clientId)));
    const late: string[] = [];
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    /** Sends 100 messages, each `turns` turns of the event loop after the ack of the one before. */
    const sender = async (name: string, turns: number) => {
      for (let i = 1; i <= 100; i++) {
        const clientId = `${name}-${i}-xxxx`;
        await store.append({ room: 'r', clientId, author: name, text: `#${i}` });
        // The announcement was due before this callback ran: one turn later the feed has it.
        setImmediate(() => fed.has(clientId) || late.push(clientId));
        for (let turn = 0; turn < turns; turn++) await nextTurn();
      }
    };
    // Each a turn apart from the others, as sends from several sockets arrive: their transactions overlap.
    await Promise.all([sender('a', 0), sender('b', 1), sender('c', 2), sender('d', 3)]);
    await nextTurn();
    expect(late).toEqual([]);
    expect(fed.size).toBe(400);
    await store.close();
  });
});

// ---- MongoDB ------------------------------------------------------------------------------------

const mongo = inject('mongo');
const mongoUri = mongo.uri;
/** Every database of this run starts with this, so that one run never sees another's data. */
const runPrefix = `parley_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

async function mongoSkipReason(): Promise<string | undefined> {
  if (!mongoUri) return mongo.skip ?? 'no MongoDB';
  try {
    const probe = await openMongoStore(mongoUri, { dbName: `${runPrefix}_probe`, serverSelectionTimeoutMS: 3000 });
    await probe.close();
    await dropDatabases([`${runPrefix}_probe`]);
    return undefined;
  } catch (error) {
    return `MongoDB at ${redactUri(mongoUri)} did not answer: ${(error as Error).message}`;
  }
}

async function dropDatabases(names: Iterable<string>): Promise<void> {
  if (!mongoUri) return;
  const client = new MongoClient(mongoUri, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.connect();
    for (const name of names) await client.db(name).dropDatabase();
  } finally {
    await client.close();
  }
}

const skipReason = await mongoSkipReason();
if (skipReason !== undefined || !mongoUri) {
  const reason = skipReason ?? 'MONGODB_URI is not set';
  console.log(`[store contract] MongoDB suite skipped: ${reason}`);
  describe.skip(`Store contract: mongodb — skipped: ${reason}`, () => {
    it('runs against MongoDB when one is reachable', () => undefined);
  });
} else {
  const uri = mongoUri;
  describe('mongodb store', () => {
    const databases = new Map<Store, string>();
    let count = 0;
    afterAll(async () => {
      await dropDatabases(new Set(databases.values()));
    });
    describeStoreContract(
      `mongodb at ${redactUri(uri)}`,
      async () => {
        const dbName = `${runPrefix}_${++count}`;
        const store = await openMongoStore(uri, { dbName });
        databases.set(store, dbName);
        return store;
      },
      async (closed) => {
        const dbName = databases.get(closed);
        if (!dbName) throw new Error('reopen: not a store this suite opened');
        const store = await openMongoStore(uri, { dbName });
        databases.set(store, dbName);
        return store;
      },
    );
  });
}
