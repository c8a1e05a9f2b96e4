// Property-based fuzzing (fast-check) of a running server: thousands of malformed and near-valid WebSocket
// frames and HTTP requests. Each gets an error answer with a known code (or, when the input happens to be
// valid, a valid answer), nothing is a 500, the server stays up, and the store holds only valid messages,
// each authored by the session that sent it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ChatMessage, type ServerFrame } from '../server/protocol';
import { ClientFrame, ClientId, MessageText, RoomName } from '../server/validation';
import { autoCleanup, createSession, history, http, newClientId, startTestServer, TestSocket } from './helpers';

autoCleanup();

const WS_RUNS = 3000;
const HTTP_RUNS = 1000;
const NICK = 'fuzzer';
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
/** Rooms the generators use; the store is read back from each at the end. */
const ROOMS = ['lobby', 'fuzz', 'a', 'x-1', 'room_2'];

// ---- generators -----------------------------------------------------------------------------------

const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, '', ' ', '\u0000', '\u202e', '💬', 'a'.repeat(5000)),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);
/** Mostly what the protocol wants, sometimes anything. */
const mostly = <T,>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: weirdValue });
const room = mostly(fc.constantFrom(...ROOMS));
const clientId = mostly(fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/));
const text = mostly(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }));
const cursor = fc.oneof(fc.nat(20), fc.constantFrom(-1, 1.5, 2 ** 60, '3', null), weirdValue);
const epoch = mostly(fc.stringMatching(/^[0-9a-f]{16}$/));
const extraKey = fc.constantFrom('author', 'nick', '__proto__', 'constructor', 'prototype', 'seq', 'at', 'type', 'admin', '');

/** The fields each frame type has (all optional here: a missing one is one of the faults generated). */
const fieldsOf: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  subscribe: { room, after: cursor, epoch },
  unsubscribe: { room },
  send: { room, clientId, text },
  ping: {},
};

/** JSON of `value` with one more key spliced into the text, so that "__proto__" arrives as a key, as an attacker sends it. */
const withExtraKey = (value: Record<string, unknown>) =>
  fc.option(fc.tuple(extraKey, weirdValue), { freq: 4 }).map((extra) => {
    const body = JSON.stringify(value);
    if (!extra) return body;
    return `${body.length > 2 ? `${body.slice(0, -1)},` : '{'}${JSON.stringify(extra[0])}:${JSON.stringify(extra[1]) ?? 'null'}}`;
  });

/** An object close to a real frame: a known or unknown type, its fields right, wrong or missing, maybe an extra one. */
const nearFrame = fc
  .oneof({ weight: 8, arbitrary: fc.constantFrom('subscribe', 'unsubscribe', 'send', 'ping') }, { weight: 1, arbitrary: weirdValue })
  .chain((type) => {
    const fields = typeof type === 'string' ? (fieldsOf[type] ?? {}) : {};
    const required = Object.keys(fields).filter((key) => key !== 'after' && key !== 'epoch');
    return fc
      .record(fields, { requiredKeys: required })
      .chain((record) =>
        // Every required field most of the time; some of them dropped now and then.
        fc.oneof({ weight: 3, arbitrary: fc.constant(required) }, { weight: 1, arbitrary: fc.subarray(required) }).map((kept) => ({ record, kept })),
      )
      .map(({ record, kept }) => {
        const value: Record<string, unknown> = { type };
        for (const [key, field] of Object.entries(record)) if (!required.includes(key) || kept.includes(key)) value[key] = field;
        return value;
      })
      .chain(withExtraKey);
  });

/** Text that is rarely JSON, JSON of any shape, and near-valid frames. */
const frameText = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[]', 'null', '"send"', '{"type":"send"', '{"__proto__":{"type":"ping"}}', '[{"type":"ping"}]', '1e999', '{"type":"ping","type":"send"}') },
  { weight: 6, arbitrary: nearFrame },
);
const wsInput = fc.oneof(
  { weight: 12, arbitrary: frameText.map((data) => ({ data, binary: false })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ data: Buffer.from(bytes), binary: true })) },
);

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', undefined);
const httpInput = fc.record({
  target: fc.oneof(
    { weight: 5, arbitrary: room.map((r) => `/api/rooms/${encodeURIComponent(typeof r === 'string' ? r : JSON.stringify(r) ?? '')}/messages`) },
    { weight: 1, arbitrary: fc.constant('/api/session') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => `/api/rooms/${s.replace(/[?#\s]/g, '')}/messages`) },
  ),
  body: fc.oneof(
    { weight: 4, arbitrary: fc.record({ clientId, text }, { requiredKeys: [] }).chain(withExtraKey) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.record({ nick: weirdValue }).map((b) => JSON.stringify(b)) },
  ),
  contentType,
});

// ---- checks --------------------------------------------------------------------------------------

function isErrorAnswer(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message, retryable } = value as Record<string, unknown>;
  return typeof code === 'string' && ERROR_CODES.has(code) && code !== ErrorCode.internal && typeof message === 'string' && message.length > 0 && typeof retryable === 'boolean';
}

