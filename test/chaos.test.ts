// Chaos: 20 clients (10 over WebSocket, 10 over long-poll) in 2 rooms send 1,000 messages while the
// server process is SIGKILLed and restarted on the same data dir and port, and client connections are
// cut at random. Each client is a small protocol client written here: a cursor (last seq), an outbox of
// unacknowledged messages resent on every reconnect with the same clientId, dedupe by seq. At the end
// every client of a room must hold exactly the room's log: 1..N, every acked message once, nothing else.
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { ChatMessage, HistoryResponse, SendResponse, ServerFrame, WaitResponse } from '../server/protocol';
import { ChildServer, freePort } from './child-server';
import { createSession, http } from './helpers';

const ROOMS = ['chaos-a', 'chaos-b'] as const;
const CLIENTS_PER_TRANSPORT = 10;
const MESSAGES_PER_CLIENT = 50;
const SEND_INTERVAL_MS = 160;
const RESTARTS = 3;
const DROPS = 20;

/** One HTTP request that can be aborted; resolves with status and parsed body, rejects on network failure. */
function call<T>(base: string, method: string, path: string, options: { cookie?: string; json?: unknown; signal?: AbortSignal } = {}): Promise<{ status: number; body: T }> {
  const payload = options.json === undefined ? undefined : JSON.stringify(options.json);
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), {
      method,
      agent: false,
      headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(options.cookie ? { cookie: options.cookie } : {}) },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const backoff = (failures: number) => Math.min(400, 25 * 2 ** failures) * (0.5 + Math.random() / 2);

interface Counters {
  resends: number;
  resets: number;
  gaps: number;
  redelivered: number;
  /** POSTs the server answered 200 duplicate: a resend of a stored message, turned into the original. */
  deduped: number;
  errors: string[];
}

/** What both kinds of client share: the cursor, the log as received, the outbox, the acks. */
abstract class ChaosClient {
  readonly received: ChatMessage[] = [];
  /** Messages sent and not acknowledged yet: clientId -> text. */
  readonly outbox = new Map<string, string>();
  /** clientId -> the seq its ack named. */
  readonly acked = new Map<string, number>();
  readonly sent: string[] = [];
  /** clientIds sent at least once (so a later send of one is a resend). */
  protected readonly attempted = new Set<string>();
  epoch: string | undefined;
  stopped = false;
  protected failures = 0;

  constructor(
    readonly name: string,
    readonly room: string,
    readonly cookie: string,
    protected readonly base: () => string,
    protected readonly counters: Counters,
  ) {}

  get cursor(): number {
    return this.received.at(-1)?.seq ?? 0;
  }

  /** Takes messages that follow the cursor; a repeat is dropped (and counted), a hole is reported. */
  protected take(messages: readonly ChatMessage[]): 'ok' | 'gap' {
    for (const message of messages) {
      if (message.seq <= this.cursor) {
        this.counters.redelivered++;
        continue;
      }
      if (message.seq !== this.cursor + 1) {
        this.counters.gaps++;
        return 'gap';
      }
      this.received.push(message);
      // A message whose ack was lost is delivered all the same: it has left the outbox.
      this.outbox.delete(message.clientId);
    }
    return 'ok';
  }

  protected ack(clientId: string, message: ChatMessage): void {
    this.acked.set(clientId, message.seq);
    this.outbox.delete(clientId);
  }

  protected markAttempt(clientId: string): void {
    if (this.attempted.has(clientId)) this.counters.resends++;
    else this.attempted.add(clientId);
  }

  send(index: number): void {
    const clientId = `${this.name}-m${String(index).padStart(3, '0')}-${Math.random().toString(36).slice(2, 8)}`;
    this.sent.push(clientId);
    this.outbox.set(clientId, `${this.name} says ${index}`);
    this.sendNow(clientId);
  }

  abstract start(): void;
  abstract stop(): void;
  /** Cuts the client's connections as a flaky network would. */
  abstract drop(): void;
  protected abstract sendNow(clientId: string): void;
}

