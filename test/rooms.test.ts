// Private rooms, direct messages and moderation over real HTTP and WebSocket (server/rooms/): a DM is one
// room per pair, guests stay out, leaving and removal end what the person has open, roles decide who
// moderates, and everything a client can grow is bounded.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorResponse, type MemberListResponse, type RoomInfo, type RoomListResponse, type WaitResponse } from '../server/protocol';
import { loadConfig } from '../server/config';
import { Rooms, type RoomReader } from '../server/rooms/rooms';
import { openEmbeddedStore } from '../server/store/embedded';
import { autoCleanup, createSession, deferCleanup, http, newClientId, ofType, signUp, startTestServer, subscribedSocket, tempDir, withTimeout } from './helpers';

autoCleanup();

const post = <T = unknown>(url: string, path: string, cookie: string, json: unknown) => http<T>(url, 'POST', path, { cookie, json });
const errorOf = (answer: { status: number; body: unknown }) => ({ status: answer.status, code: (answer.body as ErrorResponse).error?.code });

describe('direct messages', () => {
  it('opens one room per pair, whoever opens it and however often, titled with the other person', async () => {
    const { url } = await startTestServer();
    const ana = await signUp(url, 'Ana');
    const bo = await signUp(url, 'Bo');
    const first = await post<RoomInfo>(url, '/api/dms', ana, { username: 'bo' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ title: 'Bo', private: true, dm: true, role: 'member', post: true });
    const again = await post<RoomInfo>(url, '/api/dms', ana, { username: 'Bo' });
    const fromBo = await post<RoomInfo>(url, '/api/dms', bo, { username: 'Ana' });
    expect([again.status, again.body.room, fromBo.status, fromBo.body.room, fromBo.body.title]).toEqual([200, first.body.room, 200, first.body.room, 'Ana']);
    const list = await http<RoomListResponse>(url, 'GET', '/api/rooms', { cookie: bo });
    expect(list.body.rooms).toEqual([{ room: first.body.room, title: 'Ana', dm: true }]);
  });

  it('refuses guests, unknown names and yourself, with why', async () => {
    const { url } = await startTestServer();
    const ana = await signUp(url, 'Ana');
    const guest = await createSession(url, 'gus');
    expect(errorOf(await post(url, '/api/dms', guest, { username: 'Ana' }))).toEqual({ status: 403, code: ErrorCode.forbidden });
    expect(errorOf(await post(url, '/api/dms', ana, { username: 'gus' }))).toEqual({ status: 404, code: ErrorCode.notFound });
    expect(errorOf(await post(url, '/api/dms', ana, { username: 'Nobody' }))).toEqual({ status: 404, code: ErrorCode.notFound });
    expect(errorOf(await post(url, '/api/dms', ana, { username: 'ana' }))).toEqual({ status: 400, code: ErrorCode.invalidRequest });
    expect(errorOf(await post(url, '/api/rooms', guest, { title: 'Secret' }))).toEqual({ status: 403, code: ErrorCode.forbidden });
    expect((await http<RoomListResponse>(url, 'GET', '/api/rooms', { cookie: guest })).body).toEqual({ rooms: [] });
  });
});

