// Unbounded cheap work (issue 14, item 6), over real sockets on 127.0.0.1, against the default budgets: rooms
// created per session and IP, typing signals and people requests into thousands of rooms, and WebSockets that
// send as fast as they can. Each test runs the attack of the issue and states its bound as a figure: rooms
// created, requests accepted, growth of the server's memory, frames served a second, /healthz's latency.
// The server runs in this process, so its memory is this process's resident set.
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../server/protocol';
import { ChildServer, freePort } from './child-server';
import { autoCleanup, createSession, deferCleanup, http, newClientId, ofType, postMessage, range, startTestServer, tempDir, TestSocket, UNLIMITED } from './helpers';

autoCleanup();

/** The budgets of server/config.ts, which test/helpers.ts lifts for the other suites. */
const DEFAULTS = {
  SEND_BURST: '10',
  SEND_PER_SECOND: '5',
  IP_SEND_BURST: '200',
  IP_SEND_PER_SECOND: '100',
  NEW_ROOM_BURST: '10',
  NEW_ROOMS_PER_MINUTE: '10',
  IP_NEW_ROOM_BURST: '30',
  IP_NEW_ROOMS_PER_MINUTE: '30',
  PRESENCE_BURST: '30',
  PRESENCE_PER_SECOND: '5',
  IP_PRESENCE_BURST: '300',
  IP_PRESENCE_PER_SECOND: '100',
  SOCKET_FRAME_BURST: '100',
  SOCKET_FRAMES_PER_SECOND: '20',
  SOCKET_BYTES_PER_SECOND: String(256 * 1024),
};
const numberOf = (name: keyof typeof DEFAULTS): number => Number(DEFAULTS[name]);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** The status of one request sent through `agent` (which keeps its connections alive). */
function statusOf(agent: Agent, port: number, method: string, path: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { cookie, 'content-length': '0' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Asks /healthz every 100 ms for `forMs`; returns how long each answer took (ms). */
async function healthLatencies(url: string, forMs: number): Promise<number[]> {
  const latencies: number[] = [];
  const started = performance.now();
  while (performance.now() - started < forMs) {
    const asked = performance.now();
    expect((await http(url, 'GET', '/healthz')).status).toBe(200);
    latencies.push(performance.now() - asked);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a monitor's pace
  }
  return latencies;
}

/** Runs `work` on `count` items, `atOnce` at a time; returns the results in order. */
async function inParallel<T>(count: number, atOnce: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    range(1, atOnce).map(async () => {
      for (let index = next++; index < count; index = next++) results[index] = await work(index);
    }),
  );
  return results;
}

describe('rooms created per session and per IP (issue 14, item 6a)', () => {
  it('lets one IP create IP_NEW_ROOM_BURST rooms at once and then IP_NEW_ROOMS_PER_MINUTE, with 429 and Retry-After past it', async () => {
    const { url } = await startTestServer(DEFAULTS);
    // The attack of the issue, from one IP: 20 sessions, each posting into 25 rooms that do not exist yet.
    const cookies = await Promise.all(range(1, 20).map((i) => createSession(url, `Maker ${i}`)));
    const started = performance.now();
    const answers = await inParallel(500, 20, (i) => postMessage<ErrorResponse>(url, `new-${i}`, { clientId: newClientId(), text: 'mine' }, cookies[i % 20]));
    const seconds = (performance.now() - started) / 1000;
    const created = answers.filter((a) => a.status === 201).length;
    const refused = answers.filter((a) => a.status === 429 && /rooms/.test(a.body.error.message));
    console.log(`new rooms: ${created} created of 500 tried in ${seconds.toFixed(1)} s, ${refused.length} refused as new rooms`);

    expect(created).toBeLessThanOrEqual(numberOf('IP_NEW_ROOM_BURST') + Math.ceil((numberOf('IP_NEW_ROOMS_PER_MINUTE') / 60) * seconds));
    expect(created).toBeGreaterThanOrEqual(numberOf('NEW_ROOM_BURST'));
    const [first] = refused;
    expect(first?.body.error).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(Number(first?.headers['retry-after'])).toBeGreaterThanOrEqual(1);

  });

  it('lets one session create NEW_ROOM_BURST rooms at once, and tells its WebSocket when to try again', async () => {
    // Sends themselves out of the way: SEND_BURST (10) would refuse the 11th send before its room is looked at.
    const { url, wsUrl } = await startTestServer({ ...DEFAULTS, SEND_BURST: '100' });
    const socket = await TestSocket.open(wsUrl, await createSession(url, 'Maker'));
    for (const i of range(1, numberOf('NEW_ROOM_BURST'))) await socket.sendMessage(`room-${i}`, 'first');
    const clientId = newClientId();
    socket.send({ type: 'send', room: 'one-too-many', clientId, text: 'first' });
    const refused = await socket.next(ofType('error', (f) => f.clientId === clientId));
    expect(refused).toMatchObject({ code: 'rate_limited', room: 'one-too-many', retryable: true });
    // A token every 6 s (10 a minute).
    expect(refused.retryAfterMs).toBeGreaterThan(5000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(6000);
    // Rooms that exist are not new: the session goes on talking in them.
    const ack = await socket.sendMessage('room-1', 'second');
    expect(ack.message.seq).toBe(2);
  });
});

describe('typing signals and people requests (issue 14, item 6b)', () => {
  it('accept from one IP what the presence budget allows, asked into 2,000 distinct rooms', async () => {
    // The server runs as its own process here, so that the requests' cost to this one does not slow it.
    const port = await freePort();
    const server = await ChildServer.start(port, await tempDir(), DEFAULTS);
    deferCleanup(async () => void (await server.kill('SIGKILL')));
    const cookie = await createSession(`http://127.0.0.1:${port}`, 'Spy');
    const started = performance.now();
    // The attack of the issue (there 20,000 rooms in 10 s): people requests and typing signals, each into a
    // room of its own, on 20 kept-alive connections.
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    deferCleanup(async () => agent.destroy());
    const statuses = await inParallel(2000, 20, (i) => statusOf(agent, port, i % 2 ? 'POST' : 'GET', `/api/rooms/spied-${i}/${i % 2 ? 'typing' : 'people'}`, cookie));
    const seconds = (performance.now() - started) / 1000;
    const accepted = statuses.filter((s) => s === 200 || s === 204).length;
    const limited = statuses.filter((s) => s === 429).length;
    console.log(`presence flood: ${accepted} accepted, ${limited} rate_limited of 2000 in ${seconds.toFixed(1)} s`);

    expect(accepted + limited).toBe(2000);
    // What is accepted is what the session's budget allows: the rest holds nothing, and costs a 429.
    expect(accepted).toBeLessThanOrEqual(numberOf('PRESENCE_BURST') + Math.ceil(numberOf('PRESENCE_PER_SECOND') * seconds));
  }, 60_000);

  it('past the budget, drop typing frames unanswered: an error naming the room would read as a failed subscription', async () => {
    const { url, wsUrl } = await startTestServer(DEFAULTS);
    const socket = await TestSocket.open(wsUrl, await createSession(url, 'Typist'));
    await socket.subscribe('lobby');
    for (let i = 0; i < 2 * numberOf('PRESENCE_BURST'); i++) socket.send({ type: 'typing', room: 'lobby' });
    await socket.roundTrip();
    expect(socket.frames.remaining().filter((f) => f.type === 'error')).toEqual([]);
  });

  it('keep presence for at most MAX_POLLED_ROOMS rooms that long-poll readers alone keep, forgetting the least recently polled', async () => {
    const { url } = await startTestServer({ ...UNLIMITED, MAX_POLLED_ROOMS: '100' });
    const cookie = await createSession(url, 'Poller');
    await inParallel(300, 20, (i) => http(url, 'GET', `/api/rooms/polled-${i}/people`, { cookie }));
    const present = async (i: number) => (await http<{ presentCount: number }>(url, 'GET', `/api/rooms/polled-${i}/people`)).body.presentCount;
    // The last 100 are kept; the first were forgotten (asked without a cookie, so asking keeps nothing new).
    expect(await present(299)).toBe(1);
    expect(await present(200)).toBe(1);
    expect(await present(0)).toBe(0);
    expect(await present(199)).toBe(0);
  });
});

describe('what one WebSocket may send (issue 14, item 6c)', () => {
  it('serves a socket SOCKET_FRAME_BURST frames at once, then SOCKET_FRAMES_PER_SECOND, and loses none', async () => {
    const { wsUrl } = await startTestServer({ ...UNLIMITED, SOCKET_FRAME_BURST: '100', SOCKET_FRAMES_PER_SECOND: '20' });
    const socket = await TestSocket.open(wsUrl);
    const started = performance.now();
    for (let i = 0; i < 150; i++) socket.send({ type: 'ping' });
    const pongAt: number[] = [];
    for (let i = 0; i < 150; i++) {
      await socket.next(ofType('pong'), 10_000);
      pongAt.push(performance.now() - started);
    }
    console.log(`150 pings at once: pong 100 after ${pongAt[99]?.toFixed(0)} ms, pong 150 after ${pongAt[149]?.toFixed(0)} ms`);
    // The 50 past the burst came at 20 a second: the last no sooner than 2.5 s after the first (less a token's rounding).
    expect(pongAt[149]).toBeGreaterThanOrEqual(2400);
  });

  it('holds four sockets sending 64 KiB frames as fast as they can to SOCKET_BYTES_PER_SECOND, while /healthz answers as before', async () => {
    const { url, wsUrl } = await startTestServer({ ...UNLIMITED, SOCKET_BYTES_PER_SECOND: DEFAULTS.SOCKET_BYTES_PER_SECOND });
    const frame = JSON.stringify({ type: 'send', room: 'lobby', clientId: newClientId(), text: 'x'.repeat(65_000) });
    const before = await healthLatencies(url, 1000);
    const attackers = await Promise.all(range(1, 4).map(() => TestSocket.open(wsUrl)));
    const errors = () => attackers.reduce((total, socket) => total + socket.frames.remaining().length, 0);
    // The attack of the issue: each socket sends as fast as its connection takes them, for 3 s.
    let attacking = true;
    const attack = Promise.all(
      attackers.map(async ({ ws }) => {
        while (attacking) {
          if (ws.bufferedAmount < 1024 * 1024) ws.send(frame);
          else await new Promise((resolve) => setTimeout(resolve, 5));
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    const started = performance.now();
    const healthMs = await healthLatencies(url, 3000);
    const seconds = (performance.now() - started) / 1000;
    const served = errors();
    attacking = false;
    await attack;
    // Their close frames wait behind what they sent, unread: cut them.
    for (const { ws } of attackers) ws.terminate();
    console.log(
      `64 KiB frames from 4 sockets: ${served} served in ${seconds.toFixed(1)} s; ` +
        `/healthz median ${median(before).toFixed(0)} ms before, ${median(healthMs).toFixed(0)} ms during (worst ${Math.max(...healthMs).toFixed(0)} ms)`,
    );

    // Each socket gets SOCKET_BYTES_PER_SECOND at once and again each second: 4 frames at once, 4 a second.
    const perSocket = Math.floor(numberOf('SOCKET_BYTES_PER_SECOND') / frame.length) * (1 + Math.ceil(seconds));
    expect(served).toBeLessThanOrEqual(4 * perSocket);
    // /healthz answers as it did before the attack: its typical latency, not its slowest (a busy machine's).
    expect(median(healthMs)).toBeLessThan(Math.max(100, 3 * median(before)));
  });
});
