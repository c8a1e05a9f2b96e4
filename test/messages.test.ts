// Sending over HTTP and reading history (server/handlers/messages.ts), and the session it relies on
// (server/handlers/session.ts), over real HTTP.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorResponse, type HistoryResponse, type SendResponse, type SessionLookupResponse, type SessionResponse } from '../server/protocol';
import { autoCleanup, createSession, history, http, newClientId, postMessage, range, seqs, startTestServer } from './helpers';

autoCleanup();

describe('session', () => {
  it('gives a guest a random session id in an httpOnly cookie, and shows the guest as one', async () => {
    const { url } = await startTestServer({ MAX_TEXT_LENGTH: '500' });
    const answer = await http<SessionResponse>(url, 'POST', '/api/session', { json: { nick: '  Zoë 2 ' } });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ nick: 'Zoë 2', guest: true, maxTextLength: 500 });
    const setCookie = answer.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^parley_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    expect(setCookie).not.toMatch(/Secure/i); // plain HTTP
    const cookie = setCookie.split(';')[0];
    expect((await http<SessionResponse>(url, 'GET', '/api/session', { cookie })).body).toEqual({ nick: 'Zoë 2', guest: true, maxTextLength: 500 });
  });

  it('says "nobody yet" (200, nick null) without a session or with a tampered cookie, and 400 for a bad nickname', async () => {
    const { url } = await startTestServer({ MAX_TEXT_LENGTH: '500' });
    const nobody = { status: 200, body: { nick: null, maxTextLength: 500, guestsAllowed: true } };
    const firstVisit = await http<SessionLookupResponse>(url, 'GET', '/api/session');
    expect({ status: firstVisit.status, body: firstVisit.body }).toEqual(nobody);
    const cookie = await createSession(url, 'alice');
    const [name, value = ''] = cookie.split('=');
    const tampered = `${value.startsWith('x') ? 'y' : 'x'}${value.slice(1)}`;
    const forgedPayload = Buffer.from(JSON.stringify({ nick: 'admin' })).toString('base64url');
    for (const bad of [`${name}=${forgedPayload}`, `${name}=${tampered}`, `${name}=garbage`]) {
      const answer = await http<SessionLookupResponse>(url, 'GET', '/api/session', { cookie: bad });
      expect({ status: answer.status, body: answer.body }).toEqual(nobody);
    }
    const refused = [
      { body: {}, code: ErrorCode.invalidRequest },
      { body: { nick: '' }, code: ErrorCode.invalidName },
      { body: { nick: '   ' }, code: ErrorCode.invalidName },
      { body: { nick: 'x'.repeat(33) }, code: ErrorCode.invalidName },
      { body: { nick: '<script>' }, code: ErrorCode.invalidName },
      { body: { nick: 'ok', extra: 1 }, code: ErrorCode.invalidRequest },
    ];
    for (const { body, code } of refused) {
      const answer = await http<ErrorResponse>(url, 'POST', '/api/session', { json: body });
      expect({ body, status: answer.status, code: answer.body.error.code }).toEqual({ body, status: 400, code });
    }
  });
});

describe('refusals a person can read', () => {
  it('gives a bad field its own sentence without a "field:" prefix, and names the field where the words do not', async () => {
    const { url } = await startTestServer();
    const refusal = async (method: 'GET' | 'POST', path: string, json?: unknown) => (await http<ErrorResponse>(url, method, path, { json })).body.error;
    expect(await refusal('POST', '/api/session', { nick: '<Ada>' })).toEqual({
      code: ErrorCode.invalidName,
      message: "a nickname uses letters, digits, spaces and . _ ' -, starting with a letter or digit",
      retryable: false,
    });
    expect((await refusal('GET', '/api/rooms/lobby/messages?before=soon')).message).toBe('before is a whole number');
    // zod's own words ("Invalid input: expected string, received number") do not say which field they are about.
    expect((await refusal('POST', '/api/session', { nick: 5 })).message).toMatch(/^nick: \S/);
    expect((await refusal('GET', '/wait?room=lobby&after=1&epoch=' + 'e'.repeat(65))).message).toMatch(/^epoch: \S/);
  });
});

