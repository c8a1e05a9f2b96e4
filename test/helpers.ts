// Test helpers for the integration suites: a real server on 127.0.0.1 (ephemeral port, fresh DATA_DIR),
// a plain HTTP client, session cookies, and a WebSocket client whose frames are awaited by predicate
// with a timeout. Nothing here sleeps in place of an event: every wait ends on the event it waits for,
// or fails after its timeout with a message saying what did not come.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { startServer, type ParleyServer } from '../server/app';
import { loadConfig } from '../server/config';
import type { ChatMessage, ClientFrame, HistoryResponse, ServerFrame } from '../server/protocol';
import { SESSION_COOKIE } from '../server/accounts/session-cookie';
import type { Store } from '../server/store/store';

export const DEFAULT_TIMEOUT_MS = 5000;

// ---- cleanup ------------------------------------------------------------------------------------

const cleanups: (() => Promise<void>)[] = [];

/** Runs `fn` after the current test, last registered first. */
export function deferCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

/** Closes every server and socket a test opened and removes its temp dirs, after each test of the file. */
export function autoCleanup(): void {
  afterEach(async () => {
    const errors: unknown[] = [];
    while (cleanups.length > 0) {
      const fn = cleanups.pop();
      try {
        await fn?.();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
}

/** A fresh empty directory under the OS temp dir, removed after the test. */
export async function tempDir(prefix = 'parley-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  deferCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// ---- server -------------------------------------------------------------------------------------

export interface TestServer {
  readonly server: ParleyServer;
  /** http://127.0.0.1:port */
  readonly url: string;
  /** ws://127.0.0.1:port/ws */
  readonly wsUrl: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

/**
 * Rate limits and budgets out of the way: every test client comes from 127.0.0.1, and most tests send
 * faster than a person. The suites about limits (test/limits.test.ts, test/fuzz.test.ts) set their own.
 */
export const UNLIMITED: Readonly<Record<string, string>> = {
  SEND_BURST: '1000000',
  SEND_PER_SECOND: '1000000',
  IP_SEND_BURST: '1000000',
  IP_SEND_PER_SECOND: '1000000',
  CONNECT_BURST: '1000000',
  CONNECT_PER_SECOND: '1000000',
  NEW_ROOM_BURST: '1000000',
  NEW_ROOMS_PER_MINUTE: '1000000',
  IP_NEW_ROOM_BURST: '1000000',
  IP_NEW_ROOMS_PER_MINUTE: '1000000',
  SEARCH_BURST: '1000000',
  SEARCHES_PER_MINUTE: '1000000',
  IP_SEARCH_BURST: '1000000',
  IP_SEARCHES_PER_MINUTE: '1000000',
  PRESENCE_BURST: '1000000',
  PRESENCE_PER_SECOND: '1000000',
  IP_PRESENCE_BURST: '1000000',
  IP_PRESENCE_PER_SECOND: '1000000',
  IP_GUEST_BURST: '1000000',
  IP_GUESTS_PER_MINUTE: '1000000',
  SOCKET_FRAME_BURST: '1000000',
  SOCKET_FRAMES_PER_SECOND: '1000000',
  SOCKET_BYTES_PER_SECOND: String(1024 * 1024 * 1024),
};

/**
 * Starts Parley on 127.0.0.1 with an ephemeral port and the embedded store in `dataDir` (a fresh temp
 * dir unless given), without rate limits (see UNLIMITED). `env` overrides any setting (WAIT_TIMEOUT_MS,
 * MAX_REPLAY, SEND_BURST, ...). Closed after the test.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  dataDir?: string,
  /** Serve this store (made over the data dir) instead of the configured one. */
  makeStore?: (dataDir: string) => Store,
  /** Where the server logs; by default nowhere. */
  logger: Logger = pino({ level: 'silent' }),
): Promise<TestServer> {
  const dir = dataDir ?? (await tempDir());
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORE: 'embedded', DATA_DIR: dir, LOG_LEVEL: 'silent', ...UNLIMITED, ...env });
  const server = await startServer(config, {
    clientDir: false,
    logger,
    ...(makeStore ? { store: makeStore(dir) } : {}),
  });
  deferCleanup(() => server.close());
  return {
    server,
    url: server.url,
    wsUrl: `${server.url.replace(/^http/, 'ws')}/ws`,
    dataDir: dir,
    close: () => server.close(),
  };
}

// ---- HTTP ---------------------------------------------------------------------------------------

export interface HttpAnswer<T> {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  body: T;
}

export interface HttpOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (bytes too, for bodies that are not UTF-8), with content-type application/json unless `headers` say otherwise. */
  raw?: string | Buffer;
  cookie?: string;
  headers?: Record<string, string>;
  /** The loopback address the request comes from (127.0.0.x), to act as another client's IP. */
  from?: string;
}

/**
 * One HTTP request on its own connection (no keep-alive, so a server can always close at once).
 * Resolves with any status; rejects only when the connection fails.
 */
export function http<T = unknown>(base: string, method: string, path: string, options: HttpOptions = {}): Promise<HttpAnswer<T>> {
  const payload = options.json !== undefined ? JSON.stringify(options.json) : options.raw;
  const headers: Record<string, string> = {
    ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(options.cookie ? { cookie: options.cookie } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers, agent: false, ...(options.from ? { localAddress: options.from } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: body as T });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Starts a guest session under `nick` (POST /api/session) and returns the Cookie header value that carries it. */
export async function createSession(base: string, nick = 'alice'): Promise<string> {
  return sessionCookieOf(await http(base, 'POST', '/api/session', { json: { nick } }), 200);
}

/** Signs up (POST /api/accounts) and returns the Cookie header value of the session it starts. */
export async function signUp(base: string, username: string, password = 'correct horse battery'): Promise<string> {
  return sessionCookieOf(await http(base, 'POST', '/api/accounts', { json: { username, password } }), 201);
}

/** Signs in (POST /api/session with a password) and returns the Cookie header value of the new session. */
export async function signIn(base: string, username: string, password = 'correct horse battery', headers: Record<string, string> = {}): Promise<string> {
  return sessionCookieOf(await http(base, 'POST', '/api/session', { json: { username, password }, headers }), 200);
}

/** The `name=value` of the session cookie an answer set, after checking its status. */
function sessionCookieOf(answer: HttpAnswer<unknown>, status: number): string {
  if (answer.status !== status) throw new Error(`the session request answered ${answer.status}: ${answer.text}`);
  const setCookie = answer.headers['set-cookie']?.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!setCookie) throw new Error('the session request set no session cookie');
  return setCookie.split(';')[0] ?? '';
}

/** Sends a message over HTTP (POST /api/rooms/:room/messages). */
export function postMessage<T = unknown>(base: string, room: string, body: unknown, cookie?: string): Promise<HttpAnswer<T>> {
  return http<T>(base, 'POST', `/api/rooms/${encodeURIComponent(room)}/messages`, { json: body, ...(cookie ? { cookie } : {}) });
}

/** A page of history: GET /api/rooms/:room/messages with the given query. */
export async function history(base: string, room: string, query = ''): Promise<HistoryResponse> {
  const answer = await http<HistoryResponse>(base, 'GET', `/api/rooms/${room}/messages${query}`);
  if (answer.status !== 200) throw new Error(`history answered ${answer.status}: ${answer.text}`);
  return answer.body;
}

/** A fresh client id, valid for the protocol (8 to 64 of A-Z a-z 0-9 _ -). */
export function newClientId(): string {
  return randomUUID();
}

// ---- promises and time -------------------------------------------------------------------------

/**
 * Whether `promise` is still unsettled after `ms`. This is an assertion that something did NOT
 * happen within a window (a long-poll holding), not a stand-in for waiting on an event.
 */
export async function stillPendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  const watched = promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await Promise.race([watched, new Promise((resolve) => setTimeout(resolve, ms))]);
  return !settled;
}

/** Rejects with `what` if `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** [from, from+1, ..., to] (empty when to < from). */
export function range(from: number, to: number): number[] {
  return to < from ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export const seqs = (messages: readonly ChatMessage[]): number[] => messages.map((m) => m.seq);

// ---- WebSocket ---------------------------------------------------------------------------------

export type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** A predicate matching frames of one type (and, optionally, a further condition on them). */
export function ofType<T extends ServerFrame['type']>(
  type: T,
  where: (frame: FrameOf<T>) => boolean = () => true,
): (frame: ServerFrame) => frame is FrameOf<T> {
  return (frame): frame is FrameOf<T> => frame.type === type && where(frame as FrameOf<T>);
}

interface PendingTake {
  predicate: (frame: ServerFrame) => boolean;
  resolve: (frame: ServerFrame) => void;
}

/**
 * The frames a socket received, in arrival order. `next` takes the first frame matching a predicate,
 * waiting for it if it has not come yet; frames it does not match stay queued for later calls.
 */
export class FrameQueue {
  private readonly queued: ServerFrame[] = [];
  private readonly takers: PendingTake[] = [];

  push(frame: ServerFrame): void {
    const index = this.takers.findIndex((taker) => taker.predicate(frame));
    if (index >= 0) {
      const [taker] = this.takers.splice(index, 1);
      taker?.resolve(frame);
    } else {
      this.queued.push(frame);
    }
  }

  next<F extends ServerFrame>(predicate: (frame: ServerFrame) => frame is F, timeoutMs?: number): Promise<F>;
  next(predicate: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  next(predicate: (frame: ServerFrame) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ServerFrame> {
    const index = this.queued.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.queued.splice(index, 1)[0] as ServerFrame);
    return new Promise((resolve, reject) => {
      const taker: PendingTake = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.takers.splice(this.takers.indexOf(taker), 1);
        const seen = this.queued.map((f) => f.type).join(', ') || 'nothing';
        reject(new Error(`no matching frame within ${timeoutMs} ms (queued meanwhile: ${seen})`));
      }, timeoutMs);
      this.takers.push(taker);
    });
  }

  /** Frames received and not taken yet. */
  remaining(): readonly ServerFrame[] {
    return [...this.queued];
  }
}

export interface CloseEvent {
  code: number;
  reason: string;
}

/** A WebSocket client for tests, with its frames in a FrameQueue. */
export class TestSocket {
  readonly frames = new FrameQueue();
  /** Resolves when the socket closes, with the close code the peer sent. */
  readonly closed: Promise<CloseEvent>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      // The server only sends JSON text; anything else shows up as a frame no test expects.
      this.frames.push(isBinary ? ({ type: 'binary' } as unknown as ServerFrame) : (JSON.parse(bytes.toString('utf8')) as ServerFrame));
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined); // surfaced through `closed`
  }

  /**
   * Opens a socket to `wsUrl`, with the session cookie when given. Closed after the test.
   * `autoPong: false` makes a peer that never answers the server's pings.
   */
  static open(wsUrl: string, cookie?: string, options: { autoPong?: boolean } = {}): Promise<TestSocket> {
    const ws = new WebSocket(wsUrl, { ...(cookie ? { headers: { cookie } } : {}), autoPong: options.autoPong ?? true });
    const socket = new TestSocket(ws);
    deferCleanup(() => socket.close());
    return withTimeout(
      new Promise<TestSocket>((resolve, reject) => {
        ws.once('open', () => resolve(socket));
        ws.once('error', reject);
      }),
      DEFAULT_TIMEOUT_MS,
      `the WebSocket to ${wsUrl} to open`,
    );
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  next<F extends ServerFrame>(predicate: (frame: ServerFrame) => frame is F, timeoutMs?: number): Promise<F> {
    return this.frames.next(predicate, timeoutMs);
  }

  /** Subscribes and resolves with the `subscribed` or `reset` answer for that room. */
  subscribe(room: string, after?: number, epoch?: string): Promise<FrameOf<'subscribed'> | FrameOf<'reset'>> {
    this.send({ type: 'subscribe', room, ...(after !== undefined ? { after } : {}), ...(epoch !== undefined ? { epoch } : {}) });
    return this.frames.next(
      (f): f is FrameOf<'subscribed'> | FrameOf<'reset'> => (f.type === 'subscribed' || f.type === 'reset') && f.room === room,
    );
  }

  /** Sends a message and resolves with its ack; rejects with the error frame's code if one comes instead. */
  async sendMessage(room: string, text: string, clientId = newClientId()): Promise<FrameOf<'ack'>> {
    this.send({ type: 'send', room, clientId, text });
    const answer = await this.frames.next(
      (f): f is FrameOf<'ack'> | FrameOf<'error'> => (f.type === 'ack' || f.type === 'error') && f.clientId === clientId,
    );
    if (answer.type === 'error') throw new Error(`send failed: ${answer.code}: ${answer.message}`);
    return answer;
  }

  /**
   * A ping/pong round trip: every frame the server sent before it handled the ping has arrived once
   * this resolves (one connection delivers in order).
   */
  async roundTrip(): Promise<void> {
    this.send({ type: 'ping' });
    await this.frames.next(ofType('pong'));
  }

  /** Takes live `messages` frames of `room` until the one holding seq `lastSeq`; returns their messages in arrival order. */
  async messagesUntil(room: string, lastSeq: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ChatMessage[]> {
    const got: ChatMessage[] = [];
    while ((got.at(-1)?.seq ?? -1) < lastSeq) {
      const frame = await this.frames.next(ofType('messages', (f) => f.room === room), timeoutMs);
      got.push(...frame.messages);
    }
    const last = got.at(-1)?.seq ?? -1;
    if (last !== lastSeq) throw new Error(`got seq ${last} past the expected last ${lastSeq}`);
    return got;
  }

  /** The messages of live `messages` frames received and not taken yet. */
  remainingMessages(): ChatMessage[] {
    return this.frames.remaining().flatMap((f) => (f.type === 'messages' ? f.messages : []));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close(1000);
    await withTimeout(this.closed, DEFAULT_TIMEOUT_MS, 'the socket to close').catch(() => this.ws.terminate());
  }
}

/** Opens a socket (with the cookie when given) and subscribes it to `room` from `after`. */
export async function subscribedSocket(
  wsUrl: string,
  room: string,
  options: { cookie?: string; after?: number; epoch?: string } = {},
): Promise<{ socket: TestSocket; subscribed: FrameOf<'subscribed'> }> {
  const socket = await TestSocket.open(wsUrl, options.cookie);
  const answer = await socket.subscribe(room, options.after, options.epoch);
  if (answer.type !== 'subscribed') throw new Error(`subscribe to ${room} answered reset (${answer.reason})`);
  return { socket, subscribed: answer };
}
