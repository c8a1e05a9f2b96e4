// What one client may cost, over real sockets: a flood is held to its socket's frame budget and throttled
// with rate_limited and a time to wait while another client is served as before; oversize frames and bodies
// are refused; sockets that say nothing are dropped; connection and long-poll caps hold.
import { describe, expect, it, vi } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { CloseCode } from '../server/protocol';
import { addressGroup, ClientAddresses } from '../server/client-address';
import { loadConfig } from '../server/config';
import { OpenCounts, TokenBuckets, Turns } from '../server/rate-limit';
import {
  autoCleanup,
  createSession,
  DEFAULT_TIMEOUT_MS,
  history,
  http,
  newClientId,
  ofType,
  postMessage,
  startTestServer,
  stillPendingAfter,
  TestSocket,
  withTimeout,
  type FrameOf,
} from './helpers';

autoCleanup();

/** The defaults of server/config.ts for sends, which test/helpers.ts lifts for the other suites. */
const DEFAULT_SEND_LIMITS = { SEND_BURST: '10', SEND_PER_SECOND: '5', IP_SEND_BURST: '200', IP_SEND_PER_SECOND: '100' };

/** The status of a WebSocket upgrade: 101 when it opened (then closed at once), else the refusal's. */
function upgradeStatus(wsUrl: string): Promise<{ status: number; retryAfter?: string }> {
  const ws = new WebSocket(wsUrl);
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.close();
        resolve({ status: 101 });
      });
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, ...(res.headers['retry-after'] ? { retryAfter: String(res.headers['retry-after']) } : {}) });
      });
      ws.once('error', reject);
    }),
    DEFAULT_TIMEOUT_MS,
    'the upgrade',
  );
}

/** The budget of server/config.ts for what one WebSocket sends, which test/helpers.ts lifts for the other suites. */
const DEFAULT_FRAME_BUDGET = { SOCKET_FRAME_BURST: '100', SOCKET_FRAMES_PER_SECOND: '20', SOCKET_BYTES_PER_SECOND: String(256 * 1024) };

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function ackLatencies(socket: TestSocket, count: number, label: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await socket.sendMessage('lobby', `${label} ${i}`);
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 250)); // a person's pace: 4 messages a second
  }
  return latencies;
}

