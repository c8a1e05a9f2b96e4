// Who may read and post in a room, on every path (WebSocket subscribe and send, /wait, history, people,
// typing, POST send), for every kind of person: one row per cell of the table. A private room that someone
// may not read answers exactly as a room that does not exist; the table compares those answers whole.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ErrorResponse, type RoomInfo, type ServerFrame } from '../server/protocol';
import { newRoomId } from '../server/rooms/rooms';
import { autoCleanup, createSession, http, newClientId, signUp, startTestServer, TestSocket } from './helpers';

autoCleanup();

type Path = 'ws subscribe' | 'ws send' | 'GET /wait' | 'history' | 'people' | 'typing' | 'POST send' | 'room info' | 'members' | 'upload';
const PATHS: readonly Path[] = ['ws subscribe', 'ws send', 'GET /wait', 'history', 'people', 'typing', 'POST send', 'room info', 'members', 'upload'];

/** What a path answered: an HTTP status and body, or the WebSocket frame (see normalized). */
interface Answer {
  status: number | 'frame';
  body: unknown;
}

/** The answer's outcome in a word, for the table: ok, or the error code. */
function outcome(answer: Answer): string {
  if (answer.status === 'frame') {
    const frame = answer.body as ServerFrame;
    return frame.type === 'error' ? frame.code : 'ok';
  }
  return answer.status < 300 ? 'ok' : ((answer.body as ErrorResponse).error?.code ?? String(answer.status));
}

/** `value` with what the asker chose itself (the room's name, the message's clientId) written as <room> and <clientId>. */
function normalized(value: unknown, room: string, clientId = '<clientId>'): unknown {
  return JSON.parse(JSON.stringify(value ?? null).split(room).join('<room>').split(clientId).join('<clientId>'));
}

/** Asks `path` about `room` as whoever `cookie` names (nobody, when undefined). */
async function ask(url: string, wsUrl: string, path: Path, room: string, cookie: string | undefined): Promise<Answer> {
  const as = cookie ? { cookie } : {};
  const encoded = encodeURIComponent(room);
  const answered = (a: { status: number; body: unknown }): Answer => ({ status: a.status, body: normalized(a.body, room) });
  switch (path) {
    case 'ws subscribe':
    case 'ws send': {
      const socket = await TestSocket.open(wsUrl, cookie);
      const clientId = newClientId();
      socket.send(path === 'ws subscribe' ? { type: 'subscribe', room } : { type: 'send', room, clientId, text: 'hello' });
      const frame = await socket.next(
        (f): f is ServerFrame => (f.type === 'subscribed' && f.room === room) || (f.type === 'ack' && f.clientId === clientId) || (f.type === 'error' && (f.room === room || f.clientId === clientId)),
      );
      await socket.close();
      // What is the same for anyone (the seq, the time, the epoch of a successful answer) is not compared.
      return { status: 'frame', body: normalized(frame.type === 'error' ? frame : { type: frame.type }, room, clientId) };
    }
    case 'GET /wait':
      return answered(await http(url, 'GET', `/wait?room=${encoded}`, as));
    case 'history':
      return answered(await http(url, 'GET', `/api/rooms/${encoded}/messages`, as));
    case 'people':
      return answered(await http(url, 'GET', `/api/rooms/${encoded}/people`, as));
    case 'typing':
      return answered(await http(url, 'POST', `/api/rooms/${encoded}/typing`, as));
    case 'room info':
      return answered(await http(url, 'GET', `/api/rooms/${encoded}`, as));
    case 'members':
      return answered(await http(url, 'GET', `/api/rooms/${encoded}/members`, as));
    case 'upload': {
      const answer = await http(url, 'POST', `/api/rooms/${encoded}/files?name=note.txt`, { ...as, raw: 'a note', headers: { 'content-type': 'application/octet-stream' } });
      return answered(answer.status < 300 ? { status: answer.status, body: null } : answer);
    }
    case 'POST send': {
      const answer = await http(url, 'POST', `/api/rooms/${encoded}/messages`, { ...as, json: { clientId: newClientId(), text: 'hello' } });
      return answered(answer.status < 300 ? { status: answer.status, body: null } : answer);
    }
  }
}

const ok = Object.fromEntries(PATHS.map((path) => [path, 'ok'])) as Record<Path, string>;
const all = (code: string) => Object.fromEntries(PATHS.map((path) => [path, code])) as Record<Path, string>;
const readsOnly = (code: string): Record<Path, string> => ({ ...ok, 'ws send': code, typing: code, 'POST send': code, upload: code });

