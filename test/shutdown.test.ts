// Graceful shutdown of the real process: on SIGTERM or SIGINT it stops accepting, answers held long-polls,
// closes sockets with 1001, finishes the writes under way (every acked message is on disk), closes the
// store and exits 0 within a few seconds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, type SendResponse, type ServerFrame, type WaitResponse } from '../server/protocol';
import { ChildServer, freePort } from './child-server';
import {
  autoCleanup,
  createSession,
  history,
  http,
  newClientId,
  postMessage,
  range,
  seqs,
  stillPendingAfter,
  subscribedSocket,
  tempDir,
  TestSocket,
  withTimeout,
} from './helpers';

autoCleanup();

const running: ChildServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) if (server.running) await server.kill('SIGKILL');
});

async function start(port: number, dataDir: string): Promise<ChildServer> {
  const server = await ChildServer.start(port, dataDir, { WAIT_TIMEOUT_MS: '20000' });
  running.push(server);
  return server;
}

describe('graceful shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: 1001 to sockets, held /wait answered, acked writes kept, exit 0 within 5 s`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'parley-shutdown-'));
      try {
        const port = await freePort();
        const base = `http://127.0.0.1:${port}`;
        const wsUrl = `ws://127.0.0.1:${port}/ws`;
        const server = await start(port, dataDir);
        const cookie = await createSession(base, 'Closer');

        const { socket: reader } = await subscribedSocket(wsUrl, 'busy', { after: 0 });
        const heldWait = http<WaitResponse>(base, 'GET', '/wait?room=quiet&after=0');
        expect(await stillPendingAfter(heldWait, 200)).toBe(true);

        // A stream of sends under way when the signal comes: over WebSocket, and over HTTP.
        const sender = await TestSocket.open(wsUrl, cookie);
        const socketIds = Array.from({ length: 100 }, () => newClientId());
        const acked = new Map<string, number>();
        let firstAck!: () => void;
        const firstAcked = new Promise<void>((resolve) => (firstAck = resolve));
        sender.ws.on('message', (data) => {
          const frame = JSON.parse(String(data)) as ServerFrame;
          if (frame.type !== 'ack') return;
          acked.set(frame.clientId, frame.message.seq);
          firstAck();
        });
        for (const clientId of socketIds) sender.send({ type: 'send', room: 'busy', clientId, text: `ws ${clientId}` });
        const httpIds = Array.from({ length: 10 }, () => newClientId());
        const posts = httpIds.map((clientId) =>
          postMessage<SendResponse>(base, 'busy', { clientId, text: `http ${clientId}` }, cookie)
            .then((answer) => {
              if (answer.status === 201 || answer.status === 200) acked.set(clientId, answer.body.message.seq);
            })
            .catch(() => undefined),
        );
        await withTimeout(firstAcked, 5000, 'the first ack');
        expect(acked.size).toBeGreaterThan(0);

        const signalled = Date.now();
        const exit = await server.kill(signal, 5000);
        const took = Date.now() - signalled;
        expect(exit).toEqual({ code: 0, signal: null });
        expect(took).toBeLessThan(5000);

        expect((await withTimeout(reader.closed, 2000, 'the reader to be closed')).code).toBe(CloseCode.goingAway);
        expect((await withTimeout(sender.closed, 2000, 'the sender to be closed')).code).toBe(CloseCode.goingAway);
        const waited = await heldWait;
        expect(waited.status).toBe(200);
        expect(waited.body).toMatchObject({ type: 'messages', room: 'quiet', messages: [] });
        await Promise.all(posts);
        expect(acked.size).toBeGreaterThan(0);
        // What the reader got before 1001 is a gapless prefix of the log.
        const seen = reader.remainingMessages();
        expect(seqs(seen)).toEqual(range(1, seen.length));

        // Restarted on the same data dir: every acked message is there, at the seq its ack named.
        await start(port, dataDir);
        const log = (await history(base, 'busy', '?limit=200')).messages;
        expect(seqs(log)).toEqual(range(1, log.length));
        for (const [clientId, seq] of acked) expect(log[seq - 1]?.clientId).toBe(clientId);
        // ...and every message stored before the exit was acked: the writes under way finished, their acks went out.
        expect(log.filter((message) => !acked.has(message.clientId)).map((message) => message.seq)).toEqual([]);
        // The client resends what had no ack: each ends up stored once, resends of stored ones turned into the original.
        for (const clientId of [...socketIds, ...httpIds].filter((id) => !acked.has(id))) {
          const answer = await postMessage<SendResponse>(base, 'busy', { clientId, text: `again ${clientId}` }, cookie);
          expect([200, 201]).toContain(answer.status);
        }
        const final = (await history(base, 'busy', '?limit=200')).messages;
        expect(seqs(final)).toEqual(range(1, socketIds.length + httpIds.length));
        expect(new Set(final.map((m) => m.clientId))).toEqual(new Set([...socketIds, ...httpIds]));
        console.log(`shutdown on ${signal}: exit 0 in ${took} ms, ${acked.size} of ${final.length} sends acked before it, ${log.length} stored by then`);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    }, 30_000);
  }
});

// `npm start | head -2`: the reader of stdout goes away after two lines, and every log line after that meets a
// closed pipe. The server must go on serving, and stop at once on SIGTERM.
describe('stdout closed by its reader', () => {
  for (const meanwhile of ['nothing', 'a WebSocket opened and closed'] as const) {
    it(`after ${meanwhile} was logged to the closed stdout: HTTP still answers, SIGTERM exits 0 within 5 s`, async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const server = await ChildServer.start(port, await tempDir(), { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
      running.push(server);
      // As `head -2` does: read the first lines, then go away.
      await server.written('Parley is listening');
      server.process.stdout?.destroy();

      if (meanwhile !== 'nothing') {
        const socket = await TestSocket.open(`ws://127.0.0.1:${port}/ws`);
        socket.ws.close();
        await socket.closed;
      }
      expect((await http(base, 'GET', '/healthz')).status).toBe(200);
      expect(server.running).toBe(true);

      const signalled = Date.now();
      const exit = await server.kill('SIGTERM', 5000);
      expect(exit).toEqual({ code: 0, signal: null });
      console.log(`stdout closed, ${meanwhile} logged meanwhile: exit 0 in ${Date.now() - signalled} ms after SIGTERM`);
    }, 30_000);
  }
});