describe('send rate', () => {
  it('holds a flooding socket to its frame budget and its session to the send rate, while another is served as before', async () => {
    const { url, wsUrl } = await startTestServer({ ...DEFAULT_SEND_LIMITS, ...DEFAULT_FRAME_BUDGET });
    const flooder = await TestSocket.open(wsUrl, await createSession(url, 'flood'));
    const calm = await TestSocket.open(wsUrl, await createSession(url, 'calm'));
    const baseline = await ackLatencies(calm, 8, 'before');

    // The flooder sends FLOOD messages at once, far more than its frame budget (100 at once, then 20 a
    // second). The server serves the burst, then stops reading the socket and serves the rest as the budget
    // refills: the flood costs it 20 frames a second, whatever the flooder does, and nothing is lost.
    const FLOOD = 200;
    const started = performance.now();
    for (let i = 0; i < FLOOD; i++) flooder.send({ type: 'send', room: 'lobby', clientId: newClientId(), text: `spam ${i}` });
    const underFlood = await ackLatencies(calm, 12, 'during');
    const answers = () => flooder.frames.remaining().filter((f) => f.type === 'ack' || (f.type === 'error' && f.code === 'rate_limited'));
    const answeredMeanwhile = answers().length;
    const meanwhileSeconds = (performance.now() - started) / 1000;
    // Every send is answered in the end, an ack or a refusal.
    await vi.waitUntil(() => answers().length >= FLOOD, { timeout: 15_000, interval: 50 });
    const floodSeconds = (performance.now() - started) / 1000;

    const frames = answers();
    const acks = frames.filter((f) => f.type === 'ack').length;
    const limited = frames.filter((f): f is FrameOf<'error'> => f.type === 'error' && f.code === 'rate_limited');
    console.log(
      `flood: ${FLOOD} sends answered in ${floodSeconds.toFixed(1)} s (${answeredMeanwhile} in the first ${meanwhileSeconds.toFixed(1)} s), ` +
        `${acks} acked, ${limited.length} rate_limited; calm median ${median(baseline).toFixed(1)} ms before, ${median(underFlood).toFixed(1)} ms during`,
    );
    // Held to its frame budget: the burst, then 20 a second (and one for the rounding of the clock).
    expect(answeredMeanwhile).toBeLessThanOrEqual(100 + Math.ceil(20 * meanwhileSeconds) + 1);
    expect(floodSeconds).toBeGreaterThanOrEqual((FLOOD - 100) / 20 - 0.5);
    expect(acks + limited.length).toBe(FLOOD);
    expect(acks).toBeLessThanOrEqual(10 + Math.ceil(5 * (floodSeconds + 1)));
    for (const error of limited.slice(0, 20)) {
      expect(error.retryable).toBe(true);
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.retryAfterMs).toBeLessThanOrEqual(200);
      expect(error.clientId).toBeDefined();
    }
    // The calm client was never limited (ackLatencies throws on a refusal), and was served as before the
    // flood: its typical round trip, not its slowest (one sample of 12 is at the mercy of a busy machine).
    expect(median(underFlood)).toBeLessThan(Math.max(50, 3 * median(baseline)));
    const stored = (await history(url, 'lobby', '?limit=200')).messages;
    expect(stored.filter((m) => m.author === 'calm')).toHaveLength(20);

    // Waiting as told is enough to send again (the flood's last answers spent the tokens as they came back).
    const clientId = newClientId();
    flooder.send({ type: 'send', room: 'lobby', clientId, text: 'after waiting' });
    const answer = await flooder.next((f): f is FrameOf<'ack'> | FrameOf<'error'> => (f.type === 'ack' || f.type === 'error') && f.clientId === clientId);
    if (answer.type === 'error') {
      expect(answer.code).toBe('rate_limited');
      await new Promise((resolve) => setTimeout(resolve, answer.retryAfterMs));
      await flooder.sendMessage('lobby', 'after waiting', clientId);
    }
  }, 30_000);

  it('answers a flood over HTTP with 429 rate_limited and a Retry-After header', async () => {
    const { url } = await startTestServer({ ...DEFAULT_SEND_LIMITS, SEND_PER_SECOND: '1' });
    const cookie = await createSession(url, 'flood');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postMessage<{ error?: { code: string; retryAfterMs: number; retryable: boolean } }>(url, 'lobby', { clientId: newClientId(), text: 'x' }, cookie)),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(10);
    expect(limited).toHaveLength(10);
    for (const answer of limited) {
      expect(answer.body.error).toMatchObject({ code: 'rate_limited', retryable: true });
      expect(answer.body.error?.retryAfterMs).toBeGreaterThan(0);
      expect(answer.headers['retry-after']).toBe('1');
    }
  });
});

describe('sizes', () => {
  it('refuses an oversize body (413 too_large) and closes a socket with an oversize frame (1009); others go on', async () => {
    const { url, wsUrl } = await startTestServer({ MAX_TEXT_LENGTH: '100', MAX_FRAME_BYTES: '2048' });
    const cookie = await createSession(url, 'alice');
    const big = 'x'.repeat(3000);
    const body = await postMessage<{ error: { code: string } }>(url, 'lobby', { clientId: newClientId(), text: big }, cookie);
    expect(body.status).toBe(413);
    expect(body.body.error.code).toBe('too_large');
    const longText = await postMessage<{ error: { code: string } }>(url, 'lobby', { clientId: newClientId(), text: 'y'.repeat(101) }, cookie);
    expect(longText.status).toBe(413);
    const bad = await TestSocket.open(wsUrl, cookie);
    const good = await TestSocket.open(wsUrl, cookie);
    bad.send({ type: 'send', room: 'lobby', clientId: newClientId(), text: big });
    expect((await bad.closed).code).toBe(1009);
    await good.sendMessage('lobby', 'fits');
    expect((await history(url, 'lobby')).messages.map((m) => m.text)).toEqual(['fits']);
  });
});

