// Several instances on one MongoDB replica set: a message sent to one is delivered by every other, in seq
// order, over WebSocket and long-poll, and a reader of a restarted instance resumes from its cursor. Runs whenever a MongoDB is reachable (see test/mongo-setup.ts); skipped, saying why,
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

    const start = () => startTestServer({ STORE: 'mongodb', MONGODB_URI: uri });

    it('delivers what either instance stores through both, in seq order, and a reader of a restarted instance resumes', async () => {
      const a = await start();
      const b = await start();
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

      // Restarted, B follows from its start; its reader resumes from its own cursor, read from the store.
      await b.close();
      await senderA.sendMessage('shared', 'while b is down');
      const b2 = await start();
      const { socket: readerOnB2, subscribed } = await subscribedSocket(b2.wsUrl, 'shared', { after: 20 });
      expect(seqs(subscribed.messages)).toEqual([21]);
      await senderA.sendMessage('shared', 'after the restart');
      expect(seqs(await readerOnB2.messagesUntil('shared', 22, 10_000))).toEqual([22]);
    });
  });
}
