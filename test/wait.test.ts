// Long-poll (GET /wait, server/handlers/wait.ts) over real HTTP: at once when something follows the
// cursor, held until a message arrives, empty at the timeout with the same cursor, resets, rooms apart.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorResponse, type WaitResponse } from '../server/protocol';
import {
  autoCleanup,
  createSession,
  history,
  http,
  newClientId,
  postMessage,
  range,
  seqs,
  startTestServer,
  stillPendingAfter,
  type HttpAnswer,
} from './helpers';

autoCleanup();

function wait(base: string, query: string): Promise<HttpAnswer<WaitResponse>> {
  return http<WaitResponse>(base, 'GET', `/wait?${query}`);
}

function messagesOf(answer: HttpAnswer<WaitResponse>) {
  expect(answer.status).toBe(200);
  if (answer.body.type !== 'messages') throw new Error(`expected messages, got ${answer.text}`);
  return answer.body;
}

async function sendAll(base: string, cookie: string, room: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const answer = await postMessage(base, room, { clientId: newClientId(), text: `${room} ${i}` }, cookie);
    expect(answer.status).toBe(201);
  }
}

describe('GET /wait', () => {
  it('answers at once with every message after the cursor', async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '20000' });
    const cookie = await createSession(url);
    await sendAll(url, cookie, 'lobby', 5);
    const { epoch } = await history(url, 'lobby');
    const started = Date.now();
    const answer = messagesOf(await wait(url, `room=lobby&after=2&epoch=${epoch}`));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(answer).toMatchObject({ type: 'messages', room: 'lobby', epoch });
    expect(seqs(answer.messages)).toEqual([3, 4, 5]);
    expect(answer.messages.map((m) => m.text)).toEqual(['lobby 3', 'lobby 4', 'lobby 5']);
    expect(seqs(messagesOf(await wait(url, 'room=lobby&after=0')).messages)).toEqual(range(1, 5));
  });

  it("answers a quiet room's first message at once, and a burst's messages together, once per LONGPOLL_BATCH_MS", async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '20000', LONGPOLL_BATCH_MS: '1000' });
    const cookie = await createSession(url);
    const first = wait(url, 'room=lobby&after=0');
    expect(await stillPendingAfter(first, 200)).toBe(true);
    const started = Date.now();
    await sendAll(url, cookie, 'lobby', 1);
    expect(seqs(messagesOf(await first).messages)).toEqual([1]);
    // Nothing was answered in the room before: not held for the interval (1 s).
    expect(Date.now() - started).toBeLessThan(900);
    // Asking again at once: the next messages come within the interval, and go in one answer, to this
    // reader and to another asking from the same cursor meanwhile.
    const again = wait(url, 'room=lobby&after=1');
    expect(await stillPendingAfter(again, 100)).toBe(true);
    await sendAll(url, cookie, 'lobby', 1);
    const other = wait(url, 'room=lobby&after=1');
    await sendAll(url, cookie, 'lobby', 1);
    expect(seqs(messagesOf(await again).messages)).toEqual([2, 3]);
    expect(seqs(messagesOf(await other).messages)).toEqual([2, 3]);
  });

  it('holds while nothing follows the cursor, and answers when a message arrives', async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '20000' });
    const cookie = await createSession(url);
    await sendAll(url, cookie, 'lobby', 2);
    const started = Date.now();
    const pending = wait(url, 'room=lobby&after=2');
    expect(await stillPendingAfter(pending, 300)).toBe(true);
    const sent = await postMessage<{ message: { seq: number } }>(url, 'lobby', { clientId: 'arrival-01', text: 'here I am' }, cookie);
    expect(sent.status).toBe(201);
    const raw = await pending;
    // A held answer writes its headers when it goes: the same security headers as every other answer.
    expect(raw.headers['cache-control']).toBe('no-store');
    expect(raw.headers['content-security-policy']).toContain("default-src 'self'");
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
    const answer = messagesOf(raw);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(answer.messages).toHaveLength(1);
    expect(answer.messages[0]).toMatchObject({ seq: 3, clientId: 'arrival-01', text: 'here I am' });
    expect(answer.messages[0]).toEqual((await history(url, 'lobby')).messages.at(-1));
  });

  it('wakes every waiter of a room with the same message', async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '20000' });
    const cookie = await createSession(url);
    const waiting = range(1, 10).map(() => wait(url, 'room=lobby&after=0'));
    expect(await stillPendingAfter(Promise.race(waiting), 200)).toBe(true);
    await postMessage(url, 'lobby', { clientId: 'wake-all-01', text: 'everyone' }, cookie);
    const answers = await Promise.all(waiting);
    for (const answer of answers) {
      expect(answer.headers['cache-control']).toBe('no-store');
      expect(messagesOf(answer).messages.map((m) => m.clientId)).toEqual(['wake-all-01']);
    }
  });

  it('answers empty at WAIT_TIMEOUT_MS; the same cursor then gets what came meanwhile', async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '300' });
    const cookie = await createSession(url);
    await sendAll(url, cookie, 'lobby', 1);
    const { epoch } = await history(url, 'lobby');
    const started = Date.now();
    const empty = messagesOf(await wait(url, `room=lobby&after=1&epoch=${epoch}`));
    const held = Date.now() - started;
    expect(held).toBeGreaterThanOrEqual(290);
    expect(held).toBeLessThan(3000);
    expect(empty).toMatchObject({ type: 'messages', room: 'lobby', epoch, messages: [] });
    await sendAll(url, cookie, 'lobby', 2);
    expect(seqs(messagesOf(await wait(url, `room=lobby&after=1&epoch=${epoch}`)).messages)).toEqual([2, 3]);
  });

  it('without `after` answers the latest page at once, even an empty one', async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '20000', HISTORY_PAGE_SIZE: '4' });
    const cookie = await createSession(url);
    const empty = messagesOf(await wait(url, 'room=lobby'));
    expect(empty).toMatchObject({ messages: [], hasOlder: false });
    await sendAll(url, cookie, 'lobby', 6);
    const latest = messagesOf(await wait(url, 'room=lobby'));
    expect(seqs(latest.messages)).toEqual([3, 4, 5, 6]);
    expect(latest.hasOlder).toBe(true);
    expect(latest.epoch).toBe((await history(url, 'lobby')).epoch);
  });

  it('resets a cursor ahead of the head, from another epoch, or further behind than MAX_REPLAY', async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '20000', MAX_REPLAY: '5' });
    const cookie = await createSession(url);
    await sendAll(url, cookie, 'lobby', 10);
    const { epoch } = await history(url, 'lobby');
    const reset = async (query: string) => {
      const answer = await wait(url, query);
      expect(answer.status).toBe(200);
      return answer.body;
    };
    expect(await reset(`room=lobby&after=11&epoch=${epoch}`)).toEqual({ type: 'reset', room: 'lobby', epoch, reason: 'ahead' });
    expect(await reset('room=lobby&after=11')).toEqual({ type: 'reset', room: 'lobby', epoch, reason: 'ahead' });
    expect(await reset('room=lobby&after=8&epoch=0123456789abcdef')).toEqual({ type: 'reset', room: 'lobby', epoch, reason: 'epoch' });
    expect(await reset(`room=lobby&after=4&epoch=${epoch}`)).toEqual({ type: 'reset', room: 'lobby', epoch, reason: 'behind' });
    expect(await reset('room=empty&after=1')).toEqual({ type: 'reset', room: 'empty', epoch, reason: 'ahead' });
    // Exactly MAX_REPLAY behind is still served.
    expect(seqs(messagesOf(await wait(url, `room=lobby&after=5&epoch=${epoch}`)).messages)).toEqual([6, 7, 8, 9, 10]);
  });

  it('keeps rooms apart: a message in one room does not answer a waiter of another', async () => {
    const { url } = await startTestServer({ WAIT_TIMEOUT_MS: '1000' });
    const cookie = await createSession(url);
    const inB = wait(url, 'room=room-b&after=0');
    const inA = wait(url, 'room=room-a&after=0');
    expect(await stillPendingAfter(Promise.race([inA, inB]), 100)).toBe(true);
    const sent = await postMessage<{ message: { seq: number } }>(url, 'room-a', { clientId: 'only-for-a', text: 'a' }, cookie);
    expect(sent.body.message.seq).toBe(1);
    expect(messagesOf(await inA).messages.map((m) => m.clientId)).toEqual(['only-for-a']);
    expect(await stillPendingAfter(inB, 100)).toBe(true);
    expect(messagesOf(await inB).messages).toEqual([]); // at its timeout
    expect((await history(url, 'room-b')).messages).toEqual([]);
  });

  it('rejects a bad query with invalid_request', async () => {
    const { url } = await startTestServer();
    for (const query of ['', 'room=Not%20A%20Room', 'room=lobby&after=-1', 'room=lobby&after=abc', 'room=lobby&after=1.5', 'room=lobby&after=', 'room=lobby&after=1e3']) {
      const answer = await http<ErrorResponse>(url, 'GET', `/wait?${query}`);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      expect(answer.body.error).toMatchObject({ code: ErrorCode.invalidRequest, retryable: false });
    }
  });

  it('ignores query parameters it does not know, such as a cache-buster', async () => {
    const { url } = await startTestServer();
    const answer = await http<WaitResponse>(url, 'GET', '/wait?room=lobby&_=1795322653208');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 'messages', room: 'lobby', messages: [] });
  });
});