class SocketClient extends ChaosClient {
  private ws: WebSocket | undefined;
  private live = false;

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  drop(): void {
    this.ws?.terminate();
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(`${this.base().replace(/^http/, 'ws')}/ws`, { headers: { cookie: this.cookie } });
    this.ws = ws;
    this.live = false;
    ws.on('open', () => this.subscribe(ws));
    ws.on('message', (data) => this.receive(ws, JSON.parse(String(data)) as ServerFrame));
    ws.on('error', () => undefined); // followed by close
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.live = false;
      this.failures++;
      if (!this.stopped) setTimeout(() => this.connect(), backoff(this.failures));
    });
  }

  private subscribe(ws: WebSocket): void {
    ws.send(JSON.stringify({ type: 'subscribe', room: this.room, after: this.cursor, ...(this.epoch ? { epoch: this.epoch } : {}) }));
  }

  private receive(ws: WebSocket, frame: ServerFrame): void {
    if (this.ws !== ws) return;
    switch (frame.type) {
      case 'subscribed':
        this.epoch = frame.epoch;
        if (this.take(frame.messages) === 'gap') return this.subscribe(ws);
        this.live = true;
        this.failures = 0;
        // Everything not acknowledged goes again; the server turns a copy it has into the original.
        for (const clientId of this.outbox.keys()) this.sendNow(clientId);
        return;
      case 'messages':
        if (this.take(frame.messages) === 'gap') this.subscribe(ws);
        return;
      case 'ack':
        this.ack(frame.clientId, frame.message);
        return;
      case 'reset':
        this.counters.resets++;
        this.counters.errors.push(`${this.name}: reset (${frame.reason})`);
        return;
      case 'error':
        this.counters.errors.push(`${this.name}: error frame ${frame.code}: ${frame.message}`);
        if (frame.retryable) ws.terminate(); // start over: reconnect, resubscribe, resend
        return;
      case 'pong':
        return;
    }
  }

  protected sendNow(clientId: string): void {
    const text = this.outbox.get(clientId);
    const ws = this.ws;
    if (text === undefined || !ws || !this.live || ws.readyState !== WebSocket.OPEN) return; // sent on the next subscribe
    this.markAttempt(clientId);
    ws.send(JSON.stringify({ type: 'send', room: this.room, clientId, text }));
  }
}

class PollClient extends ChaosClient {
  /** Aborts the current /wait and every POST in flight. */
  private connection = new AbortController();
  private readonly posting = new Set<string>();

  start(): void {
    void this.pollLoop();
  }

  stop(): void {
    this.stopped = true;
    this.connection.abort();
  }

  drop(): void {
    this.connection.abort();
    this.connection = new AbortController();
  }

  private async pollLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const query = `/wait?room=${this.room}&after=${this.cursor}${this.epoch ? `&epoch=${this.epoch}` : ''}`;
      try {
        const { status, body } = await call<WaitResponse>(this.base(), 'GET', query, { cookie: this.cookie, signal: this.connection.signal });
        if (status !== 200) throw new Error(`/wait answered ${status}`);
        failures = 0;
        this.epoch = body.epoch;
        if (body.type === 'reset') {
          this.counters.resets++;
          this.counters.errors.push(`${this.name}: reset (${body.reason})`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        } else {
          this.take(body.messages);
        }
      } catch {
        if (this.stopped) return;
        failures++;
        await new Promise((resolve) => setTimeout(resolve, backoff(failures)));
      }
    }
  }

  protected sendNow(clientId: string): void {
    void this.post(clientId);
  }

  /** POSTs until acknowledged; a cut connection or a down server means: try again with the same clientId. */
  private async post(clientId: string): Promise<void> {
    if (this.posting.has(clientId)) return;
    this.posting.add(clientId);
    let failures = 0;
    try {
      while (!this.stopped && this.outbox.has(clientId)) {
        const text = this.outbox.get(clientId);
        this.markAttempt(clientId);
        try {
          const { status, body } = await call<SendResponse>(this.base(), 'POST', `/api/rooms/${this.room}/messages`, {
            cookie: this.cookie,
            json: { clientId, text },
            signal: this.connection.signal,
          });
          if (status === 200 || status === 201) {
            if (body.duplicate) this.counters.deduped++;
            this.ack(clientId, body.message);
            return;
          }
          this.counters.errors.push(`${this.name}: POST answered ${status}`);
        } catch {
          // no answer: the message may or may not be stored; the resend will tell
        }
        failures++;
        await new Promise((resolve) => setTimeout(resolve, backoff(failures)));
      }
    } finally {
      this.posting.delete(clientId);
    }
  }
}

/** The whole log of a room, read back a page at a time. */
async function readLog(base: string, room: string): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const { body } = await http<HistoryResponse>(base, 'GET', `/api/rooms/${room}/messages?limit=200${before ? `&before=${before}` : ''}`);
    pages.unshift(body.messages);
    if (!body.hasOlder || body.messages.length === 0) break;
    before = body.messages[0]?.seq;
  }
  return pages.flat();
}

