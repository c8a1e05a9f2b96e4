// Changes to messages (issue 17): an edit, a delete and a reaction are entries of the room's log, sent like
// messages over WebSocket or POST, so they reach live readers and readers resuming from an older cursor over
// both transports; history pages return messages as they now stand. Real HTTP and WebSocket on 127.0.0.1.
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ErrorResponse, SendResponse, WaitResponse } from '../server/protocol';
import { autoCleanup, createSession, history, http, newClientId, postMessage, signUp, startTestServer, subscribedSocket, TestSocket, type FrameOf } from './helpers';

autoCleanup();

type Body = Record<string, unknown>;

async function post(url: string, room: string, body: Body, cookie: string): Promise<ChatMessage> {
  const answer = await postMessage<SendResponse>(url, room, { clientId: newClientId(), ...body }, cookie);
  if (answer.status !== 201) throw new Error(`send failed: ${answer.status} ${answer.text}`);
  return answer.body.message;
}

async function refused(url: string, room: string, body: Body, cookie: string): Promise<{ status: number; code: string; message: string }> {
  const answer = await postMessage<ErrorResponse>(url, room, { clientId: newClientId(), ...body }, cookie);
  return { status: answer.status, code: answer.body.error.code, message: answer.body.error.message };
}

async function sendOverSocket(socket: TestSocket, frame: Body): Promise<FrameOf<'ack'> | FrameOf<'error'>> {
  const clientId = newClientId();
  socket.send({ type: 'send', clientId, ...frame });
  return socket.next((f): f is FrameOf<'ack'> | FrameOf<'error'> => (f.type === 'ack' || f.type === 'error') && f.clientId === clientId);
}

async function waitAfter(url: string, room: string, after: number): Promise<ChatMessage[]> {
  const answer = await http<WaitResponse>(url, 'GET', `/wait?room=${room}&after=${after}`);
  if (answer.body.type !== 'messages') throw new Error(`expected messages, got ${answer.text}`);
  return answer.body.messages;
}

