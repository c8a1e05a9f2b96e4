// The WebSocket session (server/handlers/socket.ts) over a real server and real sockets: sends and
// acks, fan-out, replay-then-live under concurrent sends, resets, rooms kept apart, and bad input.
import { describe, expect, it } from 'vitest';
import { ErrorCode, type ChatMessage } from '../server/protocol';
import {
  autoCleanup,
  createSession,
  history,
  http,
  newClientId,
  ofType,
  range,
  seqs,
  startTestServer,
  subscribedSocket,
  TestSocket,
  type FrameOf,
} from './helpers';

autoCleanup();

describe('sending over WebSocket', () => {
  it('acks with the stored message and its seq, the author stamped from the session', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url, 'Alice');
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    const sender = await TestSocket.open(wsUrl, cookie);

    const first = await sender.sendMessage('lobby', 'hello, world', 'client-id-0001');
    expect(first).toEqual({
      type: 'ack',
      clientId: 'client-id-0001',
      message: { room: 'lobby', seq: 1, clientId: 'client-id-0001', author: 'Alice', text: 'hello, world', at: expect.any(Number) },
    });
    const second = await sender.sendMessage('lobby', 'again');
    expect(second.message.seq).toBe(2);

    const stored = (await history(url, 'lobby')).messages;
    expect(stored).toEqual([first.message, second.message]);
    expect(await reader.messagesUntil('lobby', 2)).toEqual([first.message, second.message]);
  });

  it('answers a resend of the same clientId with the original, delivered once', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url);
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    const sender = await TestSocket.open(wsUrl, cookie);
    const original = await sender.sendMessage('lobby', 'once', 'retried-id-1');
    const resend = await sender.sendMessage('lobby', 'once (retry)', 'retried-id-1');
    expect(resend.message).toEqual(original.message);
    const after = await sender.sendMessage('lobby', 'next');
    expect(after.message.seq).toBe(2);
    expect(seqs(await reader.messagesUntil('lobby', 2))).toEqual([1, 2]);
    await reader.roundTrip();
    expect(reader.remainingMessages()).toEqual([]);
  });

  it('rejects an author or nick in the frame (strict schema): the session names the author', async () => {
    const { url, wsUrl } = await startTestServer();
    const sender = await TestSocket.open(wsUrl, await createSession(url, 'alice'));
    for (const extra of [{ author: 'mallory' }, { nick: 'mallory' }]) {
      const clientId = newClientId();
      sender.send({ type: 'send', room: 'lobby', clientId, text: 'spoofed', ...extra });
      const error = await sender.next(ofType('error'));
      expect(error).toMatchObject({ code: ErrorCode.invalidFrame, clientId, room: 'lobby', retryable: false });
      expect(error.message).toMatch(/author|nick|unrecognized/i);
    }
    expect((await history(url, 'lobby')).messages).toEqual([]);
    const ok = await sender.sendMessage('lobby', 'honest');
    expect(ok.message.author).toBe('alice');
  });

  it('answers a send without a session with error unauthenticated, and stores nothing', async () => {
    const { url, wsUrl } = await startTestServer();
    const anonymous = await TestSocket.open(wsUrl);
    anonymous.send({ type: 'send', room: 'lobby', clientId: 'anon-client-1', text: 'hi' });
    const error = await anonymous.next(ofType('error'));
    expect(error).toMatchObject({ code: ErrorCode.unauthenticated, clientId: 'anon-client-1', room: 'lobby', retryable: false });
    // A forged cookie is no session either.
    const forged = await TestSocket.open(wsUrl, 'parley_session=eyJuaWNrIjoibWFsbG9yeSJ9.AAAA');
    forged.send({ type: 'send', room: 'lobby', clientId: 'anon-client-2', text: 'hi' });
    expect(await forged.next(ofType('error'))).toMatchObject({ code: ErrorCode.unauthenticated });
    expect((await history(url, 'lobby')).messages).toEqual([]);
    // Reading needs no session.
    const read = await anonymous.subscribe('lobby', 0);
    expect(read.type).toBe('subscribed');
  });

  it('refuses a text longer than MAX_TEXT_LENGTH with too_large, counting characters not UTF-16 units', async () => {
    const { url, wsUrl } = await startTestServer({ MAX_TEXT_LENGTH: '10' });
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    await expect(sender.sendMessage('lobby', '🙂'.repeat(10))).resolves.toMatchObject({ type: 'ack' });
    sender.send({ type: 'send', room: 'lobby', clientId: 'too-long-01', text: 'x'.repeat(11) });
    expect(await sender.next(ofType('error'))).toMatchObject({ code: ErrorCode.tooLarge, clientId: 'too-long-01' });
  });
});

