// A restart of the server on the same DATA_DIR: the log, its epoch and the sessions survive, and every
// cursor a client held before resumes with nothing missed and nothing twice.
import { describe, expect, it } from 'vitest';
import type { SendResponse, SessionResponse, WaitResponse } from '../server/protocol';
import { autoCleanup, createSession, history, http, postMessage, range, seqs, startTestServer, subscribedSocket, TestSocket } from './helpers';

autoCleanup();

describe('restart on the same DATA_DIR', () => {
  it('keeps history, epoch and session cookies; cursors resume across it', async () => {
    const first = await startTestServer();
    const cookie = await createSession(first.url, 'carol');
    const sender = await TestSocket.open(first.wsUrl, cookie);
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push((await sender.sendMessage('lobby', `before restart ${i}`)).message);
    const other = (await sender.sendMessage('other', 'in another room')).message;
    const before = await history(first.url, 'lobby');
    expect(before.messages).toEqual(sent);
    const { socket: reader } = await subscribedSocket(first.wsUrl, 'lobby', { after: 5, epoch: before.epoch });

    await first.close();
    expect((await reader.closed).code).toBe(1001);
    await expect(http(first.url, 'GET', '/healthz')).rejects.toThrow();

    const second = await startTestServer({}, first.dataDir);
    const after = await history(second.url, 'lobby');
    expect(after.epoch).toBe(before.epoch);
    expect(after.messages).toEqual(sent);
    expect((await history(second.url, 'other')).messages).toEqual([other]);

    // The session cookie from before still names carol: the secret is kept in DATA_DIR.
    const session = await http<SessionResponse>(second.url, 'GET', '/api/session', { cookie });
    expect(session.status).toBe(200);
    expect(session.body.nick).toBe('carol');

    // A resend of a message stored before the restart is still the original.
    const resent = await postMessage<SendResponse>(second.url, 'lobby', { clientId: sent[2]?.clientId, text: 'retry' }, cookie);
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({ duplicate: true, message: sent[2] });

    // The reader reconnects with its cursor and epoch: no reset, and what came meanwhile.
    const next = await postMessage<SendResponse>(second.url, 'lobby', { clientId: 'after-restart-1', text: 'after restart' }, cookie);
    expect(next.status).toBe(201);
    expect(next.body.message).toMatchObject({ seq: 6, author: 'carol' });
    const { socket: again, subscribed } = await subscribedSocket(second.wsUrl, 'lobby', { after: 5, epoch: before.epoch });
    expect(subscribed.messages).toEqual([next.body.message]);
    const wait = await http<WaitResponse>(second.url, 'GET', `/wait?room=lobby&after=3&epoch=${before.epoch}`);
    expect(wait.body.type === 'messages' && seqs(wait.body.messages)).toEqual([4, 5, 6]);

    const sender2 = await TestSocket.open(second.wsUrl, cookie);
    const live = await sender2.sendMessage('lobby', 'live after restart');
    expect(live.message.seq).toBe(7);
    expect(await again.messagesUntil('lobby', 7)).toEqual([live.message]);
    expect(seqs((await history(second.url, 'lobby')).messages)).toEqual(range(1, 7));
  });

  it('gives a wiped DATA_DIR a new epoch, so old cursors get a reset instead of a silent skip', async () => {
    const first = await startTestServer();
    const cookie = await createSession(first.url);
    for (let i = 1; i <= 3; i++) await postMessage(first.url, 'lobby', { clientId: `wiped-${i}-abc`, text: `${i}` }, cookie);
    const { epoch } = await history(first.url, 'lobby');
    await first.close();

    const fresh = await startTestServer();
    const freshEpoch = (await history(fresh.url, 'lobby')).epoch;
    expect(freshEpoch).not.toBe(epoch);
    const socket = await TestSocket.open(fresh.wsUrl);
    expect(await socket.subscribe('lobby', 3, epoch)).toEqual({ type: 'reset', room: 'lobby', epoch: freshEpoch, reason: 'epoch' });
    const wait = await http<WaitResponse>(fresh.url, 'GET', `/wait?room=lobby&after=3&epoch=${epoch}`);
    expect(wait.body).toEqual({ type: 'reset', room: 'lobby', epoch: freshEpoch, reason: 'epoch' });
  });
});