describe('POST /api/rooms/:room/messages', () => {
  it('answers 201 with the stored message; a resend with the same clientId gets 200, duplicate, same seq', async () => {
    const { url } = await startTestServer();
    const cookie = await createSession(url, 'bob');
    const first = await postMessage<SendResponse>(url, 'lobby', { clientId: 'http-client-1', text: 'hi there' }, cookie);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      duplicate: false,
      message: { room: 'lobby', seq: 1, clientId: 'http-client-1', author: 'bob', text: 'hi there', at: expect.any(Number) },
    });
    const resend = await postMessage<SendResponse>(url, 'lobby', { clientId: 'http-client-1', text: 'hi there' }, cookie);
    expect(resend.status).toBe(200);
    expect(resend.body).toEqual({ duplicate: true, message: first.body.message });
    // Even from another session, with another text: the (room, clientId) names the message.
    const other = await postMessage<SendResponse>(url, 'lobby', { clientId: 'http-client-1', text: 'changed' }, await createSession(url, 'eve'));
    expect(other.status).toBe(200);
    expect(other.body.message).toEqual(first.body.message);
    const second = await postMessage<SendResponse>(url, 'lobby', { clientId: 'http-client-2', text: 'second' }, cookie);
    expect(second.status).toBe(201);
    expect(second.body.message.seq).toBe(2);
    expect((await history(url, 'lobby')).messages).toEqual([first.body.message, second.body.message]);
  });

  it('gives concurrent resends of one clientId one message', async () => {
    const { url } = await startTestServer();
    const cookie = await createSession(url);
    const answers = await Promise.all(range(1, 10).map(() => postMessage<SendResponse>(url, 'lobby', { clientId: 'same-everywhere', text: 'x' }, cookie)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.message.seq))).toEqual(new Set([1]));
    expect(seqs((await history(url, 'lobby')).messages)).toEqual([1]);
  });

  it('answers each kind of bad request with its status and error code, storing nothing', async () => {
    const { url } = await startTestServer({ MAX_TEXT_LENGTH: '10', MAX_FRAME_BYTES: '2048' });
    const cookie = await createSession(url);
    const valid = { clientId: newClientId(), text: 'fine' };
    const cases: { what: string; send: () => ReturnType<typeof http<ErrorResponse>>; status: number; code: string }[] = [
      { what: 'invalid JSON', send: () => http(url, 'POST', '/api/rooms/lobby/messages', { raw: '{"clientId": ', cookie }), status: 400, code: ErrorCode.invalidJson },
      { what: 'no body', send: () => http(url, 'POST', '/api/rooms/lobby/messages', { cookie }), status: 400, code: ErrorCode.invalidRequest },
      { what: 'missing text', send: () => postMessage(url, 'lobby', { clientId: newClientId() }, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'missing clientId', send: () => postMessage(url, 'lobby', { text: 'hi' }, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'a bad clientId', send: () => postMessage(url, 'lobby', { clientId: 'no spaces!', text: 'hi' }, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'blank text', send: () => postMessage(url, 'lobby', { clientId: newClientId(), text: ' \n ' }, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'text not a string', send: () => postMessage(url, 'lobby', { clientId: newClientId(), text: 42 }, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'an author field', send: () => postMessage(url, 'lobby', { ...valid, author: 'mallory' }, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'a nick field', send: () => postMessage(url, 'lobby', { ...valid, nick: 'mallory' }, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'a JSON array', send: () => postMessage(url, 'lobby', [valid], cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'an uppercase room', send: () => postMessage(url, 'Lobby', valid, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'a room with spaces', send: () => postMessage(url, 'the lobby', valid, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'a too long room', send: () => postMessage(url, 'r'.repeat(41), valid, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'a room starting with -', send: () => postMessage(url, '-lobby', valid, cookie), status: 400, code: ErrorCode.invalidRequest },
      { what: 'too long text', send: () => postMessage(url, 'lobby', { clientId: newClientId(), text: 'x'.repeat(11) }, cookie), status: 413, code: ErrorCode.tooLarge },
      { what: 'a body over MAX_FRAME_BYTES', send: () => postMessage(url, 'lobby', { clientId: newClientId(), text: 'x'.repeat(3000) }, cookie), status: 413, code: ErrorCode.tooLarge },
      { what: 'no session', send: () => postMessage(url, 'lobby', valid), status: 401, code: ErrorCode.unauthenticated },
      { what: 'a forged session', send: () => postMessage(url, 'lobby', valid, 'parley_session=eyJuaWNrIjoiZXZlIn0.Zm9v'), status: 401, code: ErrorCode.unauthenticated },
    ];
    for (const { what, send, status, code } of cases) {
      const answer = await send();
      expect({ what, status: answer.status, code: answer.body?.error?.code }).toEqual({ what, status, code });
      expect(answer.body.error.message.length).toBeGreaterThan(0);
      expect(answer.body.error.retryable).toBe(false);
    }
    expect((await history(url, 'lobby')).messages).toEqual([]);
    // The limit counts characters: ten emoji are ten characters.
    const emoji = await postMessage<SendResponse>(url, 'lobby', { clientId: newClientId(), text: '👋'.repeat(10) }, cookie);
    expect(emoji.status).toBe(201);
    // After all that the valid message goes through.
    expect((await postMessage(url, 'lobby', valid, cookie)).status).toBe(201);
  });

  it('answers unknown API routes with 404 not_found', async () => {
    const { url } = await startTestServer();
    const answer = await http<ErrorResponse>(url, 'GET', '/api/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe(ErrorCode.notFound);
  });
});

describe('GET /api/rooms/:room/messages (history)', () => {
  async function roomWith(count: number, env: Record<string, string> = {}) {
    const server = await startTestServer(env);
    const cookie = await createSession(server.url);
    for (let i = 1; i <= count; i++) {
      const answer = await postMessage(server.url, 'lobby', { clientId: `history-${i}`, text: `message ${i}` }, cookie);
      expect(answer.status).toBe(201);
    }
    return server;
  }

  it('pages back with ?before and ?limit: oldest first in a page, no overlaps, hasOlder right', async () => {
    const { url } = await roomWith(120);
    const latest = await history(url, 'lobby', '?limit=50');
    expect(seqs(latest.messages)).toEqual(range(71, 120));
    expect(latest.hasOlder).toBe(true);
    const middle = await history(url, 'lobby', '?before=71&limit=50');
    expect(seqs(middle.messages)).toEqual(range(21, 70));
    expect(middle.hasOlder).toBe(true);
    const oldest = await history(url, 'lobby', '?before=21&limit=50');
    expect(seqs(oldest.messages)).toEqual(range(1, 20));
    expect(oldest.hasOlder).toBe(false);
    expect(await history(url, 'lobby', '?before=1')).toMatchObject({ messages: [], hasOlder: false });
    expect(oldest.messages[0]).toMatchObject({ seq: 1, clientId: 'history-1', text: 'message 1' });
    expect(latest.epoch).toBe(oldest.epoch);
  });

  it('walks a 120-message room back to seq 1, a page at a time', async () => {
    const { url } = await roomWith(120);
    const pages: HistoryResponse[] = [];
    let before: number | undefined;
    for (let page = 0; page < 20; page++) {
      const answer = await history(url, 'lobby', `?limit=17${before === undefined ? '' : `&before=${before}`}`);
      pages.push(answer);
      expect(answer.messages.length).toBeGreaterThan(0);
      expect(seqs(answer.messages)).toEqual(range(answer.messages[0]?.seq ?? 0, answer.messages.at(-1)?.seq ?? -1));
      before = answer.messages[0]?.seq;
      if (!answer.hasOlder) break;
    }
    expect(pages).toHaveLength(Math.ceil(120 / 17));
    const all = pages.reverse().flatMap((p) => seqs(p.messages));
    expect(all).toEqual(range(1, 120));
    // Oldest page first now: only it has nothing older.
    expect(pages.map((p) => p.hasOlder)).toEqual(pages.map((_, i) => i > 0));
  });

  it('uses HISTORY_PAGE_SIZE by default and caps ?limit at MAX_HISTORY_PAGE_SIZE', async () => {
    const { url } = await roomWith(30, { HISTORY_PAGE_SIZE: '7', MAX_HISTORY_PAGE_SIZE: '12' });
    expect(seqs((await history(url, 'lobby')).messages)).toEqual(range(24, 30));
    expect(seqs((await history(url, 'lobby', '?limit=1000')).messages)).toEqual(range(19, 30));
    expect(seqs((await history(url, 'lobby', '?limit=1')).messages)).toEqual([30]);
    expect(seqs((await history(url, 'lobby', '?before=5&limit=1000')).messages)).toEqual([1, 2, 3, 4]);
    expect(seqs((await history(url, 'lobby', '?before=1000&limit=3')).messages)).toEqual([28, 29, 30]);
  });

  it('answers an empty room with no messages, and rejects bad queries', async () => {
    const { url } = await startTestServer();
    expect(await history(url, 'nobody-here')).toMatchObject({ room: 'nobody-here', messages: [], hasOlder: false });
    for (const query of ['?limit=0', '?limit=-3', '?limit=abc', '?before=-1', '?before=2.5', '?before=']) {
      const answer = await http<ErrorResponse>(url, 'GET', `/api/rooms/lobby/messages${query}`);
      expect({ query, status: answer.status, code: answer.body.error.code }).toEqual({ query, status: 400, code: ErrorCode.invalidRequest });
    }
    const badRoom = await http<ErrorResponse>(url, 'GET', '/api/rooms/Bad%20Room/messages');
    expect(badRoom.status).toBe(400);
  });
});
