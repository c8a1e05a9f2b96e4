// Runs the rooms.contract against every store: the embedded one always, MongoDB whenever one is
// reachable (MONGODB_URI, or the mongodb-memory-server replica set of test/mongo-setup.ts); without one,
// the MongoDB suite is reported as skipped with its reason. The driver is never mocked.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, inject, it } from 'vitest';
import { openEmbeddedStore } from '../server/store/embedded';
import { openMongoStore, redactUri } from '../server/store/mongo';
import type { Store } from '../server/store/store';
import { describeRoomStoreContract } from './rooms.contract';

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
  describeRoomStoreContract(
    'embedded',
    async () => openIn(await mkdtemp(join(tmpdir(), 'parley-rooms-'))),
    async (closed) => openIn(dirs.get(closed) ?? '/nonexistent'),
  );
});

const mongo = inject('mongo');
const runPrefix = `parley_rooms_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

async function mongoSkipReason(uri: string | undefined): Promise<string | undefined> {
  if (!uri) return mongo.skip ?? 'no MongoDB';
  try {
    const probe = await openMongoStore(uri, { dbName: `${runPrefix}_probe`, serverSelectionTimeoutMS: 3000 });
    await probe.close();
    return undefined;
  } catch (error) {
    return `MongoDB at ${redactUri(uri)} did not answer: ${(error as Error).message}`;
  }
}

const skipReason = await mongoSkipReason(mongo.uri);
if (skipReason !== undefined || !mongo.uri) {
  console.log(`[rooms contract] MongoDB suite skipped: ${skipReason}`);
  describe.skip(`RoomStore contract: mongodb — skipped: ${skipReason}`, () => {
    it('runs against MongoDB when one is reachable', () => undefined);
  });
} else {
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
    describeRoomStoreContract(
      `mongodb at ${redactUri(uri)}`,
      () => openIn(`${runPrefix}_${++count}`),
      (closed) => openIn(databases.get(closed) ?? `${runPrefix}_missing`),
    );
  });
}
