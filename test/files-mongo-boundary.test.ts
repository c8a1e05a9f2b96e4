// The GridFS file store at the driver boundary, with no MongoDB: the driver's own MongoClient and
// GridFSBucket, against 127.0.0.1:1 where nothing answers. A MongoDB failure is a retryable
// StoreUnavailableError; a failure of the upload's own body (the client went away, a limit cut it off) is
// thrown as it is, so that the client is told that and not "try again". The contract suite
// (files.contract.test.ts) runs the rest on a real MongoDB when one is reachable.
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { MongoFileStore } from '../server/files/mongo-store';
import { StoreUnavailableError } from '../server/store/store';

const file = { id: 'q8Xv1nJ0b2TfS7kLw9aQ3c', room: 'lobby', session: 's', owner: 'u', name: 'a.txt', type: 'text/plain' };

describe('MongoFileStore at the driver boundary', () => {
  let client: MongoClient;
  const open = (closed = false) => {
    client = new MongoClient('mongodb://127.0.0.1:1/parley', { serverSelectionTimeoutMS: 200 });
    return new MongoFileStore(client.db('parley'), { writeConcern: { w: 'majority' } }, 500, () => closed);
  };
  afterEach(async () => {
    await client.close();
  });

  it('reports an unreachable MongoDB as store_unavailable, on reads and on uploads', async () => {
    const files = open();
    await expect(files.get(file.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(files.usage('u')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(files.guestUsage('203.0.113.7')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(files.removeRoom('~aaaaaaaaaaaaaaaaaaaa')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(files.privateRoomsWithFiles(undefined, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    async function* body() {
      yield Buffer.from('hello');
    }
    await expect(files.put(file, body())).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('throws the body\'s own failure as it is', async () => {
    const files = open();
    const cut = new Error('the client went away');
    async function* body(): AsyncGenerator<Buffer> {
      yield* [];
      throw cut;
    }
    await expect(files.put(file, body())).rejects.toBe(cut);
  });

  it('refuses every call once the store is closed', async () => {
    const files = open(true);
    await expect(files.get(file.id)).rejects.toThrow('the store is closed');
    await expect(files.put(file, (async function* () {})())).rejects.toThrow('the store is closed');
  });
});