describe('private rooms', () => {
  it('invites by username, lists members, and ends a leaver\'s socket and long-poll with access_ended', async () => {
    const { url, wsUrl } = await startTestServer({ WAIT_TIMEOUT_MS: '20000' });
    const olga = await signUp(url, 'Olga');
    const mia = await signUp(url, 'Mia');
    const { body: info } = await post<RoomInfo>(url, '/api/rooms', olga, { title: '  Launch plans ' });
    expect(info).toMatchObject({ title: 'Launch plans', private: true, dm: false, role: 'owner', moderate: true });
    expect((await post(url, `/api/rooms/${info.room}/members`, olga, { username: 'mia' })).status).toBe(201);
    const members = await http<MemberListResponse>(url, 'GET', `/api/rooms/${info.room}/members`, { cookie: mia });
    expect(members.body.members).toEqual([{ name: 'Mia', role: 'member' }, { name: 'Olga', role: 'owner' }]);

    const held = http<WaitResponse>(url, 'GET', `/wait?room=${info.room}&after=0`, { cookie: mia });
    // The held wait is registered in the same turn as its reader shows as present, before any socket of hers does.
    await waitUntilPresent(url, info.room, 'Mia', olga);
    const { socket } = await subscribedSocket(wsUrl, info.room, { cookie: mia });
    expect((await http(url, 'DELETE', `/api/rooms/${info.room}/members/me`, { cookie: mia })).status).toBe(204);
    expect(await socket.next(ofType('access_ended'))).toEqual({ type: 'access_ended', room: info.room, reason: 'left' });
    expect((await withTimeout(held, 5000, 'the held wait to end')).body).toMatchObject({ type: 'access_ended', room: info.room, reason: 'left' });
    expect(errorOf(await http(url, 'GET', `/api/rooms/${info.room}/messages`, { cookie: mia }))).toEqual({ status: 404, code: ErrorCode.notFound });
    expect((await http<RoomListResponse>(url, 'GET', '/api/rooms', { cookie: mia })).body.rooms).toEqual([]);
  });

  it('passes an owner\'s room on when the owner leaves, and deletes it when the last member leaves', async () => {
    const { url } = await startTestServer();
    const olga = await signUp(url, 'Olga');
    const mia = await signUp(url, 'Mia');
    const { body: info } = await post<RoomInfo>(url, '/api/rooms', olga, { title: 'Plans' });
    await post(url, `/api/rooms/${info.room}/members`, olga, { username: 'Mia' });
    expect((await http(url, 'DELETE', `/api/rooms/${info.room}/members/me`, { cookie: olga })).status).toBe(204);
    expect((await http<RoomInfo>(url, 'GET', `/api/rooms/${info.room}`, { cookie: mia })).body.role).toBe('owner');
    expect((await http(url, 'DELETE', `/api/rooms/${info.room}/members/me`, { cookie: mia })).status).toBe(204);
    expect(errorOf(await post(url, `/api/rooms/${info.room}/members`, olga, { username: 'Mia' }))).toEqual({ status: 404, code: ErrorCode.notFound });
  });

  it('bounds members per room, rooms per person, and invitations per minute', async () => {
    const { url } = await startTestServer({ MAX_ROOM_MEMBERS: '2', MAX_PRIVATE_ROOMS_PER_PERSON: '2', INVITES_PER_MINUTE: '3' });
    const olga = await signUp(url, 'Olga');
    await signUp(url, 'Mia');
    await signUp(url, 'Max');
    const { body: a } = await post<RoomInfo>(url, '/api/rooms', olga, { title: 'A' });
    await post<RoomInfo>(url, '/api/rooms', olga, { title: 'B' });
    expect(errorOf(await post(url, '/api/rooms', olga, { title: 'C' }))).toEqual({ status: 409, code: ErrorCode.limitReached });
    expect((await post(url, `/api/rooms/${a.room}/members`, olga, { username: 'Mia' })).status).toBe(201);
    for (let invite = 2; invite <= 3; invite++) {
      expect(errorOf(await post(url, `/api/rooms/${a.room}/members`, olga, { username: 'Max' }))).toEqual({ status: 409, code: ErrorCode.limitReached });
    }
    expect(errorOf(await post(url, `/api/rooms/${a.room}/members`, olga, { username: 'Max' }))).toEqual({ status: 429, code: ErrorCode.rateLimited });
  });
});