describe('changes to a message', () => {
  it('reaches a live reader over WebSocket and over /wait: an edit, a reaction, a reply, then a delete', async () => {
    const { url, wsUrl } = await startTestServer({ WAIT_TIMEOUT_MS: '20000' });
    const alice = await createSession(url, 'alice');
    const bob = await createSession(url, 'bob');
    const first = await post(url, 'lobby', { text: 'hello wrold' }, alice);
    const { socket } = await subscribedSocket(wsUrl, 'lobby', { cookie: bob, after: first.seq });

    const polled = waitAfter(url, 'lobby', first.seq);
    const edit = await post(url, 'lobby', { text: 'hello world', change: { kind: 'edit', target: first.seq } }, alice);
    expect(edit).toMatchObject({ seq: 2, author: 'alice', text: 'hello world', change: { kind: 'edit', target: 1 } });
    expect((await socket.messagesUntil('lobby', 2)).map((m) => m.change)).toEqual([{ kind: 'edit', target: 1 }]);
    expect((await polled).map((m) => [m.seq, m.text])).toEqual([[2, 'hello world']]);

    const reaction = await sendOverSocket(socket, { room: 'lobby', change: { kind: 'reaction', target: 1, emoji: '👍', on: true } });
    expect(reaction.type === 'ack' && reaction.message).toMatchObject({ seq: 3, author: 'bob', text: '', change: { kind: 'reaction', target: 1, emoji: '👍', on: true } });
    const reply = await sendOverSocket(socket, { room: 'lobby', text: 'hi!', replyTo: 1 });
    expect(reply.type === 'ack' && reply.message).toMatchObject({ seq: 4, replyTo: 1, text: 'hi!' });
    await socket.messagesUntil('lobby', 4);

    const polledDelete = waitAfter(url, 'lobby', 4);
    await post(url, 'lobby', { change: { kind: 'delete', target: 1 } }, alice);
    expect((await socket.messagesUntil('lobby', 5))[0]?.change).toEqual({ kind: 'delete', target: 1, by: 'author' });
    expect((await polledDelete)[0]?.change).toEqual({ kind: 'delete', target: 1, by: 'author' });

    // The history page shows the message as it now stands: deleted, its text and its edit's text gone.
    const page = await history(url, 'lobby');
    expect(page.messages[0]).toMatchObject({ seq: 1, text: '', deleted: 'author', lastChange: 5 });
    expect(page.messages[0]?.reactions).toBeUndefined();
    expect(page.messages[1]).toMatchObject({ seq: 2, text: '' });
    expect(JSON.stringify(page.messages)).not.toContain('wor');
  });

  it('tells a reader who was offline on resume, over WebSocket and over /wait', async () => {
    const { url, wsUrl } = await startTestServer();
    const alice = await createSession(url, 'alice');
    const bob = await createSession(url, 'bob');
    await post(url, 'lobby', { text: 'one' }, alice);
    await post(url, 'lobby', { text: 'two' }, alice);
    const cursor = 2; // where the reader stopped
    await post(url, 'lobby', { text: 'one, edited', change: { kind: 'edit', target: 1 } }, alice);
    await post(url, 'lobby', { change: { kind: 'reaction', target: 2, emoji: '🎉', on: true } }, bob);
    await post(url, 'lobby', { change: { kind: 'delete', target: 2 } }, alice);
    const expected = [
      [3, { kind: 'edit', target: 1 }],
      [4, { kind: 'reaction', target: 2, emoji: '🎉', on: true }],
      [5, { kind: 'delete', target: 2, by: 'author' }],
    ];
    const { subscribed } = await subscribedSocket(wsUrl, 'lobby', { cookie: bob, after: cursor });
    expect(subscribed.messages.map((m) => [m.seq, m.change])).toEqual(expected);
    expect((await waitAfter(url, 'lobby', cursor)).map((m) => [m.seq, m.change])).toEqual(expected);
  });

  it('is idempotent by clientId like a send: a resend is the original and changes nothing twice', async () => {
    const { url } = await startTestServer();
    const alice = await createSession(url, 'alice');
    await post(url, 'lobby', { text: 'hi' }, alice);
    const body = { clientId: newClientId(), change: { kind: 'reaction', target: 1, emoji: '❤️', on: true } };
    const sent = await postMessage<SendResponse>(url, 'lobby', body, alice);
    const again = await postMessage<SendResponse>(url, 'lobby', body, alice);
    expect([sent.status, again.status]).toEqual([201, 200]);
    expect(again.body).toEqual({ message: sent.body.message, duplicate: true });
    expect((await history(url, 'lobby')).messages[0]?.reactions).toEqual([{ emoji: '❤️', names: ['alice'] }]);
  });

  it('refuses what a user may not do, with a clear error, over both transports', async () => {
    const { url, wsUrl } = await startTestServer({ MAX_REACTION_EMOJI: '2', MAX_TEXT_LENGTH: '20' });
    const alice = await createSession(url, 'alice');
    const mallory = await createSession(url, 'mallory');
    await post(url, 'lobby', { text: 'mine' }, alice);
    await post(url, 'other', { text: 'elsewhere' }, alice);
    const edit = { change: { kind: 'edit', target: 1 }, text: 'not yours' };
    expect(await refused(url, 'lobby', edit, mallory)).toEqual({ status: 403, code: 'forbidden', message: 'only its author can edit a message' });
    expect(await refused(url, 'lobby', { change: { kind: 'delete', target: 1 } }, mallory)).toMatchObject({ status: 403, code: 'forbidden' });
    const socket = await TestSocket.open(wsUrl, mallory);
    expect(await sendOverSocket(socket, { room: 'lobby', ...edit })).toMatchObject({ type: 'error', code: 'forbidden' });

    expect(await refused(url, 'lobby', { change: { kind: 'edit', target: 9 }, text: 'x' }, alice)).toMatchObject({ status: 400, message: '#lobby has no message 9' });
    expect(await refused(url, 'lobby', { text: 'x', replyTo: 9 }, alice)).toMatchObject({ status: 400, message: '#lobby has no message 9' });
    expect(await refused(url, 'lobby', { change: { kind: 'edit', target: 1 }, text: 'x'.repeat(21) }, alice)).toMatchObject({ status: 413, code: 'too_large' });
    expect(await refused(url, 'lobby', { change: { kind: 'edit', target: 1 }, text: '   ' }, alice)).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await refused(url, 'lobby', { change: { kind: 'delete', target: 1 }, text: 'x' }, alice)).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await refused(url, 'lobby', { change: { kind: 'edit', target: 1 } }, alice)).toMatchObject({ status: 400, code: 'invalid_request' });
    for (const emoji of ['a', 'ok', '👍👍', '1', '👍 ']) {
      expect(await refused(url, 'lobby', { change: { kind: 'reaction', target: 1, emoji, on: true } }, alice), emoji).toMatchObject({ status: 400 });
    }
    await post(url, 'lobby', { change: { kind: 'reaction', target: 1, emoji: '👍🏽', on: true } }, alice);
    await post(url, 'lobby', { change: { kind: 'reaction', target: 1, emoji: '🇫🇷', on: true } }, alice);
    expect(await refused(url, 'lobby', { change: { kind: 'reaction', target: 1, emoji: '1️⃣', on: true } }, alice)).toMatchObject({ status: 413, code: 'too_large' });
    // A change entry is not a message: it cannot be edited, reacted to or replied to.
    expect(await refused(url, 'lobby', { text: 'x', replyTo: 2 }, alice)).toMatchObject({ status: 400, message: '#lobby has no message 2' });

    await post(url, 'lobby', { change: { kind: 'delete', target: 1 } }, alice);
    expect(await refused(url, 'lobby', { change: { kind: 'edit', target: 1 }, text: 'back' }, alice)).toEqual({ status: 403, code: 'forbidden', message: 'that message was deleted' });
    expect(await refused(url, 'lobby', { change: { kind: 'reaction', target: 1, emoji: '👍', on: true } }, alice)).toMatchObject({ status: 403 });
  });

  it('lets only the same kind of author edit: a guest cannot edit an account\'s message of the same name', async () => {
    const { url } = await startTestServer();
    const dana = await signUp(url, 'dana');
    await post(url, 'lobby', { text: 'from the account' }, dana);
    const other = await createSession(url, 'mallory');
    expect(await refused(url, 'lobby', { change: { kind: 'edit', target: 1 }, text: 'x' }, other)).toMatchObject({ status: 403 });
    await post(url, 'lobby', { text: 'edited', change: { kind: 'edit', target: 1 } }, dana);
    expect((await history(url, 'lobby')).messages[0]).toMatchObject({ text: 'edited', account: true });
  });
});

describe('reactions stay within what a reader can be sent', () => {
  it('refuses a reaction that would grow a message past half MAX_BUFFERED_BYTES, whatever the caps', async () => {
    const { url } = await startTestServer({ MAX_BUFFERED_BYTES: '50048', MAX_REACTORS_PER_EMOJI: '10000', MAX_TEXT_LENGTH: '4000' });
    const alice = await createSession(url, 'alice');
    await post(url, 'lobby', { text: '𝄞'.repeat(4000) }, alice); // 16,000 bytes of the 25,024 a part holds
    let refusedAt = 0;
    for (let i = 1; i <= 1000 && refusedAt === 0; i++) {
      const cookie = await createSession(url, `Reader with a long name ${i}`);
      const answer = await postMessage<ErrorResponse>(url, 'lobby', { clientId: newClientId(), change: { kind: 'reaction', target: 1, emoji: '👍', on: true } }, cookie);
      if (answer.status === 413) {
        expect(answer.body.error.message).toBe('this message holds all the reactions it can');
        refusedAt = i;
      }
    }
    expect(refusedAt).toBeGreaterThan(1);
    const [message] = (await history(url, 'lobby')).messages;
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(50048 / 2);
  });
});
