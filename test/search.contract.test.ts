// Runs the search contract against every store: the embedded one always, MongoDB when one is reachable
// (MONGODB_URI, or a mongodb-memory-server replica set: see test/mongo-setup.ts); without one the MongoDB
// suite is skipped and prints why.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { open } from 'lmdb';
import { openEmbeddedStore } from '../server/store/embedded';
import { openMongoStore, redactUri } from '../server/store/mongo';
import { parseQuery } from '../server/search/terms';
import { describeSearchContract } from './search.contract';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describeSearchContract('embedded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-search-'));
  dirs.push(dir);
  return openEmbeddedStore(dir);
});

// A send marks its message, and the index is written a moment later: what a stop or a crash left marked is
// indexed when the store opens again.
it('embedded: indexes after a restart what was stored but not indexed yet', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-search-'));
  dirs.push(dir);
  const store = openEmbeddedStore(dir);
  await store.append({ room: 'ops', clientId: 'restart-0001', author: 'ann', text: 'written before the stop' });
  await store.close();
  const reopened = openEmbeddedStore(dir);
  try {
    const { messages } = await reopened.search.search({ terms: ['stop'], scope: { privateRooms: new Set() }, limit: 5, scanLimit: 1000 });
    expect(messages.map((message) => message.text)).toEqual(['written before the stop']);
  } finally {
    await reopened.close();
  }
});

// A log from before search (its messages neither indexed nor marked) is indexed in the background, a batch
// at a time; a search meanwhile finds what is indexed so far, and everything once it is done.
it('embedded: indexes a log stored before search existed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-search-'));
  dirs.push(dir);
  const store = openEmbeddedStore(dir);
  // As before search: the store keeps messages and marks none.
  store.search.add = () => undefined;
  for (let i = 0; i < 7000; i++) await store.append({ room: `r${i % 3}`, clientId: `old-${String(i).padStart(6, '0')}`, author: 'ann', text: `old message ${i}` });
  await store.close();
  const root = open({ path: join(dir, 'parley.lmdb') });
  await root.openDB({ name: 'searchProgress' }).remove('backfill');
  await root.close();
  const reopened = openEmbeddedStore(dir);
  try {
    const search = () => reopened.search.search({ terms: ['old'], scope: { privateRooms: new Set() }, limit: 10_000, scanLimit: 1_000_000 });
    // A search indexes a batch of the old log first (5,000 messages), not all of it: it answers at once.
    expect((await search()).messages.length).toBeGreaterThanOrEqual(5000);
    // Each flush (a search's, or the timer's) indexes a batch more, until the whole log is done.
    await reopened.search.flush();
    expect((await search()).messages).toHaveLength(7000);
  } finally {
    await reopened.close();
  }
});

const mongo = inject('mongo');
const runPrefix = `parley_search_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const databases: string[] = [];

async function mongoSkipReason(): Promise<string | undefined> {
  if (!mongo.uri) return mongo.skip ?? 'MONGODB_URI is not set';
  try {
    const probe = await openMongoStore(mongo.uri, { dbName: `${runPrefix}_probe`, serverSelectionTimeoutMS: 3000 });
    await probe.close();
    databases.push(`${runPrefix}_probe`);
    return undefined;
  } catch (error) {
    return `MongoDB at ${redactUri(mongo.uri)} did not answer: ${(error as Error).message}`;
  }
}

const skipReason = await mongoSkipReason();
if (skipReason !== undefined || !mongo.uri) {
  console.log(`[search contract] MongoDB suite skipped: ${skipReason}`);
  describe.skip(`search contract: mongodb — skipped: ${skipReason}`, () => {
    it('runs against MongoDB when one is reachable', () => undefined);
  });
} else {
  const uri = mongo.uri;
  afterAll(async () => {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
    try {
      await client.connect();
      for (const name of databases) await client.db(name).dropDatabase();
    } finally {
      await client.close();
    }
  });
  describeSearchContract(`mongodb at ${redactUri(uri)}`, async () => {
    const dbName = `${runPrefix}_${databases.length + 1}`;
    databases.push(dbName);
    return openMongoStore(uri, { dbName });
  });

  it('mongodb: gives their terms to the messages stored before search', async () => {
    const dbName = `${runPrefix}_${databases.length + 1}`;
    databases.push(dbName);
    const store = await openMongoStore(uri, { dbName });
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
    try {
      await client.connect();
      // As an older Parley stored it: no terms.
      await client.db(dbName).collection('messages').insertOne({ room: 'ops', seq: 1, clientId: 'old-000001', author: 'ann', text: 'an old deployment note', at: 1 });
      // (The store's own backfill, started as it opened, may have found it first.)
      expect(await store.search.backfill(() => false)).toBeLessThanOrEqual(1);
      const { messages } = await store.search.search({ terms: parseQuery('deployment').terms, scope: { privateRooms: new Set() }, limit: 5, scanLimit: 1000 });
      expect(messages.map((message) => message.text)).toEqual(['an old deployment note']);
      expect(await store.search.backfill(() => false)).toBe(0);
    } finally {
      await client.close();
      await store.close();
    }
  });
}
