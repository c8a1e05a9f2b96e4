// Attacks on private rooms, moderation, message changes, files and read markers, as a hostile client makes them:
// real HTTP and WebSocket against a real server. Each test names what an attacker tried and asserts what a
// user of the room must be able to count on.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorResponse, type RoomInfo, type SendResponse, type UploadResponse } from '../server/protocol';
import { autoCleanup, createSession, http, newClientId, ofType, postMessage, signUp, startTestServer, TestSocket } from './helpers';

autoCleanup();

/** A private room made by `owner`, with `invited` (usernames) in it; its id. */
async function privateRoom(url: string, owner: string, invited: readonly string[] = [], title = 'Secret plans'): Promise<string> {
  const created = await http<RoomInfo>(url, 'POST', '/api/rooms', { cookie: owner, json: { title } });
  expect(created.status).toBe(201);
  for (const username of invited) {
    expect((await http(url, 'POST', `/api/rooms/${created.body.room}/members`, { cookie: owner, json: { username } })).status).toBe(201);
  }
  return created.body.room;
}

function moderate(url: string, cookie: string, room: string, username: string, action: string) {
  return http<ErrorResponse>(url, 'POST', `/api/rooms/${encodeURIComponent(room)}/moderation`, { cookie, json: { username, action } });
}

function send(url: string, cookie: string, room: string, body: Record<string, unknown>) {
  return postMessage<SendResponse & ErrorResponse>(url, room, { clientId: newClientId(), ...body }, cookie);
}

describe('heads of a watched private room', () => {
  for (const how of ['removed', 'banned', 'left'] as const) {
    it(`stop for a person who was ${how}: the head of a room one cannot read tells of its traffic`, async () => {
      const { url, wsUrl } = await startTestServer();
      const olga = await signUp(url, 'Olga');
      const mallory = await signUp(url, 'Mallory');
      const room = await privateRoom(url, olga, ['Mallory']);
      const socket = await TestSocket.open(wsUrl, mallory);
      socket.send({ type: 'watch', rooms: [room] });
      expect(await socket.frames.next(ofType('heads'))).toEqual({ type: 'heads', heads: [{ room, seq: 0 }] });

      if (how === 'left') expect((await http(url, 'DELETE', `/api/rooms/${room}/members/me`, { cookie: mallory })).status).toBe(204);
      else expect((await moderate(url, olga, room, 'Mallory', how === 'removed' ? 'remove' : 'ban')).status).toBe(200);
      expect((await send(url, olga, room, { text: 'now that Mallory is gone' })).status).toBe(201);

      // No heads frame may name the room from now on: one of the moved room would come within HEADS_EVERY_MS.
      const leaked = await socket.frames.next(ofType('heads'), 2500).catch(() => undefined);
      expect(leaked?.heads.filter((head) => head.room === room) ?? []).toEqual([]);
    });
  }
});

