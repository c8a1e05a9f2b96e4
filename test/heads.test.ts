// Heads of watched rooms over a real WebSocket (server/head-watch.ts): a page learns that another room moved
// when a message comes, not at its next poll; several messages in a second make one frame.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../server/protocol';
import { autoCleanup, createSession, http, newClientId, ofType, postMessage, signIn, signUp, startTestServer, subscribedSocket } from './helpers';

autoCleanup();

describe('watch', () => {
  it('sends the heads of the watched rooms at once, then as they move, several together', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url, 'Wes');
    const post = (room: string, text: string) => postMessage(url, room, { clientId: newClientId(), text }, cookie);
    await post('news', 'one');
    await post('news', 'two');
    const { socket } = await subscribedSocket(wsUrl, 'lobby');
    socket.send({ type: 'watch', rooms: ['news', 'ops'] });
    const first = await socket.frames.next(ofType('heads'));
    expect(first).toEqual({ type: 'heads', heads: [{ room: 'news', seq: 2 }, { room: 'ops', seq: 0 }] });

    await post('ops', 'a');
    await post('news', 'three');
    await post('news', 'four');
    // Told of both: news at its latest. Posts within a second share a frame (how many frames it takes
    // depends on how fast the posts go), and no frame names a room twice.
    const latest = new Map<string, number>();
    let frames = 0;
    while ((latest.get('news') ?? 0) < 4 || (latest.get('ops') ?? 0) < 1) {
      const moved = await socket.frames.next(ofType('heads'));
      if (moved.type !== 'heads') continue;
      frames++;
      expect(new Set(moved.heads.map((head) => head.room)).size).toBe(moved.heads.length);
      for (const { room, seq } of moved.heads) latest.set(room, seq);
    }
    expect(Object.fromEntries(latest)).toEqual({ news: 4, ops: 1 });
    expect(frames).toBeLessThanOrEqual(3);

    // A new watch replaces the old: ops is no longer told of.
    socket.send({ type: 'watch', rooms: ['news'] });
    expect(await socket.frames.next(ofType('heads'))).toEqual({ type: 'heads', heads: [{ room: 'news', seq: 4 }] });
    await post('ops', 'b');
    await post('news', 'five');
    expect(await socket.frames.next(ofType('heads'))).toEqual({ type: 'heads', heads: [{ room: 'news', seq: 5 }] });
    await socket.roundTrip();
    expect(socket.frames.remaining().filter(ofType('heads'))).toEqual([]);
  });

  it('refuses a watch of too many rooms or of a bad name, and keeps the socket', async () => {
    const { wsUrl } = await startTestServer();
    const { socket } = await subscribedSocket(wsUrl, 'lobby');
    socket.send({ type: 'watch', rooms: Array.from({ length: 51 }, (_, i) => `room-${i}`) });
    const tooMany = await socket.frames.next(ofType('error'));
    expect(tooMany).toMatchObject({ code: ErrorCode.invalidFrame, retryable: false });
    socket.send({ type: 'watch', rooms: ['Bad Name'] });
    expect(await socket.frames.next(ofType('error'))).toMatchObject({ code: ErrorCode.invalidFrame });
    socket.send({ type: 'watch', rooms: ['news'] });
    expect(await socket.frames.next(ofType('heads'))).toEqual({ type: 'heads', heads: [{ room: 'news', seq: 0 }] });
  });

  it("tells every device of an account when it reads a room further, and nobody else's", async () => {
    const { url, wsUrl, server } = await startTestServer();
    const laptop = await signUp(url, 'Tess');
    const phone = await signIn(url, 'Tess');
    const other = await signUp(url, 'Uma');
    await postMessage(url, 'news', { clientId: newClientId(), text: 'one' }, other);
    const onLaptop = (await subscribedSocket(wsUrl, 'lobby', { cookie: laptop })).socket;
    const onPhone = (await subscribedSocket(wsUrl, 'lobby', { cookie: phone })).socket;
    const onOther = (await subscribedSocket(wsUrl, 'lobby', { cookie: other })).socket;
    await http(url, 'PUT', '/api/rooms/news/read', { cookie: phone, json: { seq: 1, epoch: server.store.epoch } });
    for (const socket of [onLaptop, onPhone]) expect(await socket.frames.next(ofType('read'))).toEqual({ type: 'read', room: 'news', seq: 1 });
    await onOther.roundTrip();
    expect(onOther.frames.remaining().filter(ofType('read'))).toEqual([]);
  });
});

describe('rooms frame', () => {
  it('tells an account at once when someone opens a DM with it or invites it, and nobody else', async () => {
    const { url, wsUrl } = await startTestServer();
    const ana = await signUp(url, 'Ana');
    const bob = await signUp(url, 'Bob');
    const cy = await signUp(url, 'Cy');
    const onBob = (await subscribedSocket(wsUrl, 'lobby', { cookie: bob })).socket;
    const onCy = (await subscribedSocket(wsUrl, 'lobby', { cookie: cy })).socket;
    expect((await http(url, 'POST', '/api/dms', { cookie: ana, json: { username: 'bob' } })).status).toBeLessThan(300);
    expect(await onBob.frames.next(ofType('rooms'))).toEqual({ type: 'rooms' });
    await onCy.roundTrip();
    expect(onCy.frames.remaining().filter(ofType('rooms'))).toEqual([]);

    const created = await http<{ room: string }>(url, 'POST', '/api/rooms', { cookie: ana, json: { title: 'Plans' } });
    expect((await http(url, 'POST', `/api/rooms/${created.body.room}/members`, { cookie: ana, json: { username: 'Cy' } })).status).toBe(201);
    expect(await onCy.frames.next(ofType('rooms'))).toEqual({ type: 'rooms' });
    // Muted there by its owner: Cy's page is told to read its standing again.
    const muted = await http(url, 'POST', `/api/rooms/${created.body.room}/moderation`, { cookie: ana, json: { username: 'Cy', action: 'mute' } });
    expect(muted.status).toBe(200);
    expect(await onCy.frames.next(ofType('rooms'))).toEqual({ type: 'rooms' });
  });
});