describe('chaos', () => {
  let server: ChildServer | undefined;
  let dataDir: string | undefined;
  let clients: ChaosClient[] = [];

  afterAll(async () => {
    for (const client of clients) client.stop();
    if (server?.running) await server.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('20 clients, WebSocket and long-poll, 1,000 messages through 3 SIGKILL restarts and 20 dropped connections: nothing lost, nothing twice', async () => {
    const started = Date.now();
    dataDir = await mkdtemp(join(tmpdir(), 'parley-chaos-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = await ChildServer.start(port, dataDir);

    const counters: Counters = { resends: 0, resets: 0, gaps: 0, redelivered: 0, deduped: 0, errors: [] };
    for (let i = 0; i < 2 * CLIENTS_PER_TRANSPORT; i++) {
      const room = ROOMS[i % 2] as string;
      const name = `${i < CLIENTS_PER_TRANSPORT ? 'ws' : 'poll'}${i}`;
      const cookie = await createSession(base, name);
      const Kind = i < CLIENTS_PER_TRANSPORT ? SocketClient : PollClient;
      clients.push(new Kind(name, room, cookie, () => base, counters));
    }
    for (const client of clients) client.start();

    // Every client sends at a steady pace, whether or not the server is up: the outbox keeps what is unsent.
    const total = clients.length * MESSAGES_PER_CLIENT;
    let sentCount = 0;
    const allSent = new Promise<void>((resolve) => {
      clients.forEach((client, i) => {
        let index = 0;
        const tick = () => {
          client.send(++index);
          if (++sentCount === total) resolve();
          if (index < MESSAGES_PER_CLIENT) setTimeout(tick, SEND_INTERVAL_MS * (0.5 + Math.random()));
        };
        setTimeout(tick, (i * SEND_INTERVAL_MS) / clients.length);
      });
    });

    // Cut client connections at random moments while the messages flow.
    let drops = 0;
    const sendingMs = MESSAGES_PER_CLIENT * SEND_INTERVAL_MS;
    const dropTimers = Array.from({ length: DROPS }, () =>
      setTimeout(() => {
        const victim = clients[Math.floor(Math.random() * clients.length)];
        victim?.drop();
        drops++;
      }, Math.random() * sendingMs),
    );

    // SIGKILL the server at 3 points of the run and start it again on the same port and data dir.
    let restarts = 0;
    for (let r = 1; r <= RESTARTS; r++) {
      await vi.waitUntil(() => sentCount >= (total * r) / (RESTARTS + 1), { timeout: 30_000, interval: 20 });
      const exit = await server.kill('SIGKILL');
      expect(exit.signal).toBe('SIGKILL');
      server = await ChildServer.start(port, dataDir);
      restarts++;
    }
    await allSent;
    for (const timer of dropTimers) clearTimeout(timer);

    // Settle: every outbox empty and every client at its room's head.
    const heads = new Map<string, number>();
    await vi.waitFor(
      async () => {
        for (const room of ROOMS) {
          const { body } = await http<HistoryResponse>(base, 'GET', `/api/rooms/${room}/messages?limit=1`);
          heads.set(room, body.messages.at(-1)?.seq ?? 0);
        }
        const behind = clients.filter((c) => c.outbox.size > 0 || c.cursor !== heads.get(c.room));
        if (behind.length > 0) {
          throw new Error(`${server?.output}\n${counters.errors.slice(0, 10).join('\n')}\nnot settled: ${behind.map((c) => `${c.name} outbox ${c.outbox.size} cursor ${c.cursor}/${heads.get(c.room)}`).join(', ')}`);
        }
      },
      { timeout: 20_000, interval: 100 },
    );

    // The proof, room by room.
    let lost = 0;
    let duplicated = 0;
    let ackLost = 0;
    const stored: Record<string, number> = {};
    for (const room of ROOMS) {
      const log = await readLog(base, room);
      const members = clients.filter((c) => c.room === room);
      const sentHere = new Set(members.flatMap((c) => c.sent));
      const storedIds = log.map((m) => m.clientId);
      stored[room] = log.length;
      duplicated += storedIds.length - new Set(storedIds).size;
      lost += [...sentHere].filter((id) => !storedIds.includes(id)).length;

      expect(log.map((m) => m.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
      expect(new Set(storedIds).size).toBe(log.length); // no clientId twice
      expect(log.length).toBe(sentHere.size); // every message sent is stored, and nothing else
      expect(new Set(storedIds)).toEqual(sentHere);
      const expected = log.map(({ seq, clientId, text, author }) => ({ seq, clientId, text, author }));
      for (const client of members) {
        expect(client.received.map(({ seq, clientId, text, author }) => ({ seq, clientId, text, author })), client.name).toEqual(expected);
        for (const [clientId, seq] of client.acked) expect(log[seq - 1]?.clientId, `${client.name} ack of ${clientId}`).toBe(clientId);
        // A message whose ack was lost to a cut connection left the outbox when the stream delivered it.
        ackLost += client.sent.filter((id) => !client.acked.has(id)).length;
      }
    }
    expect(counters.errors, server.output).toEqual([]);
    expect(counters.resets).toBe(0);
    expect(counters.gaps).toBe(0);
    expect(counters.redelivered).toBe(0); // a cursor is served from after it: no repeats to drop
    expect(restarts).toBeGreaterThanOrEqual(3);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);

    const storedTotal = Object.values(stored).reduce((a, b) => a + b, 0);
    console.log(
      `chaos: ${sentCount} messages sent, ${storedTotal} stored (room a ${stored[ROOMS[0]]}, room b ${stored[ROOMS[1]]}), ` +
        `${restarts} SIGKILL restarts, ${drops} connection drops, ${counters.resends} resends (${counters.deduped} answered as duplicates), ` +
        `${ackLost} acks lost (settled by delivery), ${counters.redelivered} repeats dropped by seq, ${counters.gaps} gaps, ${counters.resets} resets, ` +
        `lost ${lost}, duplicated ${duplicated}, ${clients.length} clients identical, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 60_000);
});