describe('idle sockets', () => {
  it('drops a socket that sends nothing after opening, within FIRST_FRAME_TIMEOUT_MS', async () => {
    const { wsUrl } = await startTestServer({ FIRST_FRAME_TIMEOUT_MS: '300' });
    const silent = await TestSocket.open(wsUrl);
    const opened = Date.now();
    const closed = await withTimeout(silent.closed, 2000, 'the silent socket to be closed');
    expect(closed.code).toBe(CloseCode.idle);
    expect(closed.reason).toMatch(/no frame within 300 ms/);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(250);
  });

  it('drops a socket that follows no room and says nothing for SOCKET_IDLE_MS, and keeps a subscribed one', async () => {
    const { wsUrl } = await startTestServer({ SOCKET_IDLE_MS: '300' });
    const idle = await TestSocket.open(wsUrl);
    await idle.roundTrip();
    const reader = await TestSocket.open(wsUrl);
    await reader.subscribe('lobby');
    const closed = await withTimeout(idle.closed, 2000, 'the idle socket to be closed');
    expect(closed.code).toBe(CloseCode.idle);
    expect(await stillPendingAfter(reader.closed, 600)).toBe(true);
    await reader.roundTrip();
  });
});

describe('connection caps', () => {
  it('refuses sockets past MAX_CONNECTIONS_PER_IP with 429 and Retry-After, and takes one again once one closes', async () => {
    const { wsUrl } = await startTestServer({ MAX_CONNECTIONS_PER_IP: '3' });
    const open = [await TestSocket.open(wsUrl), await TestSocket.open(wsUrl), await TestSocket.open(wsUrl)];
    expect(await upgradeStatus(wsUrl)).toEqual({ status: 429, retryAfter: '5' });
    await open[0]?.close();
    await expect.poll(async () => (await upgradeStatus(wsUrl)).status).toBe(101);
  });

  it('refuses sockets past MAX_CONNECTIONS in all', async () => {
    const { wsUrl } = await startTestServer({ MAX_CONNECTIONS: '2' });
    await TestSocket.open(wsUrl);
    await TestSocket.open(wsUrl);
    expect((await upgradeStatus(wsUrl)).status).toBe(429);
  });

  it('refuses new sockets from an IP past its connection rate (CONNECT_BURST, CONNECT_PER_SECOND)', async () => {
    const { wsUrl } = await startTestServer({ CONNECT_BURST: '3', CONNECT_PER_SECOND: '1' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await upgradeStatus(wsUrl)).status);
    expect(statuses).toEqual([101, 101, 101, 429, 429]);
  });

  it('answers long-polls past MAX_LONGPOLLS_PER_IP with 429 rate_limited; a slot frees when one is answered', async () => {
    const { url } = await startTestServer({ MAX_LONGPOLLS_PER_IP: '2', WAIT_TIMEOUT_MS: '20000' });
    const cookie = await createSession(url, 'alice');
    await postMessage(url, 'lobby', { clientId: newClientId(), text: 'first' }, cookie);
    const held = [http(url, 'GET', '/wait?room=lobby&after=1'), http(url, 'GET', '/wait?room=lobby&after=1')];
    expect(await stillPendingAfter(Promise.race(held), 200)).toBe(true);
    const third = await http<{ error: { code: string } }>(url, 'GET', '/wait?room=lobby&after=1');
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('rate_limited');
    expect(third.headers['retry-after']).toBe('5');
    await postMessage(url, 'lobby', { clientId: newClientId(), text: 'second' }, cookie);
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
    expect((await http(url, 'GET', '/wait?room=lobby&after=1')).status).toBe(200);
  });
});