describe('fan-out', () => {
  it('gives each of 50 subscribers of a room every message once, in seq order', async () => {
    const { url, wsUrl } = await startTestServer();
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    const subscribers = await Promise.all(range(1, 50).map(() => subscribedSocket(wsUrl, 'crowd', { after: 0 })));
    const COUNT = 20;
    const acks: FrameOf<'ack'>[] = [];
    for (let i = 1; i <= COUNT; i++) acks.push(await sender.sendMessage('crowd', `message ${i}`));
    const sent = acks.map((a) => a.message);
    expect(seqs(sent)).toEqual(range(1, COUNT));
    await Promise.all(
      subscribers.map(async ({ socket }) => {
        expect(await socket.messagesUntil('crowd', COUNT)).toEqual(sent);
        await socket.roundTrip();
        expect(socket.remainingMessages()).toEqual([]);
      }),
    );
  });
});

describe('replay, then live', () => {
  it('gives readers subscribing mid-stream exactly cursor+1 .. head, in order, under concurrent sends', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url);
    const room = 'busy';
    const SENDERS = 4;
    const PER_SENDER = 60;
    const senders = await Promise.all(range(1, SENDERS).map(() => TestSocket.open(wsUrl, cookie)));
    const { subscribed: start } = await subscribedSocket(wsUrl, room, { after: 0 });
    const epoch = start.epoch;

    interface Reader {
      cursor: number | undefined;
      socket: TestSocket;
      replayed: ChatMessage[];
    }
    const readers: Promise<Reader>[] = [];
    let stored = 0; // the highest seq acked so far: every seq up to it is in the store
    const addReader = (cursor: number | undefined): void => {
      readers.push(
        subscribedSocket(wsUrl, room, cursor === undefined ? {} : { after: cursor, epoch }).then(({ socket, subscribed }) => ({
          cursor,
          socket,
          replayed: subscribed.messages,
        })),
      );
    };

    await Promise.all(
      senders.map(async (sender, k) => {
        for (let i = 0; i < PER_SENDER; i++) {
          const ack = await sender.sendMessage(room, `sender ${k} message ${i}`);
          stored = Math.max(stored, ack.message.seq);
          if (k === 0 && i % 5 === 0) {
            // Cursors all over the log: at the head, just behind it, far behind, from the start, none.
            const choices = [stored, stored - 1, stored - 17, Math.floor(stored / 2), 0, undefined];
            const cursor = choices[(i / 5) % choices.length];
            addReader(cursor === undefined ? undefined : Math.max(0, cursor));
          }
        }
      }),
    );
    const head = SENDERS * PER_SENDER;
    expect(stored).toBe(head);
    expect(readers.length).toBe(12);

    let replayedThenLive = 0;
    for (const reader of await Promise.all(readers)) {
      const { cursor, socket, replayed } = reader;
      const last = replayed.at(-1)?.seq ?? cursor ?? 0;
      const live = last === head ? [] : await socket.messagesUntil(room, head);
      if (replayed.length > 0 && live.length > 0) replayedThenLive++;
      await socket.roundTrip();
      const got = [...seqs(replayed), ...seqs(live), ...seqs(socket.remainingMessages())];
      const from = cursor === undefined ? (replayed[0]?.seq ?? 1) : cursor + 1;
      expect({ cursor, got }).toEqual({ cursor, got: range(from, head) });
    }
    // The readers did join while the senders were still sending: some got a replay and then live messages.
    expect(replayedThenLive).toBeGreaterThan(0);
    // What readers got is what the store holds.
    const all = (await http<{ messages: ChatMessage[] }>(url, 'GET', `/api/rooms/${room}/messages?limit=200`)).body.messages;
    expect(seqs(all)).toEqual(range(head - 199, head));
  });

  it('replays from a cursor after a reconnect: nothing missed, nothing twice', async () => {
    const { url, wsUrl } = await startTestServer();
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    const { socket: first, subscribed } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    for (let i = 1; i <= 3; i++) await sender.sendMessage('lobby', `before ${i}`);
    const seen = await first.messagesUntil('lobby', 3);
    await first.close();
    for (let i = 4; i <= 6; i++) await sender.sendMessage('lobby', `while away ${i}`);
    const { socket: again, subscribed: resumed } = await subscribedSocket(wsUrl, 'lobby', { after: 3, epoch: subscribed.epoch });
    expect(seqs(resumed.messages)).toEqual([4, 5, 6]);
    expect(resumed.hasOlder).toBe(true);
    await sender.sendMessage('lobby', 'live 7');
    expect(seqs(await again.messagesUntil('lobby', 7))).toEqual([7]);
    expect(seqs(seen)).toEqual([1, 2, 3]);
  });

  it('starts a subscription without a cursor from the latest page, then live', async () => {
    const { url, wsUrl } = await startTestServer({ HISTORY_PAGE_SIZE: '5' });
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    for (let i = 1; i <= 8; i++) await sender.sendMessage('lobby', `m${i}`);
    const { socket, subscribed } = await subscribedSocket(wsUrl, 'lobby');
    expect(seqs(subscribed.messages)).toEqual([4, 5, 6, 7, 8]);
    expect(subscribed.hasOlder).toBe(true);
    await sender.sendMessage('lobby', 'm9');
    expect(seqs(await socket.messagesUntil('lobby', 9))).toEqual([9]);
    const empty = await subscribedSocket(wsUrl, 'empty');
    expect(empty.subscribed).toMatchObject({ messages: [], hasOlder: false });
  });

  it('stops delivering a room after unsubscribe', async () => {
    const { url, wsUrl } = await startTestServer();
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    const { socket } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    await sender.sendMessage('lobby', 'one');
    await socket.messagesUntil('lobby', 1);
    socket.send({ type: 'unsubscribe', room: 'lobby' });
    await socket.roundTrip();
    await sender.sendMessage('lobby', 'two');
    await socket.roundTrip();
    expect(socket.remainingMessages()).toEqual([]);
  });
});

