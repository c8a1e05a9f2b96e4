// A private room's files and messages, and the room's deletion: when its last member leaves, its files go with
// it, sent or waiting for a send, and their bytes are their uploaders' to use again at once, and so does its
// log; a member removed leaves them be (the room goes on); an upload racing the deletion keeps nothing; and
// what a crash between deleting the room and its files or messages left behind is swept after a restart.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Session } from '../server/accounts/accounts';
import { loadConfig } from '../server/config';
import { storeUpload, UploadsUnderWay } from '../server/files/files';
import { ErrorCode, type ErrorResponse, type RoomInfo, type SendResponse, type UploadResponse } from '../server/protocol';
import { roomFiles, roomLog, sweepDeletedRooms } from '../server/rooms/leftovers';
import { Rooms } from '../server/rooms/rooms';
import { openEmbeddedStore, type EmbeddedStore } from '../server/store/embedded';
import { autoCleanup, deferCleanup, http, newClientId, postMessage, signUp, startTestServer, tempDir } from './helpers';

autoCleanup();

/** 16 bytes: MAX_FILE_BYTES in these tests. */
const SIXTEEN = Buffer.from('0123456789abcdef');

function upload(url: string, cookie: string, room: string, body = SIXTEEN) {
  return http<UploadResponse & ErrorResponse>(url, 'POST', `/api/rooms/${encodeURIComponent(room)}/files?name=notes.txt`, {
    cookie,
    raw: body,
    headers: { 'content-type': 'application/octet-stream' },
  });
}

async function uploaded(url: string, cookie: string, room: string): Promise<UploadResponse> {
  const answer = await upload(url, cookie, room);
  expect(answer.status, answer.text).toBe(201);
  return answer.body;
}

async function privateRoom(url: string, owner: string, invited: readonly string[] = []): Promise<string> {
  const created = await http<RoomInfo>(url, 'POST', '/api/rooms', { cookie: owner, json: { title: 'Plans' } });
  expect(created.status).toBe(201);
  for (const username of invited) expect((await http(url, 'POST', `/api/rooms/${created.body.room}/members`, { cookie: owner, json: { username } })).status).toBe(201);
  return created.body.room;
}

function sendFiles(url: string, cookie: string, room: string, files: readonly UploadResponse[]) {
  return postMessage<SendResponse & ErrorResponse>(url, room, { clientId: newClientId(), text: 'see attached', files: files.map(({ file }) => file.id) }, cookie);
}

const leave = (url: string, cookie: string, room: string) => http(url, 'DELETE', `/api/rooms/${room}/members/me`, { cookie });

describe("a private room's files, when its last member leaves", () => {
  it("are deleted, sent or waiting: the file's URL answers 404, its bytes are gone and the quota is back at once", async () => {
    const { url, dataDir } = await startTestServer({ MAX_USER_FILE_BYTES: '32', MAX_FILE_BYTES: '16' });
    const eve = await signUp(url, 'Eve');
    const room = await privateRoom(url, eve);
    const sent = await uploaded(url, eve, room);
    expect((await sendFiles(url, eve, room, [sent])).status).toBe(201);
    const waiting = await uploaded(url, eve, room);
    const fetched = await http(url, 'GET', sent.url, { cookie: eve });
    expect([fetched.status, fetched.text]).toEqual([200, SIXTEEN.toString()]);
    const full = await upload(url, eve, 'lobby');
    expect([full.status, full.body.error.code]).toEqual([413, ErrorCode.quotaExceeded]);

    expect((await leave(url, eve, room)).status).toBe(204);

    for (const { url: fileUrl } of [sent, waiting]) expect((await http(url, 'GET', fileUrl, { cookie: eve })).status).toBe(404);
    // All 32 bytes are Eve's again, as soon as the leave is answered.
    const again = [await uploaded(url, eve, 'lobby'), await uploaded(url, eve, 'lobby')];
    expect((await readdir(join(dataDir, 'files'))).sort()).toEqual([...again.map(({ file }) => file.id), 'tmp'].sort());
  });

  it('go with its messages: nothing of its log is left on disk once the leave is answered', async () => {
    const server = await startTestServer({});
    const eve = await signUp(server.url, 'Eve');
    const room = await privateRoom(server.url, eve);
    for (const text of ['the plan', 'the plan, again', 'and a third']) {
      expect((await postMessage(server.url, room, { clientId: newClientId(), text }, eve)).status).toBe(201);
    }
    expect((await postMessage(server.url, 'lobby', { clientId: newClientId(), text: 'a public plan' }, eve)).status).toBe(201);
    expect((await leave(server.url, eve, room)).status).toBe(204);
    await server.close();

    const store = openEmbeddedStore(server.dataDir);
    deferCleanup(() => store.close());
    expect([await store.head(room), (await store.readAfter(room, 0, 10)).length]).toEqual([0, 0]);
    expect(await store.privateRoomsWithLogs(undefined, 10)).toEqual([]);
    expect((await store.readAfter('lobby', 0, 10)).map((message) => message.text)).toEqual(['a public plan']);
  });

  it("stay while the room does: a member removed keeps them counted, and gets them back when the room goes", async () => {
    const { url } = await startTestServer({ MAX_USER_FILE_BYTES: '16', MAX_FILE_BYTES: '16' });
    const olga = await signUp(url, 'Olga');
    const mia = await signUp(url, 'Mia');
    const room = await privateRoom(url, olga, ['Mia']);
    const file = await uploaded(url, mia, room);
    expect((await sendFiles(url, mia, room, [file])).status).toBe(201);
    const removed = await http(url, 'POST', `/api/rooms/${room}/moderation`, { cookie: olga, json: { username: 'Mia', action: 'remove' } });
    expect(removed.status).toBe(200);

    // The room goes on: its messages show the file still, and it is still Mia's.
    expect((await http(url, 'GET', file.url, { cookie: olga })).status).toBe(200);
    expect((await upload(url, mia, 'lobby')).status).toBe(413);

    expect((await leave(url, olga, room)).status).toBe(204);
    expect((await upload(url, mia, 'lobby')).status).toBe(201);
  });
});

