// Ill-formed text (issue 14, item 7), over real sockets on 127.0.0.1: a lone UTF-16 surrogate cannot be
// stored, since the store keeps UTF-8 and would read it back as U+FFFD while live readers got it as sent.
// It is refused on every path that takes text, so that a seq reads the same on every path.
import { describe, expect, it } from 'vitest';
import type { ErrorResponse, WaitResponse } from '../server/protocol';
import { autoCleanup, createSession, history, type FrameOf, http, newClientId, ofType, postMessage, startTestServer, subscribedSocket, TestSocket } from './helpers';

autoCleanup();

const ROOM = 'lobby';
/** A high surrogate with no low one after it: JSON can carry it ("\ud83d"), UTF-8 cannot. */
const LONE_SURROGATE = 'half an emoji: \ud83d!';
/** The same emoji whole: a surrogate pair, one character. */
const WHOLE = 'a whole emoji: \ud83d\ude00!';

describe('text with a lone UTF-16 surrogate (issue 14, item 7)', () => {
  it('is refused over WebSocket and over POST, and nothing is stored', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url, 'Mallory');
    const sender = await TestSocket.open(wsUrl, cookie);

    const clientId = newClientId();
    sender.send({ type: 'send', room: ROOM, clientId, text: LONE_SURROGATE });
    const answer = await sender.next((f): f is FrameOf<'ack'> | FrameOf<'error'> => (f.type === 'ack' || f.type === 'error') && f.clientId === clientId);
    expect(answer).toMatchObject({ type: 'error', code: 'invalid_frame', clientId, room: ROOM, retryable: false });
    expect(answer.type === 'error' && answer.message).toMatch(/surrogate/);

    // A lone low surrogate too, and one at the very end of the text.
    for (const text of [LONE_SURROGATE, 'tail \ude00', 'end \ud83d']) {
      const posted = await postMessage<ErrorResponse>(url, ROOM, { clientId: newClientId(), text }, cookie);
      expect(posted.status).toBe(400);
      expect(posted.body.error.code).toBe('invalid_request');
      expect(posted.body.error.message).toMatch(/surrogate/);
    }
    expect((await history(url, ROOM)).messages).toEqual([]);

    // A name is letters and digits only: half a character is neither, and the name rules say so.
    const nick = await http<ErrorResponse>(url, 'POST', '/api/session', { json: { nick: 'Mal\ud83d' } });
    expect(nick.status).toBe(400);
    expect(nick.body.error.code).toBe('invalid_name');
  });

  it('reads the same for a seq live, in history and over /wait when it is well-formed', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url, 'Alice');
    const { socket: reader } = await subscribedSocket(wsUrl, ROOM);
    const sender = await TestSocket.open(wsUrl, cookie);

    const ack = await sender.sendMessage(ROOM, WHOLE);
    const live = await reader.next(ofType('messages', (f) => f.room === ROOM));
    const page = await history(url, ROOM);
    const waited = await http<WaitResponse>(url, 'GET', `/wait?room=${ROOM}&after=0`);
    expect(waited.body.type).toBe('messages');

    const texts = [ack.message, live.messages[0], page.messages[0], waited.body.type === 'messages' ? waited.body.messages[0] : undefined].map((m) => m?.text);
    expect(texts).toEqual([WHOLE, WHOLE, WHOLE, WHOLE]);
  });
});