describe('a ban in a private room', () => {
  it("does not use up the banned person's private rooms: a ban they cannot even leave would lock them out of every DM and invitation", async () => {
    const { url } = await startTestServer({ MAX_PRIVATE_ROOMS_PER_PERSON: '2' });
    const mallory = await signUp(url, 'Mallory');
    await signUp(url, 'Victor');
    const olga = await signUp(url, 'Olga');
    for (let i = 0; i < 2; i++) {
      const room = await privateRoom(url, mallory, ['Victor'], `trap ${i}`);
      expect((await moderate(url, mallory, room, 'Victor', 'ban')).status).toBe(200);
    }
    const victor = await http(url, 'POST', '/api/session', { json: { username: 'Victor', password: 'correct horse battery' } });
    const victorCookie = (victor.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? '';
    expect((await http<{ rooms: unknown[] }>(url, 'GET', '/api/rooms', { cookie: victorCookie })).body.rooms).toEqual([]);

    const room = await http<RoomInfo>(url, 'POST', '/api/rooms', { cookie: olga, json: { title: 'Real friends' } });
    const invited = await http<ErrorResponse>(url, 'POST', `/api/rooms/${room.body.room}/members`, { cookie: olga, json: { username: 'Victor' } });
    expect(invited.status, invited.text).toBe(201);
    const dm = await http<ErrorResponse>(url, 'POST', '/api/dms', { cookie: victorCookie, json: { username: 'Olga' } });
    expect(dm.status, dm.text).toBe(201);
  });
});

describe('a server admin in a public room', () => {
  it('can ban and mute its owner: whoever wrote first in a public room must not be above every admin', async () => {
    const { url } = await startTestServer({ ADMINS: 'Root' });
    const squatter = await signUp(url, 'Sam');
    const root = await signUp(url, 'Root');
    await signUp(url, 'Bob');
    expect((await send(url, squatter, 'general', { text: 'mine now' })).status).toBe(201);
    expect((await moderate(url, squatter, 'general', 'Bob', 'ban')).status).toBe(200);

    const muted = await moderate(url, root, 'general', 'Sam', 'mute');
    expect(muted.status, muted.text).toBe(200);
    expect((await send(url, squatter, 'general', { text: 'spam' })).body.error?.code).toBe(ErrorCode.muted);
    const banned = await moderate(url, root, 'general', 'Sam', 'ban');
    expect(banned.status, banned.text).toBe(200);
    expect((await http<ErrorResponse>(url, 'GET', '/api/rooms/general/messages', { cookie: squatter })).body.error?.code).toBe(ErrorCode.banned);
    expect((await moderate(url, root, 'general', 'Bob', 'unban')).status).toBe(200);
  });
});
describe('a guest who takes a name another guest gave up', () => {
  it("cannot edit or delete the messages the earlier guest of that name wrote", async () => {
    const { url } = await startTestServer();
    const first = await createSession(url, 'gus');
    const original = await send(url, first, 'lobby', { text: 'I was here first' });
    expect(original.status).toBe(201);
    expect((await http(url, 'DELETE', '/api/session', { cookie: first })).status).toBe(204);

    const second = await createSession(url, 'gus');
    const edit = await send(url, second, 'lobby', { text: 'I said something else', change: { kind: 'edit', target: original.body.message.seq } });
    expect(edit.status, edit.text).toBe(403);
    const deletion = await send(url, second, 'lobby', { change: { kind: 'delete', target: original.body.message.seq } });
    expect(deletion.status, deletion.text).toBe(403);
  });
});

describe('files sent with a clientId already used', () => {
  it('are not kept for good under a message that does not carry them: deleting the message leaves no file behind', async () => {
    const { url } = await startTestServer();
    const eve = await createSession(url, 'eve');
    const clientId = newClientId();
    const first = await postMessage<SendResponse>(url, 'lobby', { clientId, text: 'a message without files' }, eve);
    expect(first.status).toBe(201);
    const upload = await http<UploadResponse>(url, 'POST', '/api/rooms/lobby/files?name=secret.txt', { cookie: eve, raw: 'the secret', headers: { 'content-type': 'application/octet-stream' } });
    expect(upload.status).toBe(201);
    // The same clientId again, now with the file: the answer is the original message, which has no file.
    const again = await postMessage<SendResponse>(url, 'lobby', { clientId, text: 'a message without files', files: [upload.body.file.id] }, eve);
    expect(again.body.duplicate).toBe(true);
    expect(again.body.message.files).toBeUndefined();

    expect((await send(url, eve, 'lobby', { change: { kind: 'delete', target: first.body.message.seq } })).status).toBe(201);
    const fetched = await http(url, 'GET', upload.body.url, { cookie: eve });
    expect(fetched.status, 'the file no message carries is still served').toBe(404);
  });
});

describe('a delete sent with a clientId already used', () => {
  it("leaves the target's files: the delete is not stored (the answer is the earlier message), so the message still shows them", async () => {
    const { url } = await startTestServer();
    const eve = await createSession(url, 'eve');
    const upload = await http<UploadResponse>(url, 'POST', '/api/rooms/lobby/files?name=photo.txt', { cookie: eve, raw: 'the bytes', headers: { 'content-type': 'application/octet-stream' } });
    const withFile = await send(url, eve, 'lobby', { text: 'look', files: [upload.body.file.id] });
    const usedId = newClientId();
    expect((await postMessage(url, 'lobby', { clientId: usedId, text: 'another' }, eve)).status).toBe(201);

    const deletion = await postMessage<SendResponse>(url, 'lobby', { clientId: usedId, change: { kind: 'delete', target: withFile.body.message.seq } }, eve);
    expect(deletion.body).toMatchObject({ duplicate: true, message: { text: 'another' } });
    const page = await http<{ messages: { seq: number; deleted?: string; files?: unknown[] }[] }>(url, 'GET', '/api/rooms/lobby/messages', { cookie: eve });
    expect(page.body.messages.find((m) => m.seq === withFile.body.message.seq)).toMatchObject({ files: [{ id: upload.body.file.id }] });
    expect((await http(url, 'GET', upload.body.url, { cookie: eve })).status).toBe(200);
  });
});

describe('a delete sent again (its ack was lost)', () => {
  it('is answered with the delete stored the first time, as any resend is, not refused as a change of a deleted message', async () => {
    const { url } = await startTestServer();
    const eve = await createSession(url, 'eve');
    const message = await send(url, eve, 'lobby', { text: 'oops' });
    const body = { clientId: newClientId(), change: { kind: 'delete', target: message.body.message.seq } };
    const first = await postMessage<SendResponse>(url, 'lobby', body, eve);
    expect(first.status).toBe(201);
    const again = await postMessage<SendResponse & ErrorResponse>(url, 'lobby', body, eve);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toEqual({ message: first.body.message, duplicate: true });
  });
});

describe('the owner of a new public room', () => {
  it('is not whoever tried to write first and failed: a refused first send must not leave a hidden owner', async () => {
    const { url } = await startTestServer();
    const eve = await signUp(url, 'Eve');
    const bob = await signUp(url, 'Bob');
    // A first message refused after the claim (a file id that is no upload of hers).
    const refused = await send(url, eve, 'town', { text: 'claim', files: ['AAAAAAAAAAAAAAAAAAAAAA'] });
    expect(refused.status).toBe(400);
    expect((await send(url, bob, 'town', { text: 'the first message' })).status).toBe(201);

    await signUp(url, 'Carl');
    const ban = await moderate(url, eve, 'town', 'Carl', 'ban');
    expect(ban.status, ban.text).toBe(403);
    const members = await http<{ members: { name: string; role?: string }[] }>(url, 'GET', '/api/rooms/town/members', { cookie: bob });
    expect(members.body.members).toEqual([{ name: 'Bob', role: 'owner' }]);
  });
});

describe("a public room's standings", () => {
  // A ban of a guest stayed in the room's standings after the guest was gone (its name free again, so the ban
  // did not even hold), and the standings are bounded by MAX_ROOM_MEMBERS: a few waves of guest trolls, each
  // banned, left the moderators unable to ban or mute anyone new there. A guest that goes takes its standings.
  it('are not used up by bans of guests who have since gone: moderators can still ban the next troll', async () => {
    const { url } = await startTestServer({ MAX_ROOM_MEMBERS: '4' });
    const owner = await signUp(url, 'Olga');
    expect((await send(url, owner, 'town', { text: 'welcome' })).status).toBe(201);
    for (const troll of ['troll1', 'troll2', 'troll3']) {
      const cookie = await createSession(url, troll);
      expect((await send(url, cookie, 'town', { text: 'spam' })).status).toBe(201);
      expect((await moderate(url, owner, 'town', troll, 'ban')).status).toBe(200);
      expect((await http(url, 'DELETE', '/api/session', { cookie })).status).toBe(204);
    }
    const next = await createSession(url, 'troll4');
    expect((await send(url, next, 'town', { text: 'spam' })).status).toBe(201);
    const banned = await moderate(url, owner, 'town', 'troll4', 'ban');
    expect(banned.status, banned.text).toBe(200);
  });
});

describe('a deleted message on disk', () => {
  // Left failing: the record is rewritten without the text, but LMDB leaves the freed page (with the text) in
  // parley.lmdb until later writes reuse it; on a quiet server that is indefinitely (with 20 more messages
  // after the delete this test passes). A real fix needs the page overwritten (LMDB does not zero freed
  // pages): e.g. writing the emptied record in place of the same size first, or a compaction (env copy with
  // compact) on a schedule. MongoDB has the same property below the API (WiredTiger free blocks).
  it.fails('leaves no copy of its text in the data directory, nor of its edits', async () => {
    const server = await startTestServer();
    const eve = await createSession(server.url, 'eve');
    const secret = `the vault code is ${newClientId()}`;
    const edited = `${secret}, no wait, it is ${newClientId()}`;
    const message = await send(server.url, eve, 'lobby', { text: secret });
    expect((await send(server.url, eve, 'lobby', { text: edited, change: { kind: 'edit', target: message.body.message.seq } })).status).toBe(201);
    expect((await send(server.url, eve, 'lobby', { change: { kind: 'delete', target: message.body.message.seq } })).status).toBe(201);
    await server.close();
    const { readdir, readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if ((await readFile(path)).includes(secret.slice(-36))) found.push(entry.name);
      }
    };
    await walk(server.dataDir);
    expect(found).toEqual([]);
  });
});