describe('the client an address counts as', () => {
  it('is an IPv4 address as such, also when it comes mapped into IPv6', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(addressGroup('127.0.0.1')).toBe('127.0.0.1');
    // Mapped into IPv6 in any spelling, or translated by a stateless NAT64 (64:ff9b::/96): each IPv4 client
    // is still itself, not one /64 that every IPv4 user would share.
    for (const address of ['::ffff:203.0.113.7', '::FFFF:203.0.113.7', '::ffff:cb00:7107', '0:0:0:0:0:ffff:cb00:7107', '64:ff9b::203.0.113.7', '64:ff9b::cb00:7107']) {
      expect(addressGroup(address), address).toBe('203.0.113.7');
    }
    expect(addressGroup('::ffff:203.0.113.8')).toBe('203.0.113.8');
  });

  it('is the /64 an IPv6 address belongs to, however it is written: one subscriber cannot pass a per-IP cap by changing address', () => {
    const group = '2001:db8:0:1::/64';
    for (const address of ['2001:db8:0:1::1', '2001:DB8::1:0:0:0:2', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:db8:0:1:a:b:192.0.2.1', '2001:db8:0:1::1%eth0']) {
      expect(addressGroup(address), address).toBe(group);
    }
    expect(addressGroup('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64'); // the next /64 is another client
    expect(addressGroup('64:ff9b:1::192.0.2.1')).toBe('64:ff9b:1:0::/64'); // a local NAT64 prefix is an IPv6 network like any
    expect(addressGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('gives no trust to an address a NAT64 translated: 64:ff9b::7f00:1 counts as 127.0.0.1 but is no loopback proxy', () => {
    const addresses = new ClientAddresses(['loopback']);
    const from = (remoteAddress: string) => ({ socket: { remoteAddress }, headers: { 'x-forwarded-for': '203.0.113.9' } }) as unknown as IncomingMessage;
    expect(addresses.of(from('::ffff:127.0.0.1'))).toBe('203.0.113.9');
    expect(addresses.of(from('64:ff9b::7f00:1'))).toBe('127.0.0.1');
  });

  it('keeps the loopback, and what is not an address, as written', () => {
    expect(addressGroup('::1')).toBe('::1');
    expect(addressGroup('::')).toBe('::');
    expect(addressGroup('unknown')).toBe('unknown');
  });

  /** Starts a guest session (IP_GUEST_BURST 1: one per client) as a request forwarded for `forwardedFor`. */
  const guestVia = (url: string, forwardedFor: string | undefined) =>
    http(url, 'POST', '/api/session', { json: { nick: `guest${Math.random().toString(36).slice(2, 8)}` }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }).then((answer) => answer.status);
  const oneGuestEach = { IP_GUEST_BURST: '1', IP_GUESTS_PER_MINUTE: '1' };

  it('is the client a trusted proxy forwards for (TRUSTED_PROXIES): each client has its own limits, and cannot pass for another', async () => {
    const { url } = await startTestServer({ ...oneGuestEach, TRUSTED_PROXIES: 'loopback' });
    expect(await guestVia(url, '203.0.113.1')).toBe(200);
    expect(await guestVia(url, '203.0.113.1')).toBe(429);
    // Another client behind the same proxy is not held back by the first.
    expect(await guestVia(url, '203.0.113.2')).toBe(200);
    // What the client wrote itself (left of what the proxy appended) is not believed; nor is a trusted hop.
    expect(await guestVia(url, '198.51.100.7, 203.0.113.1')).toBe(429);
    expect(await guestVia(url, '198.51.100.8, 203.0.113.3, 127.0.0.1')).toBe(200);
    expect(await guestVia(url, '203.0.113.3:51234')).toBe(429);
    // IPv6 clients count by their /64, also through a proxy.
    expect(await guestVia(url, '2001:db8:0:1::1')).toBe(200);
    expect(await guestVia(url, '[2001:db8:0:1::2]:443')).toBe(429);
    // No X-Forwarded-For, or one no proxy would write: the proxy itself is the client.
    expect(await guestVia(url, undefined)).toBe(200);
    expect(await guestVia(url, 'not-an-address')).toBe(429);
  });

  it('is the TCP peer when the peer is no trusted proxy: X-Forwarded-For from anyone else is not believed', async () => {
    const { url } = await startTestServer({ ...oneGuestEach, TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' });
    expect(await guestVia(url, '203.0.113.1')).toBe(200);
    expect(await guestVia(url, '203.0.113.2')).toBe(429);
  });

  it("does not cap a trusted proxy's TCP connections per IP: they carry many clients'", async () => {
    const { url } = await startTestServer({ MAX_TCP_CONNECTIONS_PER_IP: '2', TRUSTED_PROXIES: '127.0.0.1' });
    const { port } = new URL(url);
    const closed: boolean[] = [];
    const sockets = await Promise.all(
      [0, 1, 2].map(
        (i) =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
            closed[i] = false;
            socket.on('close', () => (closed[i] = true));
            socket.on('error', reject);
          }),
      ),
    );
    // Three held, and a request more is answered: past the cap of 2, none was closed.
    expect((await http(url, 'GET', '/healthz')).status).toBe(200);
    expect(closed).toEqual([false, false, false]);
    for (const socket of sockets) socket.destroy();
  });

  it('refuses a TRUSTED_PROXIES entry that is no address or network, naming the setting', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'proxy.example.com' })).toThrow(/TRUSTED_PROXIES/);
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8 , ::1,LOOPBACK' }).trustedProxies).toEqual(['10.0.0.0/8', '::1', 'loopback']);
  });

  it('refuses an entry that would trust every address, or more than the IPv4 network it maps, saying why', () => {
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 0.0.0.0/0' })).toThrow(/0\.0\.0\.0\/0 trusts every address/);
    expect(() => loadConfig({ TRUSTED_PROXIES: '::/0' })).toThrow(/trusts every address/);
    // ::ffff:127.0.0.1/8 would be ::/8 to a subnet check, not 127.0.0.0/8.
    expect(() => loadConfig({ TRUSTED_PROXIES: '::ffff:127.0.0.1/8' })).toThrow(/reaches past the IPv4-mapped range/);
  });

  it('refuses an IPv6 network that holds the IPv4-mapped range: every IPv4 client would be a trusted proxy', async () => {
    // ::1/64 (loopback, mistyped) is ::/64, which holds ::ffff:0:0/96: an IPv4 peer is checked as ::ffff:a.b.c.d.
    for (const entry of ['::1/64', '::/80', '::/8', '::/1']) {
      expect(() => loadConfig({ TRUSTED_PROXIES: entry }), entry).toThrow(/TRUSTED_PROXIES.* holds every IPv4 address/);
    }
    await expect(startTestServer({ TRUSTED_PROXIES: '::1/64' })).rejects.toThrow(/TRUSTED_PROXIES/);
    // Networks beside the mapped range are taken.
    expect(loadConfig({ TRUSTED_PROXIES: '::/96, ::1/128, fd00::/8, 2001:db8::/32' }).trustedProxies).toHaveLength(4);
  });

  it('takes an IPv4-mapped entry as the IPv4 network it maps', async () => {
    const { url } = await startTestServer({ ...oneGuestEach, TRUSTED_PROXIES: '::ffff:127.0.0.0/104' });
    expect(await guestVia(url, '203.0.113.1')).toBe(200);
    expect(await guestVia(url, '203.0.113.2')).toBe(200);
    expect(await guestVia(url, '203.0.113.1')).toBe(429);
  });
});

