// Hostile HTTP clients on raw sockets over loopback: connections that never finish their headers or their
// body, bodies without end, a page on another host name that rebinds to this server (DNS rebinding), and who
// may read /metrics. Each test states its bound as a figure: connections kept, seconds until a connection is
// closed, body bytes taken in before a refusal, the status each path answers.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ErrorResponse, WaitResponse } from '../server/protocol';
import { autoCleanup, createSession, deferCleanup, history, http, newClientId, postMessage, range, startTestServer, subscribedSocket, withTimeout } from './helpers';

autoCleanup();

/** What a server sent on a raw connection: the status line's code, and the body when it is JSON. */
interface RawAnswer {
  status: number;
  body: unknown;
}

/** A TCP connection on which the test writes any bytes it likes, and reads the server's answer. */
class RawConnection {
  /** Resolves with the time (performance.now()) at which the server closed the connection. */
  readonly closed: Promise<number>;
  /** Resolves once the head (and the Content-Length body, if any) of the server's first answer has arrived. */
  readonly answer: Promise<RawAnswer>;
  private received = Buffer.alloc(0);
  private isClosed = false;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve(performance.now());
      }),
    );
    this.answer = new Promise((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        this.received = Buffer.concat([this.received, chunk]);
        const parsed = parseAnswer(this.received);
        if (parsed) resolve(parsed);
      });
    });
    // A connection the server refuses or cuts is reset: the test reads that through `closed`.
    socket.on('error', () => undefined);
    deferCleanup(async () => {
      socket.destroy();
    });
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    const connection = new RawConnection(socket);
    return withTimeout(
      new Promise((resolve) => socket.once('connect', () => resolve(connection))),
      5000,
      `a TCP connection to ${url}`,
    );
  }

  get open(): boolean {
    return !this.isClosed;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /**
   * Writes `chunk` again and again, as fast as the server takes it in, until the server closes the connection
   * or `untilMs` (performance.now()) passes. The server runs in this process: each write yields to it, so that
   * what it reads is not all in the kernel's buffers by the time it looks.
   */
  async writeUntilClosed(chunk: Buffer, untilMs: number): Promise<void> {
    while (this.open && performance.now() < untilMs) {
      const more = this.socket.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
      if (more) continue;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, untilMs - performance.now()))));
      await Promise.race([new Promise((resolve) => this.socket.once('drain', resolve)), this.closed, deadline]);
      clearTimeout(timer);
    }
  }
}

/** The status and JSON body of an HTTP/1.1 answer, once all of it is in `bytes`. */
function parseAnswer(bytes: Buffer): RawAnswer | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = bytes.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  const body = bytes.subarray(end + 4);
  if (body.length < length) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, length).toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status, body: json };
}

