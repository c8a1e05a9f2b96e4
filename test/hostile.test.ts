// Hostile clients, over real sockets on 127.0.0.1: each test runs one attack of issue 14 against a server
// with the default MAX_BUFFERED_BYTES (1 MiB) and asserts, with figures, that the server holds a bounded
// amount for the attackers, cuts them, and keeps serving a normal visitor meanwhile. The server runs in this
// process, so its memory is this process's resident set; the attackers cost next to nothing here (they do
// not read).
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ParleyServer } from '../server/app';
import { CloseCode } from '../server/protocol';
import { autoCleanup, createSession, deferCleanup, http, newClientId, ofType, range, startTestServer, subscribedSocket, TestSocket, withTimeout } from './helpers';

autoCleanup();

/**
 * The room the attacks read: 1,000 messages of 4,000 characters that JSON escapes (\u0001, 6 bytes each), as an
 * attacker would pick them: 24 KB a message, 24 MB for the whole room.
 */
const ROOM = 'big';
const MESSAGES = 1000;
const TEXT = '\u0001'.repeat(4000);
const VISITOR_ROOM = 'lobby';
/** How soon a client that takes nothing of what it is sent is cut (the default is 10 s; shorter keeps the test short). */
const SLOW_READER_TIMEOUT_MS = 1000;
/** What a normal visitor must still get during an attack: /healthz, and its message back, within this. */
const VISITOR_LATENCY_MS = 1000;
/** How long an attack may run before the server must have cut every attacker. */
const ATTACK_DEADLINE_MS = 12_000;

const rssMb = (): number => process.memoryUsage.rss() / 2 ** 20;

async function fillRoom(server: ParleyServer): Promise<void> {
  await Promise.all(range(1, MESSAGES).map((i) => server.store.append({ room: ROOM, clientId: `fill-${i}-of-the-room`, author: 'Filler', text: TEXT })));
}

/**
 * A normal visitor during an attack: asks /healthz, and sends a message that it waits to read back, at a
 * person's pace, until stopped. Keeps the slowest of each. It chats in a room of its own, so that the
 * attacked room keeps exactly MESSAGES (MAX_REPLAY): a cursor at 0 is replayed, not reset.
 */
class Visitor {
  worstHealthMs = 0;
  worstDeliveryMs = 0;
  rounds = 0;
  private running = true;
  private done: Promise<void> = Promise.resolve();

  private constructor(
    private readonly url: string,
    private readonly reader: TestSocket,
    private readonly sender: TestSocket,
  ) {}

  static async arrive(url: string, wsUrl: string): Promise<Visitor> {
    const cookie = await createSession(url, 'Visitor');
    const { socket: reader } = await subscribedSocket(wsUrl, VISITOR_ROOM);
    const sender = await TestSocket.open(wsUrl, cookie);
    const visitor = new Visitor(url, reader, sender);
    visitor.done = visitor.visit();
    return visitor;
  }

  async leave(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async visit(): Promise<void> {
    try {
      await this.keepVisiting();
    } catch {
      // Turned away, or no message back within 10 s: the worst latency there is.
      this.worstHealthMs = this.worstDeliveryMs = Number.POSITIVE_INFINITY;
    }
  }

  private async keepVisiting(): Promise<void> {
    while (this.running) {
      let started = performance.now();
      const health = await http(this.url, 'GET', '/healthz');
      if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
      this.worstHealthMs = Math.max(this.worstHealthMs, performance.now() - started);
      started = performance.now();
      const clientId = newClientId();
      const delivered = this.reader.next(ofType('messages', (f) => f.messages.some((m) => m.clientId === clientId)), 10_000);
      this.sender.send({ type: 'send', room: VISITOR_ROOM, clientId, text: 'still here?' });
      await delivered;
      this.worstDeliveryMs = Math.max(this.worstDeliveryMs, performance.now() - started);
      this.rounds++;
      await new Promise((resolve) => setTimeout(resolve, 100)); // a person's pace
    }
  }
}

/** A WebSocket client that stops reading once open: its TCP socket is paused, so what the server sends piles up. */
async function nonReadingSocket(wsUrl: string): Promise<WebSocket> {
  const ws = new WebSocket(wsUrl);
  ws.on('error', () => undefined); // surfaces as its close
  deferCleanup(async () => ws.terminate());
  await withTimeout(new Promise((resolve) => ws.once('open', resolve)), 5000, 'an attacker socket to open');
  (ws as unknown as { _socket: Socket })._socket.pause();
  return ws;
}

/**
 * An HTTP connection that asks for /healthz, reads the answer (so the server has taken the connection in),
 * then reads nothing more: what the server sends it afterwards piles up.
 */
async function nonReadingConnection(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined); // surfaces as its close
  deferCleanup(async () => void socket.destroy());
  socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  let text = '';
  const answered = new Promise<void>((resolve) => {
    const take = (chunk: Buffer) => {
      text += chunk.toString();
      if (!/\r\n\r\n\{.*\}$/s.test(text)) return;
      socket.off('data', take);
      socket.pause();
      resolve();
    };
    socket.on('data', take);
  });
  await withTimeout(answered, 5000, 'an attacker connection to be answered');
  return socket;
}