describe('another instance', () => {
  it("ends this instance's readers whose standing another instance changed, at the next recheck", async () => {
    const store = openEmbeddedStore(await tempDir('parley-rooms-'));
    deferCleanup(() => store.close());
    const rooms = new Rooms(store.rooms, { personNamed: async () => undefined, roomsChanged: () => undefined }, loadConfig({}));
    const me = { id: 's1', userId: 'u1', nick: 'Mia', guest: false, since: 0 };
    const { room } = await rooms.create({ ...me, userId: 'u0', nick: 'Olga', id: 's0' }, 'Plans');
    await store.rooms.putMember({ room, userId: 'u1', name: 'Mia', role: 'member', since: 1 });
    const ended: string[] = [];
    const reader = (what: string): RoomReader => ({ accessEnded: (r, reason) => ended.push(`${what} ${r === room ? 'plans' : r} ${reason}`) });
    rooms.watch(room, 'u1', reader('private'));
    rooms.watch('town', 'u1', reader('public'));
    expect(await rooms.recheckReaders()).toBe(0);
    // As another instance would: the standings change in the store, not through this Rooms.
    await store.rooms.removeMember(room, 'u1');
    await store.rooms.putMember({ room: 'town', userId: 'u1', name: 'Mia', role: 'member', banned: true, since: 1 });
    expect(await rooms.recheckReaders()).toBe(2);
    expect(ended.sort()).toEqual(['private plans removed', 'public town banned']);
    expect(await rooms.recheckReaders()).toBe(0);
  });
});

