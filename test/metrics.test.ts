// What an operator sees: /metrics after real traffic (figures that follow from what the test did), and a
// log line per socket opened and closed that never carries message text at info level.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  autoCleanup,
  createSession,
  http,
  ofType,
  postMessage,
  startTestServer,
  stillPendingAfter,
  subscribedSocket,
  TestSocket,
} from './helpers';

autoCleanup();

/** The value of one series in a Prometheus text exposition, e.g. `parley_deliveries_total{transport="websocket"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('counts connections, stored messages, deliveries, latency and refusals from real traffic', async () => {
    const { url, wsUrl } = await startTestServer({ WAIT_TIMEOUT_MS: '10000' });
    const cookie = await createSession(url, 'Metra');
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    const sender = await TestSocket.open(wsUrl, cookie);
    for (const text of ['one', 'two', 'three']) await sender.sendMessage('lobby', text);
    await reader.messagesUntil('lobby', 3);
    // A long-poll reader catches up (3 at once), then holds for the next one.
    const caughtUp = await http<{ messages: unknown[] }>(url, 'GET', '/wait?room=lobby&after=0');
    expect(caughtUp.body.messages).toHaveLength(3);
    const held = http(url, 'GET', '/wait?room=lobby&after=3');
    expect(await stillPendingAfter(held, 200)).toBe(true);

    const during = await http(url, 'GET', '/metrics');
    expect(during.status).toBe(200);
    expect(String(during.headers['content-type'])).toMatch(/^text\/plain/);
    const open = during.text;
    expect(sample(open, 'parley_open_connections{transport="websocket"}')).toBe(2);
    expect(sample(open, 'parley_open_connections{transport="longpoll"}')).toBe(1);

    // Over HTTP: one more message (wakes the held wait), and two refusals.
    expect((await postMessage(url, 'lobby', { clientId: 'metrics-http-1', text: 'four' }, cookie)).status).toBe(201);
    expect((await postMessage(url, 'lobby', { clientId: 'metrics-http-1', text: 'four' }, cookie)).status).toBe(200); // a resend
    await held;
    await reader.messagesUntil('lobby', 4);
    sender.sendRaw('{not json');
    await sender.next(ofType('error'));
    const foreign = await http(url, 'POST', '/api/rooms/lobby/messages', {
      json: { clientId: 'metrics-http-2', text: 'from afar' },
      cookie,
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);

    const { text } = await http(url, 'GET', '/metrics');
    expect(sample(text, 'parley_messages_stored_total')).toBe(4); // the resend stored nothing
    // The WebSocket reader got 4 live; the long-poll reader 3 at once, then 1 when woken.
    expect(sample(text, 'parley_deliveries_total{transport="websocket"}')).toBe(4);
    expect(sample(text, 'parley_deliveries_total{transport="longpoll"}')).toBe(4);
    expect(sample(text, 'parley_delivery_latency_seconds_count')).toBe(4);
    expect(sample(text, 'parley_delivery_latency_seconds_bucket{le="1"}')).toBe(4);
    expect(sample(text, 'parley_rejected_total{code="invalid_json"}')).toBe(1);
    expect(sample(text, 'parley_rejected_total{code="forbidden_origin"}')).toBe(1);
    expect(sample(text, 'parley_store_errors_total')).toBe(0);
    expect(sample(text, 'parley_open_connections{transport="longpoll"}')).toBe(0);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  it('write one line per socket opened and closed, and no message text at info level', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const { url, wsUrl } = await startTestServer({}, undefined, undefined, pino({ level: 'info' }, sink));
    const cookie = await createSession(url, 'Logan');
    const socket = await TestSocket.open(wsUrl, cookie);
    await socket.sendMessage('lobby', 'a secret only the room should read');
    await socket.close();
    await expect.poll(() => lines.filter((l) => l.msg === 'websocket closed').length).toBe(1);

    const opened = lines.filter((l) => l.msg === 'websocket opened');
    const closed = lines.filter((l) => l.msg === 'websocket closed');
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ level: 30, ip: '127.0.0.1', open: 1 });
    expect(closed[0]).toMatchObject({ level: 30, socket: opened[0]?.socket, code: 1000, open: 0 });
    expect(JSON.stringify(lines)).not.toContain('a secret');
  });
});
