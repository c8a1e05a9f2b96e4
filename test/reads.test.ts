// Read markers over real HTTP (server/accounts/read-markers.ts): where an account stopped reading is kept by
// the server, so a second device opens at the same place; never moved back, never past the room's end.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorResponse, type ReadMarkersResponse, type RoomRead } from '../server/protocol';
import { autoCleanup, createSession, http, newClientId, postMessage, signIn, signUp, startTestServer } from './helpers';

autoCleanup();

describe('read markers', () => {
  it('follow an account from one device to another, move only forward, and stop at the room end', async () => {
    const { url, server } = await startTestServer();
    const epoch = server.store.epoch;
    const laptop = await signUp(url, 'Tess');
    const phone = await signIn(url, 'Tess');
    for (let i = 0; i < 5; i++) await postMessage(url, 'news', { clientId: newClientId(), text: `item ${i}` }, laptop);
    const mark = (cookie: string, room: string, seq: number) => http<RoomRead>(url, 'PUT', `/api/rooms/${room}/read`, { cookie, json: { seq, epoch } });

    expect((await mark(laptop, 'news', 4)).body).toEqual({ room: 'news', seq: 4 });
    expect((await http<ReadMarkersResponse>(url, 'GET', '/api/reads', { cookie: phone })).body).toEqual({ markers: [{ room: 'news', seq: 4 }] });
    // The phone had read less: its marker does not take the laptop's back.
    expect((await mark(phone, 'news', 2)).body).toEqual({ room: 'news', seq: 4 });
    // A cursor past the end is the end.
    expect((await mark(phone, 'news', 99)).body).toEqual({ room: 'news', seq: 5 });
    await mark(phone, 'lobby', 0);
    expect((await http<ReadMarkersResponse>(url, 'GET', '/api/reads', { cookie: laptop })).body.markers).toEqual([
      { room: 'lobby', seq: 0 },
      { room: 'news', seq: 5 },
    ]);
    // Taken off the list on the phone: gone from the laptop's too.
    expect((await http(url, 'DELETE', '/api/rooms/news/read', { cookie: phone })).status).toBe(204);
    expect((await http<ReadMarkersResponse>(url, 'GET', '/api/reads', { cookie: laptop })).body.markers).toEqual([{ room: 'lobby', seq: 0 }]);
  });

  it('are kept apart per account, refused to guests and to nobody, and refused from another epoch', async () => {
    const { url, server } = await startTestServer();
    const epoch = server.store.epoch;
    const tess = await signUp(url, 'Tess');
    const uma = await signUp(url, 'Uma');
    const guest = await createSession(url, 'Vic');
    await postMessage(url, 'news', { clientId: newClientId(), text: 'hello' }, tess);
    await http(url, 'PUT', '/api/rooms/news/read', { cookie: tess, json: { seq: 1, epoch } });
    expect((await http<ReadMarkersResponse>(url, 'GET', '/api/reads', { cookie: uma })).body).toEqual({ markers: [] });
    expect((await http<ReadMarkersResponse>(url, 'GET', '/api/reads', { cookie: guest })).body).toEqual({ markers: [] });

    const asGuest = await http<ErrorResponse>(url, 'PUT', '/api/rooms/news/read', { cookie: guest, json: { seq: 1, epoch } });
    expect(asGuest.status).toBe(400);
    expect(asGuest.body.error.message).toMatch(/kept for accounts/);
    const asNobody = await http<ErrorResponse>(url, 'PUT', '/api/rooms/news/read', { json: { seq: 1, epoch } });
    expect([asNobody.status, asNobody.body.error.code]).toEqual([401, ErrorCode.unauthenticated]);
    const stale = await http<ErrorResponse>(url, 'PUT', '/api/rooms/news/read', { cookie: tess, json: { seq: 1, epoch: 'an-old-epoch' } });
    expect([stale.status, stale.body.error.code]).toEqual([400, ErrorCode.invalidRequest]);
    for (const body of [{ seq: -1, epoch }, { seq: 1 }, { seq: '1', epoch }, { seq: 1, epoch, extra: true }]) {
      const bad = await http<ErrorResponse>(url, 'PUT', '/api/rooms/news/read', { cookie: tess, json: body });
      expect([bad.status, bad.body.error.code]).toEqual([400, ErrorCode.invalidRequest]);
    }
    const badRoom = await http<ErrorResponse>(url, 'PUT', '/api/rooms/Not%20A%20Room/read', { cookie: tess, json: { seq: 1, epoch } });
    expect(badRoom.status).toBe(400);
  });

  it('keep at most 100 rooms per account, dropping the least recently read', async () => {
    const { url, server } = await startTestServer();
    const epoch = server.store.epoch;
    const tess = await signUp(url, 'Tess');
    for (let i = 0; i < 105; i++) await http(url, 'PUT', `/api/rooms/room-${i}/read`, { cookie: tess, json: { seq: 0, epoch } });
    const { markers } = (await http<ReadMarkersResponse>(url, 'GET', '/api/reads', { cookie: tess })).body;
    expect(markers).toHaveLength(100);
    expect(markers.map((marker) => marker.room)).not.toContain('room-4');
    expect(markers.map((marker) => marker.room)).toContain('room-5');
  });
});