/** A stored message that the protocol allows, written by the fuzzing session. */
function checkStored(message: ChatMessage): void {
  expect(RoomName.safeParse(message.room).success, JSON.stringify(message)).toBe(true);
  expect(ClientId.safeParse(message.clientId).success).toBe(true);
  expect(MessageText.safeParse(message.text).success).toBe(true);
  expect(message.author).toBe(NICK);
  expect(Object.keys(message).sort()).toEqual(['at', 'author', 'clientId', 'room', 'seq', 'text']);
}

describe('fuzzing a running server', () => {
  it(`answers ${WS_RUNS} malformed WebSocket frames and ${HTTP_RUNS} HTTP requests with errors, stays up, stores only valid messages`, { timeout: 60_000 }, async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url, NICK);
    let socket = await TestSocket.open(wsUrl, cookie);
    const counts = { wsFrames: 0, wsErrors: 0, wsAcks: 0, wsOther: 0, httpRequests: 0, httpErrors: 0, httpStored: 0 };
    const errorCodes = new Map<string, number>();
    const tally = (code: string) => errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);

    await fc.assert(
      fc.asyncProperty(wsInput, async ({ data, binary }) => {
        counts.wsFrames++;
        const parsed = binary ? undefined : ClientFrame.safeParse(safeJson(String(data)));
        socket.sendRaw(data, binary);
        if (parsed?.success && parsed.data.type === 'unsubscribe') {
          // The one frame with no answer: a ping after it proves it was taken.
          await socket.roundTrip();
          counts.wsOther++;
          return;
        }
        const answer: ServerFrame = await socket.next((f): f is ServerFrame => f.type !== 'messages' && f.type !== 'people');
        if (answer.type === 'error') {
          counts.wsErrors++;
          tally(answer.code);
          expect(isErrorAnswer(answer), JSON.stringify(answer)).toBe(true);
          return;
        }
        expect(parsed?.success, `${String(data)} was answered ${answer.type}`).toBe(true);
        if (answer.type === 'ack') {
          counts.wsAcks++;
          checkStored(answer.message);
        } else {
          counts.wsOther++;
          expect(['subscribed', 'reset', 'pong']).toContain(answer.type);
        }
        // Each socket's subscriptions pile up live messages; start a fresh one now and then.
        if (counts.wsFrames % 500 === 0) {
          await socket.close();
          socket = await TestSocket.open(wsUrl, cookie);
        }
      }),
      { numRuns: WS_RUNS, seed: 20_260_101 },
    );

    await fc.assert(
      fc.asyncProperty(httpInput, async ({ target, body, contentType: type }) => {
        counts.httpRequests++;
        // A new visitor each time for /api/session: a guest that picks a new nickname ends its old session.
        const answer = await http<{ error?: unknown; message?: ChatMessage; nick?: string }>(url, 'POST', target, {
          raw: body,
          ...(target === '/api/session' ? {} : { cookie }),
          headers: type === undefined ? { 'content-type': '' } : { 'content-type': type },
        });
        if (answer.status >= 400) {
          counts.httpErrors++;
          expect(answer.status, answer.text).toBeLessThan(500);
          expect(isErrorAnswer(answer.body.error), answer.text).toBe(true);
          tally((answer.body.error as { code: string }).code);
          return;
        }
        if (target === '/api/session') {
          expect(answer.status).toBe(200);
          expect(typeof answer.body.nick).toBe('string');
          return;
        }
        expect([200, 201]).toContain(answer.status);
        counts.httpStored++;
        if (answer.body.message) checkStored(answer.body.message);
      }),
      { numRuns: HTTP_RUNS, seed: 20_260_102 },
    );

    // Still up, still serving: health, and a normal send over each transport.
    expect((await http(url, 'GET', '/healthz')).status).toBe(200);
    const fresh = await TestSocket.open(wsUrl, cookie);
    expect((await fresh.sendMessage('lobby', 'after the fuzz')).message.author).toBe(NICK);
    expect((await http(url, 'POST', '/api/rooms/lobby/messages', { json: { clientId: newClientId(), text: 'and over HTTP' }, cookie })).status).toBe(201);

    // The store holds only valid messages by the fuzzer, with gapless seqs, in every room it touched.
    let stored = 0;
    for (const name of ROOMS) {
      const all: ChatMessage[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await history(url, name, `?limit=200${before === undefined ? '' : `&before=${before}`}`);
        all.unshift(...page.messages);
        if (!page.hasOlder || page.messages.length === 0) break;
        before = page.messages[0]?.seq;
      }
      all.forEach(checkStored);
      expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => i + 1));
      stored += all.length;
    }
    console.log(
      `fuzz: ${counts.wsFrames} WebSocket frames (${counts.wsErrors} errors, ${counts.wsAcks} acks, ${counts.wsOther} other valid answers), ` +
        `${counts.httpRequests} HTTP requests (${counts.httpErrors} errors, ${counts.httpStored} stored); ${stored} messages in the store, all valid; ` +
        `error codes: ${[...errorCodes].map(([code, n]) => `${code} ${n}`).join(', ')}`,
    );
    expect(counts.wsErrors).toBeGreaterThan(WS_RUNS / 2);
  });
});

function safeJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
