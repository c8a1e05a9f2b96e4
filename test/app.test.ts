// The server as a whole (server/app.ts): health, and a clean shutdown that answers pending long-polls,
// closes sockets with "going away" and closes the store.
import { describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode, type ErrorResponse, type WaitResponse } from '../server/protocol';
import { StoreUnavailableError } from '../server/store/store';
import { autoCleanup, createSession, http, ofType, startTestServer, stillPendingAfter, subscribedSocket, TestSocket, withTimeout } from './helpers';

autoCleanup();

describe('server', () => {
  it('answers /healthz with the store in use', async () => {
    const { url } = await startTestServer();
    const answer = await http(url, 'GET', '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok', store: { kind: 'embedded', reachable: true } });
    const ready = await http(url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
  });

  it('listens on the ephemeral port it reports, on 127.0.0.1', async () => {
    const { server } = await startTestServer();
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('answers store_unavailable (503 / error frame), marked retryable, when the store fails', async () => {
    const { server, url, wsUrl } = await startTestServer();
    const cookie = await createSession(url);
    const socket = await TestSocket.open(wsUrl, cookie);
    await socket.sendMessage('lobby', 'while the store works');
    await server.store.close();

    const post = await http<ErrorResponse>(url, 'POST', '/api/rooms/lobby/messages', { json: { clientId: 'store-down-1', text: 'x' }, cookie });
    expect(post.status).toBe(503);
    expect(post.body.error).toMatchObject({ code: ErrorCode.storeUnavailable, retryable: true });
    const read = await http<ErrorResponse>(url, 'GET', '/api/rooms/lobby/messages');
    expect(read.status).toBe(503);
    const wait = await http<ErrorResponse>(url, 'GET', '/wait?room=lobby&after=0');
    expect(wait.status).toBe(503);
    expect(wait.body.error.code).toBe(ErrorCode.storeUnavailable);

    socket.send({ type: 'send', room: 'lobby', clientId: 'store-down-2', text: 'x' });
    expect(await socket.next(ofType('error'))).toMatchObject({ code: ErrorCode.storeUnavailable, clientId: 'store-down-2', retryable: true });
    socket.send({ type: 'subscribe', room: 'lobby', after: 0 });
    expect(await socket.next(ofType('error'))).toMatchObject({ code: ErrorCode.storeUnavailable, room: 'lobby', retryable: true });
    await socket.roundTrip();
  });

  it('on close answers a pending /wait, closes sockets with 1001, closes the store, and resolves', async () => {
    const { server, url, wsUrl } = await startTestServer({ WAIT_TIMEOUT_MS: '20000' });
    const cookie = await createSession(url);
    const sender = await TestSocket.open(wsUrl, cookie);
    await sender.sendMessage('lobby', 'before shutdown');
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 1 });
    const idle = await TestSocket.open(wsUrl);
    const pending = http<WaitResponse>(url, 'GET', '/wait?room=lobby&after=1');
    expect(await stillPendingAfter(pending, 200)).toBe(true);

    const started = Date.now();
    await withTimeout(server.close(), 5000, 'server.close()');
    const took = Date.now() - started;

    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 'messages', room: 'lobby', messages: [] });
    for (const socket of [sender, reader, idle]) expect((await socket.closed).code).toBe(CloseCode.goingAway);
    // Graceful: everything ended by itself, before the 2 s fallback that cuts remaining connections.
    expect(took).toBeLessThan(1900);
    await expect(server.store.append({ room: 'lobby', clientId: 'after-close', author: 'a', text: 'x' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(http(url, 'GET', '/healthz')).rejects.toThrow();
    await expect(TestSocket.open(wsUrl)).rejects.toThrow();
    // Closing again is harmless.
    await server.close();
  });
});