describe('resets over WebSocket', () => {
  it('resets a cursor ahead of the head, from another epoch, or further behind than MAX_REPLAY', async () => {
    const { url, wsUrl } = await startTestServer({ MAX_REPLAY: '5' });
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    for (let i = 1; i <= 10; i++) await sender.sendMessage('lobby', `m${i}`);
    const epoch = (await history(url, 'lobby')).epoch;
    const socket = await TestSocket.open(wsUrl);

    expect(await socket.subscribe('lobby', 11, epoch)).toEqual({ type: 'reset', room: 'lobby', epoch, reason: 'ahead' });
    expect(await socket.subscribe('lobby', 8, 'an-older-epoch')).toEqual({ type: 'reset', room: 'lobby', epoch, reason: 'epoch' });
    expect(await socket.subscribe('lobby', 4, epoch)).toEqual({ type: 'reset', room: 'lobby', epoch, reason: 'behind' });
    // A reset room is not subscribed: nothing of it is delivered.
    await sender.sendMessage('lobby', 'm11');
    await socket.roundTrip();
    expect(socket.remainingMessages()).toEqual([]);

    // At the edges the cursor is served: exactly MAX_REPLAY behind, and at the head.
    const edge = await socket.subscribe('lobby', 6, epoch);
    expect(edge.type === 'subscribed' && seqs(edge.messages)).toEqual([7, 8, 9, 10, 11]);
    const atHead = await socket.subscribe('lobby', 11, epoch);
    expect(atHead).toMatchObject({ type: 'subscribed', messages: [] });
    // Subscribing again without a cursor is how a client recovers from a reset.
    const fresh = await socket.subscribe('lobby');
    expect(fresh.type).toBe('subscribed');
  });
});

