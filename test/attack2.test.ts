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