describe('moderation', () => {
  it('lets the owner name moderators, moderators mute and ban, and a ban end the banned reader\'s socket', async () => {
    const { url, wsUrl } = await startTestServer();
    const olga = await signUp(url, 'Olga');
    const mo = await signUp(url, 'Mo');
    const pat = await signUp(url, 'Pat');
    await post(url, '/api/rooms/town/messages', olga, { clientId: newClientId(), text: 'first!' });
    expect((await http<RoomInfo>(url, 'GET', '/api/rooms/town', { cookie: olga })).body).toMatchObject({ role: 'owner', moderate: true });
    expect(errorOf(await post(url, '/api/rooms/town/moderation', mo, { username: 'Pat', action: 'mute' }))).toEqual({ status: 403, code: ErrorCode.forbidden });
    expect((await post(url, '/api/rooms/town/moderation', olga, { username: 'Mo', action: 'promote' })).body).toEqual({ name: 'Mo', role: 'moderator' });
    expect(errorOf(await post(url, '/api/rooms/town/moderation', mo, { username: 'Pat', action: 'promote' }))).toEqual({ status: 403, code: ErrorCode.forbidden });
    expect((await post(url, '/api/rooms/town/moderation', mo, { username: 'Pat', action: 'mute' })).body).toEqual({ name: 'Pat', muted: true });
    expect((await http<RoomInfo>(url, 'GET', '/api/rooms/town', { cookie: pat })).body).toMatchObject({ muted: true, post: false, moderate: false });
    expect(errorOf(await post(url, '/api/rooms/town/messages', pat, { clientId: newClientId(), text: 'hi' }))).toEqual({ status: 403, code: ErrorCode.muted });
    expect((await post(url, '/api/rooms/town/moderation', mo, { username: 'Pat', action: 'unmute' })).body).toEqual({ name: 'Pat', removed: true });
    expect((await post(url, '/api/rooms/town/messages', pat, { clientId: newClientId(), text: 'thanks' })).status).toBe(201);

    const { socket } = await subscribedSocket(wsUrl, 'town', { cookie: pat });
    expect(errorOf(await post(url, '/api/rooms/town/moderation', mo, { username: 'Olga', action: 'ban' }))).toEqual({ status: 403, code: ErrorCode.forbidden });
    expect((await post(url, '/api/rooms/town/moderation', mo, { username: 'Pat', action: 'ban' })).body).toEqual({ name: 'Pat', banned: true });
    expect(await socket.next(ofType('access_ended'))).toEqual({ type: 'access_ended', room: 'town', reason: 'banned' });
    expect(errorOf(await http(url, 'GET', '/api/rooms/town/messages', { cookie: pat }))).toEqual({ status: 403, code: ErrorCode.banned });
    // Bans are for moderators' eyes; roles are for everyone's.
    const seenByMo = await http<MemberListResponse>(url, 'GET', '/api/rooms/town/members', { cookie: mo });
    const seenByOthers = await http<MemberListResponse>(url, 'GET', '/api/rooms/town/members');
    expect(seenByMo.body.members.map((m) => m.name)).toEqual(['Mo', 'Olga', 'Pat']);
    expect(seenByOthers.body.members.map((m) => m.name)).toEqual(['Mo', 'Olga']);
  });

  it("lets a moderator remove anyone's message (shown as removed by a moderator), and nobody else", async () => {
    const { url } = await startTestServer();
    const olga = await signUp(url, 'Olga');
    const mo = await signUp(url, 'Mo');
    const pat = await signUp(url, 'Pat');
    await post(url, '/api/rooms/town/messages', olga, { clientId: newClientId(), text: 'first!' });
    await post(url, '/api/rooms/town/messages', pat, { clientId: newClientId(), text: 'spam' });
    const remove = (cookie: string) => post(url, '/api/rooms/town/messages', cookie, { clientId: newClientId(), change: { kind: 'delete', target: 2 } });
    expect(errorOf(await remove(mo))).toEqual({ status: 403, code: ErrorCode.forbidden });
    await post(url, '/api/rooms/town/moderation', olga, { username: 'Mo', action: 'promote' });
    expect((await remove(mo)).status).toBe(201);
    const page = await http<{ messages: { seq: number; deleted?: string }[] }>(url, 'GET', '/api/rooms/town/messages');
    expect(page.body.messages.find((m) => m.seq === 2)?.deleted).toBe('moderator');
  });

  it('makes the author of a new public room\'s first message its one owner, even when several write at once', async () => {
    const { url } = await startTestServer();
    const writers = await Promise.all(['Ann', 'Ben', 'Cat', 'Dan'].map((name) => signUp(url, name)));
    await Promise.all(writers.map((cookie, i) => post(url, '/api/rooms/fresh/messages', cookie, { clientId: newClientId(), text: `hi ${i}` })));
    const first = (await http<{ messages: { author: string }[] }>(url, 'GET', '/api/rooms/fresh/messages')).body.messages[0]?.author;
    const members = await http<MemberListResponse>(url, 'GET', '/api/rooms/fresh/members');
    expect(members.body.members).toEqual([{ name: first, role: 'owner' }]);
  });

  it('lets a server admin (ADMINS) moderate a room nobody owns, but never a guest of the same name', async () => {
    const { url } = await startTestServer({ ADMINS: 'Root, Boss' });
    const root = await signUp(url, 'Root');
    const guestBoss = await createSession(url, 'Boss');
    const gus = await createSession(url, 'gus');
    await post(url, '/api/rooms/lobby/messages', gus, { clientId: newClientId(), text: 'a guest wrote first: nobody owns the lobby' });
    expect((await http<RoomInfo>(url, 'GET', '/api/rooms/lobby', { cookie: root })).body).toMatchObject({ admin: true, moderate: true });
    expect((await http<RoomInfo>(url, 'GET', '/api/rooms/lobby', { cookie: guestBoss })).body).toMatchObject({ admin: false, moderate: false });
    expect((await post(url, '/api/rooms/lobby/moderation', root, { username: 'gus', action: 'ban' })).status).toBe(200);
    expect(errorOf(await http(url, 'GET', '/api/rooms/lobby/people', { cookie: gus }))).toEqual({ status: 403, code: ErrorCode.banned });
  });
});

/** Resolves once `nick` shows as present in `room` (a held GET /wait of theirs counts), as `cookie` sees it. */
async function waitUntilPresent(url: string, room: string, nick: string, cookie: string): Promise<void> {
  for (;;) {
    const people = await http<{ present: string[] }>(url, 'GET', `/api/rooms/${room}/people`, { cookie });
    if (people.body.present.includes(nick)) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
