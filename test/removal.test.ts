// A moderator's removal (issue 16, item 6) over real WebSocket and /wait: the delete entry with a moderator as
// actor replaces the message by "removed by a moderator" for live readers and in history, and its text is
// gone from the store. Who moderates is the rooms domain's answer (server/rooms/access.ts): here Mod is a
// server admin (ADMINS), who moderates every public room.
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ErrorResponse, SendResponse, WaitResponse } from '../server/protocol';
import { autoCleanup, createSession, history, http, newClientId, postMessage, signUp, startTestServer, subscribedSocket } from './helpers';

autoCleanup();

describe('a moderator removes a message', () => {
  it('reaches readers on WebSocket and /wait as a removal, and leaves no text in the store', async () => {
    const { url, wsUrl } = await startTestServer({ WAIT_TIMEOUT_MS: '20000', ADMINS: 'Mod' });
    const eve = await createSession(url, 'Eve');
    const mod = await signUp(url, 'Mod');
    const ada = await createSession(url, 'Ada');
    const spam = await postMessage<SendResponse>(url, 'lobby', { clientId: newClientId(), text: 'buy cheap pills' }, eve);
    await postMessage<SendResponse>(url, 'lobby', { clientId: newClientId(), text: 'buy cheap pills now', change: { kind: 'edit', target: 1 } }, eve);
    const { socket } = await subscribedSocket(wsUrl, 'lobby', { cookie: ada, after: 2 });
    const polled = http<WaitResponse>(url, 'GET', '/wait?room=lobby&after=2');

    // Someone who does not moderate cannot.
    const refused = await postMessage<ErrorResponse>(url, 'lobby', { clientId: newClientId(), change: { kind: 'delete', target: 1 } }, ada);
    expect(refused.status).toBe(403);

    const removal = await postMessage<SendResponse>(url, 'lobby', { clientId: newClientId(), change: { kind: 'delete', target: spam.body.message.seq } }, mod);
    expect(removal.status).toBe(201);
    const expected = { kind: 'delete', target: 1, by: 'moderator' };
    expect(removal.body.message).toMatchObject({ author: 'Mod', text: '', change: expected });
    const live: ChatMessage[] = await socket.messagesUntil('lobby', 3);
    expect(live.map((m) => m.change)).toEqual([expected]);
    const waited = (await polled).body;
    expect(waited.type === 'messages' && waited.messages.map((m) => m.change)).toEqual([expected]);

    const page = await history(url, 'lobby');
    expect(page.messages[0]).toMatchObject({ seq: 1, author: 'Eve', text: '', deleted: 'moderator' });
    expect(JSON.stringify(page.messages)).not.toContain('pills');
  });
});