/**
 * Runs an attack until the server has cut every attacker, the deadline passes, or this process has grown
 * by `limitMb` (unbounded, it would grow by GBs). `step` is one round of it; an attacker finds itself cut
 * without reading anything, when its next write fails. Returns the growth at its peak and how long it took.
 */
async function attack(step: () => void, closes: readonly Promise<unknown>[], limitMb: number): Promise<{ peakMb: number; cutMs: number | undefined }> {
  let closed = 0;
  for (const close of closes) void close.then(() => closed++);
  const before = rssMb();
  const started = performance.now();
  const deadline = started + ATTACK_DEADLINE_MS;
  let peakMb = 0;
  while (closed < closes.length && performance.now() < deadline && peakMb < limitMb) {
    step();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the attackers' pace: 20 rounds a second
    peakMb = Math.max(peakMb, rssMb() - before);
  }
  return { peakMb, cutMs: closed === closes.length ? performance.now() - started : undefined };
}

describe('a client that does not read (issue 14, items 1 and 2)', () => {
  it('cannot make the server hold more than MAX_BUFFERED_BYTES for its WebSocket by asking for replays it never reads', async () => {
    const { server, url, wsUrl } = await startTestServer({ SLOW_READER_TIMEOUT_MS: String(SLOW_READER_TIMEOUT_MS) });
    await fillRoom(server);
    const visitor = await Visitor.arrive(url, wsUrl);
    // Bounded: 10 sockets times the 1 MiB default bound, plus what reading the room for them costs for a moment.
    const limitMb = 120;

    // The attack of issue 14: 10 sockets that never read, each asking for the whole room (after: 0) again and
    // again. Unbounded, each ask queued the room (24 MB) once more.
    const attackers = await Promise.all(range(1, 10).map(() => nonReadingSocket(wsUrl)));
    const closes = attackers.map((ws) => new Promise<number>((resolve) => ws.once('close', resolve)));
    const ask = JSON.stringify({ type: 'subscribe', room: ROOM, after: 0 });
    const { peakMb, cutMs } = await attack(() => attackers.forEach((ws) => ws.readyState === ws.OPEN && ws.send(ask)), closes, limitMb);
    await visitor.leave();

    console.log(
      `replay attack: server grew ${peakMb.toFixed(0)} MB at most (limit ${limitMb}); attackers cut after ${cutMs?.toFixed(0)} ms; ` +
        `visitor: /healthz ${visitor.worstHealthMs.toFixed(0)} ms, delivery ${visitor.worstDeliveryMs.toFixed(0)} ms at worst over ${visitor.rounds} rounds`,
    );
    expect(peakMb).toBeLessThan(limitMb);
    // Cut: the 4008 close frame waits behind what they never read, so they find the connection gone (1006).
    expect(cutMs).toBeDefined();
    for (const code of await Promise.all(closes)) expect([CloseCode.slowReader, 1006]).toContain(code);
    expect(visitor.rounds).toBeGreaterThan(5);
    expect(visitor.worstHealthMs).toBeLessThan(VISITOR_LATENCY_MS);
    expect(visitor.worstDeliveryMs).toBeLessThan(VISITOR_LATENCY_MS);
  }, 30_000);

  it('cannot make the server hold more than MAX_BUFFERED_BYTES per HTTP connection by asking for history and /wait pages it never reads', async () => {
    const { server, url, wsUrl } = await startTestServer({ SLOW_READER_TIMEOUT_MS: String(SLOW_READER_TIMEOUT_MS) });
    await fillRoom(server);
    const visitor = await Visitor.arrive(url, wsUrl);
    // Bounded: 20 connections times the 1 MiB default bound, plus what reading the room for them costs for a moment.
    const limitMb = 120;

    // 20 connections that never read, each asking for 200-message history pages and for the whole room over
    // /wait, 10 requests at once (pipelined), then one more every round. Unbounded, each answer (5 and 24 MB)
    // was made at once and kept until read.
    const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`;
    const asks = [request(`/api/rooms/${ROOM}/messages?limit=200`), request(`/wait?room=${ROOM}&after=0`)];
    const attackers = await Promise.all(range(1, 20).map(() => nonReadingConnection(server.port)));
    attackers.forEach((socket) => socket.write(asks.join('').repeat(5)));
    const closes = attackers.map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
    let round = 0;
    const { peakMb, cutMs } = await attack(() => attackers.forEach((socket) => socket.destroyed || socket.write(asks[round++ % 2] ?? '')), closes, limitMb);
    await visitor.leave();

    console.log(
      `page attack: server grew ${peakMb.toFixed(0)} MB at most (limit ${limitMb}); attackers cut after ${cutMs?.toFixed(0)} ms; ` +
        `visitor: /healthz ${visitor.worstHealthMs.toFixed(0)} ms, delivery ${visitor.worstDeliveryMs.toFixed(0)} ms at worst over ${visitor.rounds} rounds`,
    );
    expect(peakMb).toBeLessThan(limitMb);
    expect(cutMs).toBeDefined();
    expect(visitor.rounds).toBeGreaterThan(5);
    expect(visitor.worstHealthMs).toBeLessThan(VISITOR_LATENCY_MS);
    expect(visitor.worstDeliveryMs).toBeLessThan(VISITOR_LATENCY_MS);
  }, 30_000);
});