describe('the authorization table: every rule on every path', () => {
  it('answers each person on each path as the table says, and a non-member exactly as a room that does not exist', async () => {
    const { url, wsUrl } = await startTestServer();
    const owner = await signUp(url, 'Olga');
    const member = await signUp(url, 'Mia');
    const muted = await signUp(url, 'Mutt');
    const banned = await signUp(url, 'Bran');
    const outsider = await signUp(url, 'Nina');
    const revoked = await signUp(url, 'Rev');
    const guest = await createSession(url, 'gus');

    const created = await http<RoomInfo>(url, 'POST', '/api/rooms', { cookie: owner, json: { title: 'Plans' } });
    expect(created.status).toBe(201);
    const room = created.body.room;
    const nowhere = newRoomId();
    for (const username of ['Mia', 'Mutt', 'Bran', 'Rev']) {
      expect((await http(url, 'POST', `/api/rooms/${room}/members`, { cookie: owner, json: { username } })).status).toBe(201);
    }
    expect((await http(url, 'POST', `/api/rooms/${room}/moderation`, { cookie: owner, json: { username: 'Mutt', action: 'mute' } })).status).toBe(200);
    expect((await http(url, 'POST', `/api/rooms/${room}/moderation`, { cookie: owner, json: { username: 'Bran', action: 'ban' } })).status).toBe(200);
    expect((await http(url, 'DELETE', '/api/session', { cookie: revoked })).status).toBe(204);
    // A public room: its first writer (an account) owns it, and bans and mutes there.
    expect((await http(url, 'POST', '/api/rooms/town/messages', { cookie: owner, json: { clientId: newClientId(), text: 'first' } })).status).toBe(201);
    expect((await http(url, 'POST', '/api/rooms/town/moderation', { cookie: owner, json: { username: 'Mutt', action: 'mute' } })).status).toBe(200);
    expect((await http(url, 'POST', '/api/rooms/town/moderation', { cookie: owner, json: { username: 'Bran', action: 'ban' } })).status).toBe(200);

    const rows: { who: string; cookie: string | undefined; room: string; expected: Record<Path, string> }[] = [
      { who: 'member', cookie: member, room, expected: ok },
      { who: 'non-member', cookie: outsider, room, expected: all(ErrorCode.notFound) },
      { who: 'guest', cookie: guest, room, expected: all(ErrorCode.notFound) },
      { who: 'banned', cookie: banned, room, expected: all(ErrorCode.notFound) },
      { who: 'muted', cookie: muted, room, expected: readsOnly(ErrorCode.muted) },
      // A revoked session is nobody: a private room is not found, and a send or typing needs a session first.
      {
        who: 'revoked session',
        cookie: revoked,
        room,
        expected: { ...all(ErrorCode.notFound), 'ws send': ErrorCode.unauthenticated, typing: ErrorCode.unauthenticated, 'POST send': ErrorCode.unauthenticated, upload: ErrorCode.unauthenticated },
      },
      { who: 'nonexistent room', cookie: outsider, room: nowhere, expected: all(ErrorCode.notFound) },
      { who: 'nonexistent room, as a guest', cookie: guest, room: nowhere, expected: all(ErrorCode.notFound) },
      { who: 'public room: reader', cookie: member, room: 'town', expected: ok },
      { who: 'public room: guest', cookie: guest, room: 'town', expected: ok },
      { who: 'public room: muted', cookie: muted, room: 'town', expected: readsOnly(ErrorCode.muted) },
      { who: 'public room: banned', cookie: banned, room: 'town', expected: all(ErrorCode.banned) },
    ];

    const answers = new Map<string, Answer>();
    const table: string[] = [`${'who'.padEnd(30)} ${PATHS.map((p) => p.padEnd(16)).join('')}`];
    for (const row of rows) {
      const got = {} as Record<Path, string>;
      for (const path of PATHS) {
        const answer = await ask(url, wsUrl, path, row.room, row.cookie);
        answers.set(`${row.who}|${path}`, answer);
        got[path] = outcome(answer);
      }
      table.push(`${row.who.padEnd(30)} ${PATHS.map((p) => got[p].padEnd(16)).join('')}`);
      expect({ who: row.who, ...got }).toEqual({ who: row.who, ...row.expected });
    }
    // Whole answers, word for word (with the room's name, which the asker wrote, as <room>).
    for (const path of PATHS) {
      const nonexistent = answers.get(`nonexistent room|${path}`);
      expect({ path, answer: answers.get(`non-member|${path}`) }).toEqual({ path, answer: nonexistent });
      expect({ path, answer: answers.get(`banned|${path}`) }).toEqual({ path, answer: nonexistent });
      expect({ path, answer: answers.get(`guest|${path}`) }).toEqual({ path, answer: answers.get(`nonexistent room, as a guest|${path}`) });
    }
    console.log(`[authorization table]\n${table.join('\n')}`);

    // The same work for both: one read of the asker's standing. Timed for the note, alternating the two.
    const times = { 'non-member': [] as number[], nonexistent: [] as number[] };
    for (let i = 0; i < 40; i++) {
      for (const [what, target] of [['non-member', room], ['nonexistent', nowhere]] as const) {
        const started = performance.now();
        await http(url, 'GET', `/api/rooms/${target}/messages`, { cookie: outsider });
        times[what].push(performance.now() - started);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]?.toFixed(2);
    console.log(`[authorization timing] history, median of 40: non-member ${median(times['non-member'])} ms, nonexistent ${median(times.nonexistent)} ms`);
  });
});

describe('the paths that tell how far a room goes', () => {
  it('never tell a non-member a private room\'s head: a watch leaves it out, a read marker is not_found', async () => {
    const { url, wsUrl } = await startTestServer();
    const owner = await signUp(url, 'Olga');
    const outsider = await signUp(url, 'Nina');
    const { body: info } = await http<RoomInfo>(url, 'POST', '/api/rooms', { cookie: owner, json: { title: 'Plans' } });
    for (const text of ['one', 'two']) await http(url, 'POST', `/api/rooms/${info.room}/messages`, { cookie: owner, json: { clientId: newClientId(), text } });
    const epoch = (await http<{ epoch: string }>(url, 'GET', `/api/rooms/${info.room}/messages`, { cookie: owner })).body.epoch;

    const socket = await TestSocket.open(wsUrl, outsider);
    socket.send({ type: 'watch', rooms: [info.room, newRoomId(), 'town'] });
    const heads = await socket.next((f): f is Extract<ServerFrame, { type: 'heads' }> => f.type === 'heads');
    expect(heads.heads).toEqual([{ room: 'town', seq: 0 }]);
    const asOwner = await TestSocket.open(wsUrl, owner);
    asOwner.send({ type: 'watch', rooms: [info.room] });
    expect((await asOwner.next((f): f is Extract<ServerFrame, { type: 'heads' }> => f.type === 'heads')).heads).toEqual([{ room: info.room, seq: 2 }]);

    const marker = (room: string) => http(url, 'PUT', `/api/rooms/${room}/read`, { cookie: outsider, json: { seq: 1000, epoch } });
    const [member, nonexistent] = [await marker(info.room), await marker(newRoomId())];
    expect({ status: member.status, body: member.body }).toEqual({ status: nonexistent.status, body: nonexistent.body });
    expect(member.status).toBe(404);
  });
});

describe("a private room's files", () => {
  it('are served to members, and to anyone else answer as a file that does not exist', async () => {
    const { url } = await startTestServer();
    const owner = await signUp(url, 'Olga');
    const outsider = await signUp(url, 'Nina');
    const { body: info } = await http<RoomInfo>(url, 'POST', '/api/rooms', { cookie: owner, json: { title: 'Plans' } });
    const upload = await http<{ file: { id: string } }>(url, 'POST', `/api/rooms/${info.room}/files?name=plan.txt`, {
      cookie: owner,
      raw: 'the plan',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(upload.status).toBe(201);
    const sent = await http(url, 'POST', `/api/rooms/${info.room}/messages`, { cookie: owner, json: { clientId: newClientId(), text: 'the plan', files: [upload.body.file.id] } });
    expect(sent.status).toBe(201);
    expect((await http(url, 'GET', `/files/${upload.body.file.id}/plan.txt`, { cookie: owner })).status).toBe(200);
    const asOutsider = await http(url, 'GET', `/files/${upload.body.file.id}/plan.txt`, { cookie: outsider });
    const unknown = await http(url, 'GET', `/files/${'A'.repeat(22)}/plan.txt`, { cookie: outsider });
    expect({ status: asOutsider.status, body: asOutsider.body }).toEqual({ status: unknown.status, body: unknown.body });
    expect(asOutsider.status).toBe(404);
  });
});