/** Resolves once `count` of the connections are closed, or at `ms`, whichever is first: the test then counts. */
function closedOrAfter(connections: readonly RawConnection[], count: number, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    let closed = 0;
    for (const connection of connections) {
      void connection.closed.then(() => {
        if (++closed === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/**
 * The most bytes a client can write that the server never read: what the kernel buffers on both sides of a
 * loopback connection (Linux: the largest TCP send and receive buffers; elsewhere a generous 64 MiB).
 */
function kernelBufferCeiling(): number {
  try {
    const largest = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/).at(-1));
    return largest('/proc/sys/net/ipv4/tcp_wmem') + largest('/proc/sys/net/ipv4/tcp_rmem');
  } catch {
    return 64 * 1024 * 1024;
  }
}

/** A request head that is never finished: the header line has no end. */
const PARTIAL_HEADERS = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Never-Ends: ';

const seconds = (from: number, to: number) => Number(((to - from) / 1000).toFixed(2));

describe('idle and half-sent connections', () => {
  it('keeps MAX_TCP_CONNECTIONS_PER_IP connections from one IP and closes the ones past it at once', async ({ annotate }) => {
    const { url } = await startTestServer({ MAX_TCP_CONNECTIONS_PER_IP: '20' });
    const connections = await Promise.all(range(1, 50).map(() => RawConnection.open(url)));
    for (const connection of connections) connection.write(PARTIAL_HEADERS);
    await closedOrAfter(connections, 30, 3000);
    const kept = connections.filter((connection) => connection.open);
    await annotate(`connections kept from 127.0.0.1 after 50 partial-header connections: ${kept.length}`);
    expect(kept.length, 'connections kept from 127.0.0.1 after 50 partial-header connections').toBe(20);
    // The cap counts plain HTTP too: while the 20 are held, this IP's next request is not served.
    await expect(http(url, 'GET', '/healthz')).rejects.toThrow();
    for (const connection of kept) connection.socket.destroy();
    await expect.poll(() => http(url, 'GET', '/healthz').then((answer) => answer.status, () => 0)).toBe(200);
  });

  it('closes silent and half-sent requests after HEADERS_TIMEOUT_MS, a stalled body after REQUEST_TIMEOUT_MS, an idle keep-alive after KEEP_ALIVE_TIMEOUT_MS; a held /wait and a WebSocket outlive them', async ({ annotate }) => {
    const { url, wsUrl } = await startTestServer({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2000', KEEP_ALIVE_TIMEOUT_MS: '500', WAIT_TIMEOUT_MS: '3000' });
    const { socket } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    const waitStarted = performance.now();
    const held = http<WaitResponse>(url, 'GET', '/wait?room=lobby&after=0');

    const started = performance.now();
    const silent = await RawConnection.open(url);
    const halfHeaders = await RawConnection.open(url);
    halfHeaders.write(PARTIAL_HEADERS);
    const stalledBody = await RawConnection.open(url);
    stalledBody.write('POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"nick":');
    const idle = await RawConnection.open(url);
    idle.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect((await withTimeout(idle.answer, 5000, 'the answer to /healthz')).status).toBe(200);
    const answered = performance.now();
    const closedAfter = async (connection: RawConnection, from: number, what: string) => seconds(from, await withTimeout(connection.closed, 6000, what));
    const [silentSeconds, headerSeconds, bodySeconds, idleSeconds] = await Promise.all([
      closedAfter(silent, started, 'the server to close a connection that sends nothing'),
      closedAfter(halfHeaders, started, 'the server to close a connection with half-sent headers'),
      closedAfter(stalledBody, started, 'the server to close a connection whose body stalls'),
      closedAfter(idle, answered, 'the server to close an idle keep-alive connection'),
    ]);
    await annotate(`seconds until closed: silent ${silentSeconds}, half-sent head ${headerSeconds}, stalled body ${bodySeconds}, idle keep-alive ${idleSeconds} after its answer`);
    expect(silentSeconds, 'seconds until a connection that sends nothing is closed').toBeGreaterThanOrEqual(0.9);
    expect(silentSeconds, 'seconds until a connection that sends nothing is closed').toBeLessThan(2.5);
    expect(headerSeconds, 'seconds until half-sent headers are closed').toBeGreaterThanOrEqual(0.9);
    expect(headerSeconds, 'seconds until half-sent headers are closed').toBeLessThan(2.5);
    expect(bodySeconds, 'seconds until a stalled body is closed').toBeGreaterThanOrEqual(1.9);
    expect(bodySeconds, 'seconds until a stalled body is closed').toBeLessThan(3.5);
    expect((await stalledBody.answer).status).toBe(408);
    // node closes an idle keep-alive connection a second after KEEP_ALIVE_TIMEOUT_MS, so that a client does not
    // send its next request on a connection that is closing.
    expect(idleSeconds, 'seconds until an idle keep-alive connection is closed').toBeGreaterThanOrEqual(0.45);
    expect(idleSeconds, 'seconds until an idle keep-alive connection is closed').toBeLessThan(2.5);

    // The long-poll was held past both timeouts, and answered (empty) at WAIT_TIMEOUT_MS.
    const waited = await held;
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ type: 'messages', messages: [] });
    const heldSeconds = seconds(waitStarted, performance.now());
    await annotate(`seconds the /wait was held: ${heldSeconds}`);
    expect(heldSeconds, 'seconds the /wait was held').toBeGreaterThanOrEqual(2.9);
    // So was the WebSocket: a message still reaches it.
    const cookie = await createSession(url, 'alice');
    expect((await postMessage(url, 'lobby', { clientId: newClientId(), text: 'still here' }, cookie)).status).toBe(201);
    expect((await socket.messagesUntil('lobby', 1)).map((m) => m.text)).toEqual(['still here']);
  });
});

describe('DNS rebinding', () => {
  /** The status of a WebSocket upgrade sent with these headers on a raw connection (101 when it opened). */
  async function upgradeStatus(url: string, headers: Record<string, string>): Promise<RawAnswer> {
    const connection = await RawConnection.open(url);
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    connection.write(
      ['GET /ws HTTP/1.1', ...lines, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', '', ''].join('\r\n'),
    );
    return withTimeout(connection.answer, 5000, 'the answer to a WebSocket upgrade');
  }

  it('answers a Host it does not serve with 421 unknown_host and nothing else: on HTTP, /wait and the WebSocket upgrade', async ({ annotate }) => {
    const { url, server } = await startTestServer();
    const cookie = await createSession(url, 'alice');
    expect((await postMessage(url, 'lobby', { clientId: newClientId(), text: 'for the room only' }, cookie)).status).toBe(201);
    // What a page at http://rebind.example:PORT sends once its name resolves to 127.0.0.1.
    const rebound = `rebind.example:${server.port}`;
    const asRebound = { host: rebound, origin: `http://${rebound}` };
    const refusals = {
      history: await http<ErrorResponse>(url, 'GET', '/api/rooms/lobby/messages', { headers: asRebound }),
      send: await http<ErrorResponse>(url, 'POST', '/api/rooms/lobby/messages', { json: { clientId: newClientId(), text: 'from afar' }, cookie, headers: asRebound }),
      session: await http<ErrorResponse>(url, 'POST', '/api/session', { json: { nick: 'mallory' }, headers: asRebound }),
      wait: await http<ErrorResponse>(url, 'GET', '/wait?room=lobby', { headers: asRebound }),
      page: await http<ErrorResponse>(url, 'GET', '/', { headers: { ...asRebound, accept: 'text/html' } }),
    };
    for (const [path, answer] of Object.entries(refusals)) {
      expect(answer.status, path).toBe(421);
      expect(answer.body.error, path).toMatchObject({ code: 'unknown_host', retryable: false });
      expect(answer.text, path).not.toContain('for the room only');
      expect(answer.headers['set-cookie'], path).toBeUndefined();
    }
    const upgrade = await upgradeStatus(url, asRebound);
    const statuses = Object.entries(refusals).map(([path, answer]) => `${path} ${answer.status}`);
    await annotate(`Host ${rebound}: ${[...statuses, `upgrade ${upgrade.status}`].join(', ')}`);
    expect(upgrade.status, 'WebSocket upgrade').toBe(421);
    expect(upgrade.body).toMatchObject({ error: { code: 'unknown_host' } });
    expect((await history(url, 'lobby')).messages.map((m) => m.text)).toEqual(['for the room only']);

    // The names it does serve: loopback, by name or address, on any port (a forwarded one, as Vagrant's).
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`, 'LOCALHOST:8080', '127.0.0.1']) {
      const headers = { host, origin: `http://${host}` };
      expect((await http(url, 'GET', '/wait?room=lobby', { headers })).status, host).toBe(200);
      expect((await upgradeStatus(url, headers)).status, host).toBe(101);
    }
  });

  it('also serves the names in ALLOWED_HOSTS (a reverse proxy that passes Host on), and any name with *', async () => {
    const listed = await startTestServer({ ALLOWED_HOSTS: 'chat.example.com, Parley.internal' });
    for (const host of ['chat.example.com', 'parley.internal:8888', 'CHAT.EXAMPLE.COM:443']) {
      expect((await http(listed.url, 'GET', '/wait?room=lobby', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['rebind.example', 'www.chat.example.com', 'chat.example.com.evil.example']) {
      expect((await http(listed.url, 'GET', '/wait?room=lobby', { headers: { host } })).status, host).toBe(421);
    }
    const any = await startTestServer({ ALLOWED_HOSTS: '*' });
    expect((await http(any.url, 'GET', '/wait?room=lobby', { headers: { host: 'rebind.example' } })).status).toBe(200);
  });
});

describe('bodies over MAX_FRAME_BYTES', () => {
  it('refuses a 10 GB Content-Length with 413 before reading a byte of it, on every route, and closes the connection', async ({ annotate }) => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '20000' });
    // curl asks first (Expect: 100-continue): it must get the 413, not an invitation to send.
    const routes = ['POST /api/session', 'POST /api/rooms/lobby/messages', 'GET /wait?room=lobby&after=0', 'GET /healthz', 'POST /api/session|expect'];
    for (const route of routes) {
      const connection = await RawConnection.open(url);
      const started = performance.now();
      const [requestLine, expectContinue] = route.split('|');
      const expect100 = expectContinue ? 'Expect: 100-continue\r\n' : '';
      connection.write(`${requestLine} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${expect100}Content-Length: 10000000000\r\n\r\n`);
      const answer = await withTimeout(connection.answer, 3000, `the answer to ${route} with Content-Length: 10000000000 and no body yet`);
      const answerSeconds = seconds(started, performance.now());
      await annotate(`${route}, Content-Length: 10000000000: ${answer.status} after ${answerSeconds} s, 0 body bytes sent`);
      expect(answer.status, route).toBe(413);
      expect(answer.body, route).toMatchObject({ error: { code: 'too_large', retryable: false } });
      expect(answerSeconds, `seconds to refuse ${route} (body bytes sent: 0)`).toBeLessThan(1);
      await withTimeout(connection.closed, 3000, `the server to close the connection of ${route}`);
    }
  });

  it('stops reading an endless chunked body at MAX_FRAME_BYTES, or once answered: 413 or the answer, and the connection closed', async ({ annotate }) => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '1000' });
    const chunk = Buffer.from(`4000\r\n${'x'.repeat(0x4000)}\r\n`);
    const ceiling = 64 * 1024 + kernelBufferCeiling();
    // The POST reads its body: 413 at the bound. Routes that take no body leave it unread (the server stops
    // reading at its buffer) and answer: /healthz at once, the held /wait at WAIT_TIMEOUT_MS; then the
    // connection goes, rather than the rest of the body being read.
    const routes = [
      { route: 'POST /api/rooms/lobby/messages', status: 413, closedWithin: 1.5 },
      { route: 'GET /healthz', status: 200, closedWithin: 1.5 },
      { route: 'GET /wait?room=lobby&after=0', status: 200, closedWithin: 2.5 },
    ];
    for (const { route, status, closedWithin } of routes) {
      const connection = await RawConnection.open(url);
      connection.write(`${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const started = performance.now();
      await connection.writeUntilClosed(chunk, started + 4000);
      const closedSeconds = connection.open ? Infinity : seconds(started, await connection.closed);
      const written = connection.socket.bytesWritten;
      await annotate(`${route}, endless chunked body: closed after ${closedSeconds} s, ${written} bytes written (what the server read, and the kernel buffered)`);
      expect(closedSeconds, `seconds until ${route} with an endless body is closed (bytes written: ${written})`).toBeLessThan(closedWithin);
      expect(written, `body bytes ${route} took before closing (kernel buffers included)`).toBeLessThan(ceiling);
      const answer = await withTimeout(connection.answer, 1000, `the answer to ${route}`);
      expect(answer.status, route).toBe(status);
      if (status === 413) expect(answer.body, route).toMatchObject({ error: { code: 'too_large' } });
    }
  });
});

describe('/metrics', () => {
  it('with METRICS_TOKEN answers only a request that carries the token', async () => {
    const token = 'scrape-me-with-this-long-token-7d2f';
    const { url } = await startTestServer({ METRICS_TOKEN: token });
    const without = await http<ErrorResponse>(url, 'GET', '/metrics');
    expect(without.status).toBe(401);
    expect(without.body.error.code).toBe('unauthenticated');
    expect(without.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(without.text).not.toContain('parley_');
    const wrong = await http(url, 'GET', '/metrics', { headers: { authorization: `Bearer ${token.slice(0, -1)}x` } });
    expect(wrong.status).toBe(401);
    const right = await http(url, 'GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    expect(right.text).toContain('parley_messages_stored_total 0');
  });

  it('with METRICS_PORT serves /metrics on its own address only', async () => {
    const { url, server } = await startTestServer({ METRICS_PORT: '0' });
    expect((await http(url, 'GET', '/metrics')).status, '/metrics on the chat port').toBe(404);
    const metricsUrl = server.metricsUrl ?? 'http://127.0.0.1:1';
    expect(new URL(metricsUrl).hostname).toBe('127.0.0.1');
    const scraped = await http(metricsUrl, 'GET', '/metrics');
    expect(scraped.status, '/metrics on METRICS_PORT').toBe(200);
    expect(scraped.text).toContain('parley_messages_stored_total 0');
    expect((await http(metricsUrl, 'GET', '/api/rooms/lobby/messages')).status, 'the chat on METRICS_PORT').toBe(404);
  });
});