describe('rooms', () => {
  it('keeps two rooms apart: own seqs, own subscribers', async () => {
    const { url, wsUrl } = await startTestServer();
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    const { socket: inA } = await subscribedSocket(wsUrl, 'room-a', { after: 0 });
    const { socket: inB } = await subscribedSocket(wsUrl, 'room-b', { after: 0 });
    const a1 = await sender.sendMessage('room-a', 'for a');
    const a2 = await sender.sendMessage('room-a', 'for a again');
    const b1 = await sender.sendMessage('room-b', 'for b');
    expect([a1.message.seq, a2.message.seq, b1.message.seq]).toEqual([1, 2, 1]);
    expect(await inA.messagesUntil('room-a', 2)).toEqual([a1.message, a2.message]);
    expect(await inB.messagesUntil('room-b', 1)).toEqual([b1.message]);
    await Promise.all([inA.roundTrip(), inB.roundTrip()]);
    expect(inA.remainingMessages()).toEqual([]);
    expect(inB.remainingMessages()).toEqual([]);
  });

  it('serves several rooms on one socket', async () => {
    const { url, wsUrl } = await startTestServer();
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    const socket = await TestSocket.open(wsUrl);
    await socket.subscribe('one', 0);
    await socket.subscribe('two', 0);
    await sender.sendMessage('two', 'to two');
    await sender.sendMessage('one', 'to one');
    expect((await socket.messagesUntil('one', 1)).map((m) => m.text)).toEqual(['to one']);
    expect((await socket.messagesUntil('two', 1)).map((m) => m.text)).toEqual(['to two']);
  });

  it('lets one socket follow at most MAX_ROOMS_PER_SOCKET rooms, and another once it leaves one', async () => {
    const { url, wsUrl } = await startTestServer({ MAX_ROOMS_PER_SOCKET: '3' });
    const sender = await TestSocket.open(wsUrl, await createSession(url));
    const socket = await TestSocket.open(wsUrl);
    for (const room of ['one', 'two', 'three']) expect((await socket.subscribe(room, 0)).type).toBe('subscribed');
    expect((await socket.subscribe('two', 0)).type).toBe('subscribed'); // again: still three rooms
    socket.send({ type: 'subscribe', room: 'four', after: 0 });
    const refused = await socket.next(ofType('error'));
    expect(refused).toMatchObject({ code: ErrorCode.tooLarge, room: 'four', retryable: false });
    expect(refused.message).toContain('at most 3 rooms');
    await sender.sendMessage('four', 'not for this socket');
    await sender.sendMessage('three', 'to three');
    expect((await socket.messagesUntil('three', 1)).map((m) => m.text)).toEqual(['to three']);
    socket.send({ type: 'unsubscribe', room: 'one' });
    const four = await socket.subscribe('four', 0);
    // It was not following 'four': the message comes in the replay, not live before it.
    expect(four.type === 'subscribed' && four.messages.map((m) => m.text)).toEqual(['not for this socket']);
    await socket.roundTrip();
    expect(socket.remainingMessages()).toEqual([]);
  });
});