describe('TokenBuckets', () => {
  it('spends the burst, then refills at the rate, saying how long to wait', () => {
    const buckets = new TokenBuckets({ burst: 3, perSecond: 2 });
    const t = 1_000_000;
    expect([1, 2, 3].map(() => buckets.take('a', t).ok)).toEqual([true, true, true]);
    expect(buckets.take('a', t)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(buckets.take('b', t).ok).toBe(true); // another key is unaffected
    expect(buckets.take('a', t + 250)).toEqual({ ok: false, retryAfterMs: 250 });
    expect(buckets.take('a', t + 500).ok).toBe(true);
    expect(buckets.take('a', t + 60_000).ok).toBe(true);
    expect([1, 2].map(() => buckets.take('a', t + 60_000).ok)).toEqual([true, true]); // refilled to the burst, no more
    expect(buckets.take('a', t + 60_000).ok).toBe(false);
  });

  it('keeps memory bounded: at most maxKeys buckets, and a sweep forgets the full ones', () => {
    const buckets = new TokenBuckets({ burst: 2, perSecond: 1 }, 100);
    for (let i = 0; i < 1000; i++) buckets.take(`ip-${i}`, 0);
    expect(buckets.size).toBe(100);
    buckets.take('busy', 0);
    buckets.take('busy', 0);
    buckets.sweep(1000);
    expect(buckets.size).toBe(1); // only 'busy' has not refilled yet
    buckets.sweep(3000);
    expect(buckets.size).toBe(0);
  });

  it('counts open slots per key and in all', () => {
    const counts = new OpenCounts(2, 3);
    expect(['a', 'a', 'a'].map((k) => counts.open(k))).toEqual(['ok', 'ok', 'key-full']);
    expect(counts.open('b')).toBe('ok');
    expect(counts.open('c')).toBe('total-full');
    counts.close('a');
    expect(counts.open('c')).toBe('ok');
    expect(counts.count).toBe(3);
  });
});

describe('Turns', () => {
  /** Takes a turn for `key`, notes it in `order`, does `work`, and ends the turn. */
  async function inTurn(turns: Turns, key: string, order: string[], work = () => {}): Promise<void> {
    const end = await turns.take(key);
    order.push(key);
    work();
    end();
  }

  it('gives keys their turns in rotation, one at a time each, so that a key with many waits as long as one with few', async () => {
    const turns = new Turns();
    const order: string[] = [];
    await Promise.all([...['a', 'a', 'a', 'a'].map((key) => inTurn(turns, key, order)), inTurn(turns, 'b', order), inTurn(turns, 'c', order)]);
    expect(order).toEqual(['a', 'b', 'c', 'a', 'a', 'a']);
  });

  it('lets the event loop serve all else once turns have run for a slice (10 ms), before the next turn', async () => {
    const turns = new Turns();
    const order: string[] = [];
    const busy = () => {
      const until = performance.now() + 15; // a turn's work: an answer of a MB or so, encoded
      while (performance.now() < until);
    };
    const taken = [1, 2, 3].map(() => inTurn(turns, 'a', order, busy));
    // Due while the first turn works: like a request arriving then, it is served before the second turn.
    setTimeout(() => order.push('everything else'), 1);
    await Promise.all(taken);
    expect(order).toEqual(['a', 'everything else', 'a', 'a']);
  });
});

describe('rate_limited frames', () => {
  it('name the refused send, so the client keeps it pending and retries it after retryAfterMs', async () => {
    const { url, wsUrl } = await startTestServer({ ...DEFAULT_SEND_LIMITS, SEND_BURST: '1', SEND_PER_SECOND: '2' });
    const socket = await TestSocket.open(wsUrl, await createSession(url, 'alice'));
    await socket.sendMessage('lobby', 'one');
    const clientId = newClientId();
    socket.send({ type: 'send', room: 'lobby', clientId, text: 'two' });
    const limited = await socket.next(ofType('error', (f) => f.clientId === clientId));
    expect(limited).toMatchObject({ code: 'rate_limited', room: 'lobby', retryable: true });
    await new Promise((resolve) => setTimeout(resolve, limited.retryAfterMs));
    const ack = await socket.sendMessage('lobby', 'two', clientId);
    expect(ack.message.seq).toBe(2);
  });
});
