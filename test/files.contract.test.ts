// Runs the FileStore contract against every store: the embedded one always (a fresh temp DATA_DIR per
// store), MongoDB's GridFS whenever one is reachable (MONGODB_URI, or a mongodb-memory-server replica set:
// see test/mongo-setup.ts). Without one, the MongoDB suite is reported as skipped with its reason.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openEmbeddedStore } from '../server/store/embedded';
import { openMongoStore, redactUri } from '../server/store/mongo';
import type { Store } from '../server/store/store';
import { describeFileStoreContract } from './files.contract';

describe('embedded store (lmdb + DATA_DIR/files)', () => {
  const dirs = new Map<Store, string>();
  afterAll(async () => {
    for (const dir of new Set(dirs.values())) await rm(dir, { recursive: true, force: true });
  });
  /** A store on `dir` (a new one by default), removed with the others after the suite. */
  const openIn = async (dir?: string) => {
    const where = dir ?? (await mkdtemp(join(tmpdir(), 'parley-files-')));
    const store = openEmbeddedStore(where);
    dirs.set(store, where);
    return { dir: where, store };
  };
  const body = async function* (text: string) {
    yield Buffer.from(text);
  };
  it('removes, when it opens, what a crash left behind: partial uploads, and bytes without a record', async () => {
    const { dir, store } = await openIn();
    const kept = await store.files.put({ id: 'AAAAAAAAAAAAAAAAAAAAAA', room: 'lobby', session: 's', owner: 'u', name: 'a.txt', type: 'text/plain' }, body('kept'));
    await store.close();
    await writeFile(join(dir, 'files', 'tmp', 'BBBBBBBBBBBBBBBBBBBBBB'), 'half an upload');
    await writeFile(join(dir, 'files', 'CCCCCCCCCCCCCCCCCCCCCC'), 'bytes whose record never made it');
    const { store: again } = await openIn(dir);
    expect((await readdir(join(dir, 'files'))).sort()).toEqual([kept.id, 'tmp']);
    expect(await readdir(join(dir, 'files', 'tmp'))).toEqual([]);
    expect(await again.files.get(kept.id)).toEqual(kept);
    await again.close();
  });

  it("indexes by room, when it opens, files stored before that index: a deleted room's older files go too", async () => {
    const { dir, store } = await openIn();
    const room = '~aaaaaaaaaaaaaaaaaaaa';
    const older = await store.files.put({ id: 'AAAAAAAAAAAAAAAAAAAAAA', room, session: 's', owner: 'u', name: 'a.txt', type: 'text/plain' }, body('older'));
    await store.close();
    // As a DATA_DIR from before the index: the records without their entries.
    const root = openLmdb({ path: join(dir, 'parley.lmdb'), maxDbs: 32 });
    root.openDB({ name: 'roomFiles' }).clearSync();
    await root.close();
    const { store: again } = await openIn(dir);
    expect(await again.files.privateRoomsWithFiles(undefined, 10)).toEqual([room]);
    expect(await again.files.removeRoom(room)).toBe(1);
    expect(await again.files.get(older.id)).toBeUndefined();
    expect(await again.files.usage('u')).toEqual({ files: 0, bytes: 0, unattached: 0 });
    expect(await readdir(join(dir, 'files'))).toEqual(['tmp']);
    await again.close();
  });

  describeFileStoreContract(
    'embedded',
    async () => (await openIn()).store,
    async (closed) => {
      const dir = dirs.get(closed);
      if (!dir) throw new Error('reopen: not a store this suite opened');
      return (await openIn(dir)).store;
    },
  );
});

const mongo = inject('mongo');
const runPrefix = `parley_files_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

async function mongoSkipReason(): Promise<string | undefined> {
  if (!mongo.uri) return mongo.skip ?? 'no MongoDB';
  try {
    const probe = await openMongoStore(mongo.uri, { dbName: `${runPrefix}_probe`, serverSelectionTimeoutMS: 3000 });
    await probe.close();
    return undefined;
  } catch (error) {
    return `MongoDB at ${redactUri(mongo.uri)} did not answer: ${(error as Error).message}`;
  }
}

const skipReason = await mongoSkipReason();
if (skipReason !== undefined || !mongo.uri) {
  const reason = skipReason ?? 'MONGODB_URI is not set';
  console.log(`[files contract] MongoDB (GridFS) suite skipped: ${reason}`);
  describe.skip(`FileStore contract: mongodb — skipped: ${reason}`, () => {
    it('runs against MongoDB when one is reachable', () => undefined);
  });
} else {
  const uri = mongo.uri;
  describe('mongodb store (GridFS)', () => {
    const databases = new Map<Store, string>();
    let count = 0;
    afterAll(async () => {
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
      try {
        await client.connect();
        for (const name of new Set([...databases.values(), `${runPrefix}_probe`])) await client.db(name).dropDatabase();
      } finally {
        await client.close();
      }
    });
    describeFileStoreContract(
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