describe('files one address may hold', () => {
  // MAX_USER_FILE_BYTES bounds a person, and every guest was a new person: one address made IP_GUESTS_PER_MINUTE
  // guests (10 a minute by default), each holding 500 MB once its files were sent, so the disk filled at up to
  // 5 GB a minute per address. The guests of one address now share MAX_GUEST_FILE_BYTES_PER_IP (by default
  // MAX_USER_FILE_BYTES), counted from the stored files: a guest that goes leaves its files counting.
  it('are bounded, however many guests the address makes', async () => {
    const { url } = await startTestServer({ MAX_USER_FILE_BYTES: '16', MAX_FILE_BYTES: '16' });
    const held: number[] = [];
    let refused: ErrorResponse | undefined;
    for (const nick of ['g1', 'g2', 'g3']) {
      const cookie = await createSession(url, nick);
      const upload = await http<UploadResponse & ErrorResponse>(url, 'POST', '/api/rooms/lobby/files?name=a.txt', { cookie, raw: '0123456789abcdef', headers: { 'content-type': 'application/octet-stream' } });
      if (upload.status !== 201) {
        expect(upload.status).toBe(413);
        refused = upload.body;
        break;
      }
      expect((await send(url, cookie, 'lobby', { files: [upload.body.file.id] })).status).toBe(201);
      held.push(upload.body.file.size);
      // The guest goes (its name free, its session over): its file stays in the room, and goes on counting.
      expect((await http(url, 'DELETE', '/api/session', { cookie })).status).toBe(204);
    }
    expect(held.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(16);
    expect(refused?.error.code).toBe(ErrorCode.quotaExceeded);
    expect(refused?.error.message).toMatch(/guests on your network .* sign up for an account/);
  });
});

describe('a private room its last member left', () => {
  // Leaving deletes the room (its id is not found from then on); its files kept counting against their
  // uploaders' MAX_USER_FILE_BYTES, and nobody could delete the messages that carry them any more. They are
  // deleted with the room now (FileStore.removeRoom; more in test/room-files.test.ts).
  it("frees its files: they no longer count against their uploader's quota", async () => {
    const { url } = await startTestServer({ MAX_USER_FILE_BYTES: '16', MAX_FILE_BYTES: '16' });
    const eve = await signUp(url, 'Eve');
    const room = await privateRoom(url, eve);
    const upload = await http<UploadResponse>(url, 'POST', `/api/rooms/${room}/files?name=a.txt`, { cookie: eve, raw: '0123456789abcdef', headers: { 'content-type': 'application/octet-stream' } });
    expect((await send(url, eve, room, { files: [upload.body.file.id] })).status).toBe(201);
    expect((await http(url, 'DELETE', `/api/rooms/${room}/members/me`, { cookie: eve })).status).toBe(204);

    const next = await http<ErrorResponse>(url, 'POST', '/api/rooms/lobby/files?name=b.txt', { cookie: eve, raw: '0123456789abcdef', headers: { 'content-type': 'application/octet-stream' } });
    expect(next.status, next.text).toBe(201);
  });
});

describe('search', () => {
  it('finds nothing of a private room for a member removed from it, nor deleted or edited-away words', async () => {
    const { url } = await startTestServer();
    const olga = await signUp(url, 'Olga');
    const mallory = await signUp(url, 'Mallory');
    const room = await privateRoom(url, olga, ['Mallory']);
    const find = async (cookie: string, q: string) =>
      (await http<{ results: { message: { room: string; text: string } }[] }>(url, 'GET', `/api/search?q=${encodeURIComponent(q)}`, { cookie })).body.results;
    expect((await send(url, olga, room, { text: 'zanzibar plans' })).status).toBe(201);
    expect(await find(mallory, 'zanzibar')).toHaveLength(1);
    expect((await moderate(url, olga, room, 'Mallory', 'remove')).status).toBe(200);
    expect(await find(mallory, 'zanzibar')).toEqual([]);

    const message = await send(url, olga, 'lobby', { text: 'quokka secret' });
    expect((await send(url, olga, 'lobby', { text: 'wombat secret', change: { kind: 'edit', target: message.body.message.seq } })).status).toBe(201);
    expect(await find(olga, 'quokka')).toEqual([]);
    expect((await send(url, olga, 'lobby', { change: { kind: 'delete', target: message.body.message.seq } })).status).toBe(201);
    expect(await find(olga, 'wombat')).toEqual([]);
    expect(await find(olga, 'secret')).toEqual([]);
  });
});

describe("search's next page", () => {
  it("never points into a private room the searcher is not in: the position names the room, a seq and a time", async () => {
    const { url } = await startTestServer({ SEARCH_SCAN_LIMIT: '100' });
    const olga = await signUp(url, 'Olga');
    const mallory = await signUp(url, 'Mallory');
    const room = await privateRoom(url, olga);
    // More matching messages in the private room than three rounds of the scan budget look at.
    for (let i = 0; i < 310; i++) expect((await send(url, olga, room, { text: `zanzibar ${i}` })).status).toBe(201);
    const answer = await http<{ results: unknown[]; next?: string }>(url, 'GET', '/api/search?q=zanzibar', { cookie: mallory });
    expect(answer.status).toBe(200);
    expect(answer.body.results).toEqual([]);
    expect(answer.body.next ?? '').not.toContain(room);
    // Going on from there ends, and finds nothing either.
    let next = answer.body.next;
    for (let page = 0; next !== undefined && page < 5; page++) {
      const more = await http<{ results: unknown[]; next?: string }>(url, 'GET', `/api/search?q=zanzibar&before=${next}`, { cookie: mallory });
      expect(more.body.results).toEqual([]);
      expect(more.body.next ?? '').not.toContain(room);
      next = more.body.next;
    }
    expect(next).toBeUndefined();
  });
});

describe('search, as an oracle', () => {
  // The scan budget running out (a `next` with no results, and its time) told a non-member that messages they
  // cannot read hold their words, and when: the index scanned every room's entries of a word before dropping
  // those of rooms the searcher may not read. A private room's entries now lie in a space of their own, read
  // only for its members.
  it('tells a non-member nothing of the words in a private room: no next page when nothing they may read matched', async () => {
    const { url } = await startTestServer({ SEARCH_SCAN_LIMIT: '100' });
    const olga = await signUp(url, 'Olga');
    const mallory = await signUp(url, 'Mallory');
    const room = await privateRoom(url, olga);
    for (let i = 0; i < 310; i++) expect((await send(url, olga, room, { text: `merger ${i}` })).status).toBe(201);
    const answer = await http<{ results: unknown[]; next?: string }>(url, 'GET', '/api/search?q=merger', { cookie: mallory });
    expect(answer.body).toEqual({ results: [] });
  });
});
