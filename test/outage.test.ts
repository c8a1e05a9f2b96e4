// A store outage: sends fail with a retryable error, health says so, connections stay open, and
// delivery resumes when the store is back, without a restart.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorResponse, type HealthResponse, type SendResponse, type WaitResponse } from '../server/protocol';
import { openEmbeddedStore } from '../server/store/embedded';
import { autoCleanup, createSession, http, ofType, startTestServer, subscribedSocket, TestSocket } from './helpers';
import { OutageStore } from './outage-store';

autoCleanup();

describe('store outage', () => {
  it('refuses sends retryably, reports degraded health, keeps sockets open, and resumes when the store is back', async () => {
    let store: OutageStore | undefined;
    const { url, wsUrl } = await startTestServer({}, undefined, (dir) => (store = new OutageStore(openEmbeddedStore(dir))));
    const cookie = await createSession(url);
    const sender = await TestSocket.open(wsUrl, cookie);
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    await sender.sendMessage('lobby', 'before the outage');
    expect(await reader.next(ofType('messages'))).toMatchObject({ messages: [{ seq: 1 }] });

    store!.down = true;
    const health = await http<HealthResponse>(url, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', store: { reachable: false } });
    const ready = await http<ErrorResponse>(url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe(ErrorCode.storeUnavailable);

    sender.send({ type: 'send', room: 'lobby', clientId: 'during-outage-1', text: 'during the outage' });
    expect(await sender.next(ofType('error'))).toMatchObject({ code: ErrorCode.storeUnavailable, clientId: 'during-outage-1', retryable: true });
    const post = await http<ErrorResponse>(url, 'POST', '/api/rooms/lobby/messages', { json: { clientId: 'during-outage-2', text: 'over HTTP' }, cookie });
    expect(post.status).toBe(503);
    expect(post.body.error.retryable).toBe(true);

    store!.down = false;
    expect((await http<HealthResponse>(url, 'GET', '/healthz')).body.status).toBe('ok');
    expect((await http(url, 'GET', '/readyz')).status).toBe(200);
    // The client retries with the same ids; the same sockets, never closed, carry the messages.
    const retried = await sender.sendMessage('lobby', 'during the outage', 'during-outage-1');
    expect(retried.message.seq).toBe(2);
    const overHttp = await http<SendResponse>(url, 'POST', '/api/rooms/lobby/messages', { json: { clientId: 'during-outage-2', text: 'over HTTP' }, cookie });
    expect(overHttp.status).toBe(201);
    expect((await reader.messagesUntil('lobby', 3)).map((message) => message.seq)).toEqual([2, 3]);
    const wait = await http<WaitResponse>(url, 'GET', '/wait?room=lobby&after=1');
    expect(wait.body).toMatchObject({ type: 'messages', messages: [{ seq: 2 }, { seq: 3 }] });
  });
});
