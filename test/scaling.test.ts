// Several instances on one MongoDB replica set: a message sent to one is delivered by every other, in seq
// order, over WebSocket and long-poll, and an instance saves its change-stream position so that a restart
// resumes from it. Runs whenever a MongoDB is reachable (see test/mongo-setup.ts); skipped, saying why,
// otherwise.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { redactUri } from '../server/store/mongo';
import type { WaitResponse } from '../server/protocol';
import { autoCleanup, createSession, http, seqs, startTestServer, subscribedSocket, TestSocket } from './helpers';

autoCleanup();

const mongo = inject('mongo');
const dbName = `parley_scaling_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

/** The URI with its database set to `name` (the server takes the database from the URI's path). */
function withDatabase(uri: string, name: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${name}`);
}

if (!mongo.uri) {
  console.log(`[scaling] two-instance test skipped: ${mongo.skip}`);
  describe.skip(`two instances on one MongoDB replica set — skipped: ${mongo.skip}`, () => {
    it('delivers a message sent to one instance through the other', () => undefined);
  });
} else {
  const uri = withDatabase(mongo.uri, dbName);
  describe(`two instances on one MongoDB at ${redactUri(mongo.uri)}`, () => {
    afterAll(async () => {
      const client = new MongoClient(uri);
      try {
        await client.db(dbName).dropDatabase();
      } finally {
        await client.close();
      }
    });

    const start = (instanceId: string) => startTestServer({ STORE: 'mongodb', MONGODB_URI: uri, INSTANCE_ID: instanceId });

    it('delivers what either instance stores through both, in seq order, and a restart resumes its change stream', async () => {
      const a = await start('test-a');
      const b = await start('test-b');
      const cookieA = await createSession(a.url, 'Ana');
      const cookieB = await createSession(b.url, 'Ben');
      const { socket: readerOnB } = await subscribedSocket(b.wsUrl, 'shared', { after: 0 });
      const { socket: readerOnA } = await subscribedSocket(a.wsUrl, 'shared', { after: 0 });
      const heldOnB = http<WaitResponse>(b.url, 'GET', '/wait?room=shared&after=0');

      const senderA = await TestSocket.open(a.wsUrl, cookieA);
      const senderB = await TestSocket.open(b.wsUrl, cookieB);
      // Both instances write to the same room at once: seqs stay unique and gapless across them.
      const acks = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => senderA.sendMessage('shared', `from a ${i}`)),
        ...Array.from({ length: 10 }, (_, i) => senderB.sendMessage('shared', `from b ${i}`)),
      ]);
      expect(acks.map((ack) => ack.message.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

      const onB = await readerOnB.messagesUntil('shared', 20, 10_000);
      const onA = await readerOnA.messagesUntil('shared', 20, 10_000);
      expect(seqs(onB)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(onA).toEqual(onB);
      const waited = await heldOnB;
      expect(waited.body.type).toBe('messages');

      // B saves its change-stream position; restarted, it picks up from there and keeps delivering.
      await b.close();
      const client = new MongoClient(uri);
      try {
        await client.connect();
        const saved = await client.db(dbName).collection('instances').findOne({ _id: 'test-b' as never });
        expect(saved?.resumeToken).toBeDefined();
      } finally {
        await client.close();
      }
      const b2 = await start('test-b');
      const { socket: readerOnB2 } = await subscribedSocket(b2.wsUrl, 'shared', { after: 20 });
      await senderA.sendMessage('shared', 'after the restart');
      expect(seqs(await readerOnB2.messagesUntil('shared', 21, 10_000))).toEqual([21]);
    });
  });
}
