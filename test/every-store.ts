// Runs a store contract against every store: the embedded one always (a fresh temp DATA_DIR per store),
// MongoDB whenever one is reachable (MONGODB_URI, or the mongodb-memory-server replica set of
// test/mongo-setup.ts); without one, the MongoDB suite is reported as skipped with its reason, never silently
// and never as a failure. The driver is never mocked.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, inject, it } from 'vitest';
import { openEmbeddedStore } from '../server/store/embedded';
import { openMongoStore, redactUri } from '../server/store/mongo';
import type { Store } from '../server/store/store';

/** A contract suite: `open` gives a fresh, empty store; `reopen` the same data as `closed`, after it was closed. */
export type DescribeContract = (name: string, open: () => Promise<Store>, reopen: (closed: Store) => Promise<Store>) => void;

/** Describes `contract` (named `what`, as "rooms") on the embedded store, and on MongoDB when one answers. */
export async function describeOnEveryStore(what: string, contract: DescribeContract): Promise<void> {
  describe('embedded store (lmdb)', () => {
    const dirs = new Map<Store, string>();
    afterAll(async () => {
      for (const dir of new Set(dirs.values())) await rm(dir, { recursive: true, force: true });
    });
    const openIn = (dir: string) => {
      const store = openEmbeddedStore(dir);
      dirs.set(store, dir);
      return store;
    };
    contract(
      'embedded',
      async () => openIn(await mkdtemp(join(tmpdir(), `parley-${what}-`))),
      async (closed) => openIn(dirs.get(closed) ?? '/nonexistent'),
    );
  });

  const mongo = inject('mongo');
  const runPrefix = `parley_${what}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const skipReason = await mongoSkipReason(mongo.uri, mongo.skip, runPrefix);
  if (skipReason !== undefined || !mongo.uri) {
    console.log(`[${what} contract] MongoDB suite skipped: ${skipReason}`);
    describe.skip(`${what} contract: mongodb — skipped: ${skipReason}`, () => {
      it('runs against MongoDB when one is reachable', () => undefined);
    });
    return;
  }
  const uri = mongo.uri;
  describe('mongodb store', () => {
    const databases = new Map<Store, string>();
    let count = 0;
    afterAll(async () => {
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
      await client.connect();
      for (const name of new Set([...databases.values(), `${runPrefix}_probe`])) await client.db(name).dropDatabase();
      await client.close();
    });
    const openIn = async (dbName: string) => {
      const store = await openMongoStore(uri, { dbName });
      databases.set(store, dbName);
      return store;
    };
    contract(
      `mongodb at ${redactUri(uri)}`,
      () => openIn(`${runPrefix}_${++count}`),
      (closed) => openIn(databases.get(closed) ?? `${runPrefix}_missing`),
    );
  });
}

async function mongoSkipReason(uri: string | undefined, skip: string | undefined, runPrefix: string): Promise<string | undefined> {
  if (!uri) return skip ?? 'no MongoDB';
  try {
    const probe = await openMongoStore(uri, { dbName: `${runPrefix}_probe`, serverSelectionTimeoutMS: 3000 });
    await probe.close();
    return undefined;
  } catch (error) {
    return `MongoDB at ${redactUri(uri)} did not answer: ${(error as Error).message}`;
  }
}