describe('deleting a room and its files', () => {
  const config = loadConfig({});
  const olga: Session = { id: 's0', userId: 'u0', nick: 'Olga', guest: false, since: 0 };

  async function setUp(dir?: string): Promise<{ dir: string; store: EmbeddedStore; rooms: Rooms }> {
    const dataDir = dir ?? (await tempDir('parley-room-files-'));
    const store = openEmbeddedStore(dataDir);
    deferCleanup(() => store.close());
    const rooms = new Rooms(store.rooms, { personNamed: async () => undefined, roomsChanged: () => undefined }, config);
    rooms.onRoomDeleted = async (room) => {
      await store.files.removeRoom(room);
    };
    return { dir: dataDir, store, rooms };
  }

  async function* bytes(text: string): AsyncGenerator<Buffer> {
    yield Buffer.from(text);
  }
  const fileIn = (room: string, id: string) => ({ id, room, session: olga.id, owner: olga.userId, name: 'a.txt', type: 'text/plain' });

  it('keeps nothing of an upload still streaming in when the last member left: it is refused as the room is gone', async () => {
    const { dir, store, rooms } = await setUp();
    const { room } = await rooms.create(olga, 'Plans');
    async function* body(): AsyncGenerator<Buffer> {
      yield Buffer.from('the first part, read once the upload was allowed');
      // Past the room's check, before the file is stored: the deletion cannot find it.
      await rooms.leave(olga, room);
      yield Buffer.from(', and the rest');
    }
    const ctx = { store, config, rooms, uploads: new UploadsUnderWay() };
    await expect(storeUpload(ctx, { session: olga, ip: '127.0.0.1' }, { room, name: 'a.txt', body: body() })).rejects.toMatchObject({ code: ErrorCode.notFound });
    expect(await store.files.usage(olga.userId)).toEqual({ files: 0, bytes: 0, unattached: 0 });
    expect(await readdir(join(dir, 'files'))).toEqual(['tmp']);
  });

  it('finishes after a restart what a crash cut short: files of a deleted room, a room its last member left', async () => {
    const first = await setUp();
    const [deleted, left, kept] = [(await first.rooms.create(olga, 'Deleted')).room, (await first.rooms.create(olga, 'Left')).room, (await first.rooms.create(olga, 'Kept')).room];
    await first.store.files.put(fileIn(deleted, 'AAAAAAAAAAAAAAAAAAAAAA'), bytes('deleted'));
    await first.store.files.put(fileIn(left, 'BBBBBBBBBBBBBBBBBBBBBB'), bytes('left'));
    await first.store.files.put(fileIn(kept, 'CCCCCCCCCCCCCCCCCCCCCC'), bytes('kept'));
    await first.store.files.put(fileIn('lobby', 'DDDDDDDDDDDDDDDDDDDDDD'), bytes('lobby'));
    await first.store.rooms.putMember({ room: left, userId: 'u9', name: 'Mal', role: 'member', banned: true, since: 1 });
    // The crash: one room deleted before its files were; in the other, its last member's leave stopped
    // between removing them and deleting the room (nobody is left but someone banned).
    await first.store.rooms.deleteRoom(deleted);
    await first.store.rooms.removeMember(left, olga.userId);
    await first.store.close();

    const { store, rooms } = await setUp(first.dir);
    expect(await store.files.usage(olga.userId)).toEqual({ files: 4, bytes: 20, unattached: 4 });
    expect(await sweepDeletedRooms(rooms, roomFiles(store))).toEqual({ removed: 2, next: undefined });
    expect(await store.files.usage(olga.userId)).toEqual({ files: 2, bytes: 9, unattached: 2 });
    expect(await store.files.privateRoomsWithFiles(undefined, 10)).toEqual([kept]);
    expect([await store.rooms.room(left), await store.rooms.member(left, 'u9')]).toEqual([undefined, undefined]);
    expect(await store.rooms.room(kept)).toBeDefined();
    expect((await readdir(join(first.dir, 'files'))).sort()).toEqual(['CCCCCCCCCCCCCCCCCCCCCC', 'DDDDDDDDDDDDDDDDDDDDDD', 'tmp']);
    expect(await sweepDeletedRooms(rooms, roomFiles(store))).toEqual({ removed: 0, next: undefined });
  });

  it("finishes after a restart what a crash cut short: the messages of a deleted room, and of a room its last member left", async () => {
    const first = await setUp();
    const [deleted, left, kept] = [(await first.rooms.create(olga, 'Deleted')).room, (await first.rooms.create(olga, 'Left')).room, (await first.rooms.create(olga, 'Kept')).room];
    for (const room of [deleted, left, kept, 'lobby']) {
      for (const text of ['one', 'two']) await first.store.append({ room, clientId: newClientId(), author: 'Olga', text });
    }
    await first.store.rooms.putMember({ room: left, userId: 'u9', name: 'Mal', role: 'member', banned: true, since: 1 });
    await first.store.rooms.deleteRoom(deleted);
    await first.store.rooms.removeMember(left, olga.userId);
    await first.store.close();

    const { store, rooms } = await setUp(first.dir);
    expect(await store.privateRoomsWithLogs(undefined, 10)).toEqual([deleted, left, kept].sort());
    expect(await sweepDeletedRooms(rooms, roomLog(store))).toEqual({ removed: 4, next: undefined });
    expect(await store.privateRoomsWithLogs(undefined, 10)).toEqual([kept]);
    expect([await store.head(deleted), await store.head(left), await store.head(kept), await store.head('lobby')]).toEqual([0, 0, 2, 2]);
    expect(await sweepDeletedRooms(rooms, roomLog(store))).toEqual({ removed: 0, next: undefined });
  });

  it("ends the last member's connections to the room before its files and log go, not after (a long log takes seconds)", async () => {
    const { rooms } = await setUp();
    const { room } = await rooms.create(olga, 'Plans');
    const seen: string[] = [];
    rooms.watch(room, olga.userId, { accessEnded: (_room, reason) => seen.push(`connection ended: ${reason}`) });
    rooms.onRoomDeleted = async () => {
      seen.push('leftovers removed');
    };
    await rooms.leave(olga, room);
    expect(seen).toEqual(['connection ended: left', 'leftovers removed']);
  });

  it('keeps a room, and its log, while members are left past a full list of banned names (MAX_ROOM_MEMBERS lowered since)', async () => {
    const first = await setUp();
    const { room } = await first.rooms.create(olga, 'Plans');
    await first.store.append({ room, clientId: newClientId(), author: 'Olga', text: 'still here' });
    // Listed by name: two banned people come first, then Zed, who is still a member.
    for (const [userId, name] of [['u7', 'Abe'], ['u8', 'Bea']] as const) await first.store.rooms.putMember({ room, userId, name, role: 'member', banned: true, since: 1 });
    await first.store.rooms.putMember({ room, userId: 'u9', name: 'Zed', role: 'member', since: 2 });
    await first.store.close();

    const store = openEmbeddedStore(first.dir);
    deferCleanup(() => store.close());
    const rooms = new Rooms(store.rooms, { personNamed: async () => undefined, roomsChanged: () => undefined }, loadConfig({ MAX_ROOM_MEMBERS: '2' }));
    await rooms.leave(olga, room);
    expect(await sweepDeletedRooms(rooms, roomLog(store))).toEqual({ removed: 0, next: undefined });
    expect(await store.rooms.member(room, 'u9')).toMatchObject({ name: 'Zed' });
    expect((await store.readAfter(room, 0, 10)).map((message) => message.text)).toEqual(['still here']);
  });

  it('goes round the rooms holding files a batch at a time', async () => {
    const { store, rooms } = await setUp();
    const created: string[] = [];
    for (const title of ['a', 'b', 'c']) created.push((await rooms.create(olga, title)).room);
    const ids = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB', 'CCCCCCCCCCCCCCCCCCCCCC'];
    for (const [i, room] of created.entries()) await store.files.put(fileIn(room, ids[i] ?? ''), bytes('x'));
    const [, b, c] = [...created].sort();
    for (const room of created) await store.rooms.deleteRoom(room);
    expect(await sweepDeletedRooms(rooms, roomFiles(store), undefined, 2)).toEqual({ removed: 2, next: b });
    expect(await store.files.privateRoomsWithFiles(undefined, 10)).toEqual([c]);
    expect(await sweepDeletedRooms(rooms, roomFiles(store), b, 2)).toEqual({ removed: 1, next: undefined });
    expect(await store.files.usage(olga.userId)).toEqual({ files: 0, bytes: 0, unattached: 0 });
  });
});