describe('bad input', () => {
  it('answers bad frames with error frames and keeps the socket usable', async () => {
    const { url, wsUrl } = await startTestServer();
    const socket = await TestSocket.open(wsUrl, await createSession(url));
    const cases: { send: () => void; code: string; names?: { clientId?: string; room?: string } }[] = [
      { send: () => socket.sendRaw('{not json'), code: ErrorCode.invalidJson },
      { send: () => socket.sendRaw(''), code: ErrorCode.invalidJson },
      { send: () => socket.sendRaw(Buffer.from(JSON.stringify({ type: 'ping' })), true), code: ErrorCode.invalidFrame },
      { send: () => socket.sendRaw('"just a string"'), code: ErrorCode.invalidFrame },
      { send: () => socket.sendRaw('null'), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ type: 'dance' }), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ room: 'lobby' }), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ type: 'subscribe' }), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ type: 'subscribe', room: 'Not A Room' }), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ type: 'subscribe', room: 'lobby', after: -1 }), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ type: 'subscribe', room: 'lobby', after: 1.5 }), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ type: 'send', room: 'lobby', text: 'no client id' }), code: ErrorCode.invalidFrame },
      { send: () => socket.send({ type: 'send', room: 'lobby', clientId: 'short', text: 'x' }), code: ErrorCode.invalidFrame },
      // A refused send names its clientId, so that the client knows which message was refused.
      {
        send: () => socket.send({ type: 'send', room: 'lobby', clientId: 'client-id-x', text: '   ' }),
        code: ErrorCode.invalidFrame,
        names: { clientId: 'client-id-x', room: 'lobby' },
      },
      {
        send: () => socket.send({ type: 'send', room: 'lobby', clientId: 'client-id-y' }),
        code: ErrorCode.invalidFrame,
        names: { clientId: 'client-id-y', room: 'lobby' },
      },
    ];
    for (const { send, code, names } of cases) {
      send();
      const error = await socket.next(ofType('error'));
      expect(error).toMatchObject({ type: 'error', code, retryable: false, ...names });
      expect(error.message.length).toBeGreaterThan(0);
    }
    // Still usable: ping, subscribe, send.
    await socket.roundTrip();
    expect((await socket.subscribe('lobby', 0)).type).toBe('subscribed');
    const ack = await socket.sendMessage('lobby', 'still here');
    expect(ack.message.seq).toBe(1);
    // After `subscribed`: who is in the room, then the message (and nothing else: no stray answer).
    expect(socket.frames.remaining()).toEqual([
      { type: 'people', room: 'lobby', present: ['alice'], presentCount: 1, typing: [], guests: 0 },
      { type: 'messages', room: 'lobby', messages: [ack.message] },
    ]);
  });

  it('closes a socket that sends a frame over MAX_FRAME_BYTES with 1009, and keeps serving others', async () => {
    const { url, wsUrl } = await startTestServer({ MAX_FRAME_BYTES: '2048', MAX_TEXT_LENGTH: '100' });
    const cookie = await createSession(url);
    const bystander = await TestSocket.open(wsUrl, cookie);
    await bystander.subscribe('lobby', 0);
    const offender = await TestSocket.open(wsUrl, cookie);
    offender.send({ type: 'send', room: 'lobby', clientId: 'oversize-01', text: 'x'.repeat(3000) });
    expect((await offender.closed).code).toBe(1009);
    // The server keeps serving: the other socket, new sockets and HTTP.
    const ack = await bystander.sendMessage('lobby', 'still up');
    expect(ack.message.seq).toBe(1);
    const newcomer = await TestSocket.open(wsUrl, cookie);
    await newcomer.roundTrip();
    expect((await http(url, 'GET', '/healthz')).status).toBe(200);
  });

  it('drops a socket that stops answering pings, and keeps one that answers', async () => {
    // Not much shorter: a busy test machine must still answer a ping within one interval.
    const { wsUrl } = await startTestServer({ HEARTBEAT_MS: '400' });
    const answering = await TestSocket.open(wsUrl);
    const silent = await TestSocket.open(wsUrl, undefined, { autoPong: false });
    const dropped = await silent.closed;
    expect(dropped.code).toBe(1006); // terminated: no closing handshake with a dead peer
    expect(answering.ws.readyState).toBe(answering.ws.OPEN);
    await answering.roundTrip();
  });

  it('refuses upgrades on other paths', async () => {
    const { url } = await startTestServer();
    const wrong = `${url.replace(/^http/, 'ws')}/not-the-socket`;
    await expect(TestSocket.open(wrong)).rejects.toThrow();
  });
});
