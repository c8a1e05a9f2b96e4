// Delivery under pressure, over a real server: a reader that stops reading is closed with 4008 instead of
// holding the room in memory, and resumes from its cursor with exactly the rest; a dead peer is dropped
// within a bounded time.
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CloseCode } from '../server/protocol';
import { autoCleanup, createSession, newClientId, ofType, range, seqs, startTestServer, subscribedSocket, TestSocket, withTimeout } from './helpers';

autoCleanup();

/** The TCP socket under a `ws` client: pausing it makes a reader that has stopped reading. */
function tcpOf(socket: TestSocket): Socket {
  return (socket.ws as unknown as { _socket: Socket })._socket;
}

describe('slow readers', () => {
  it('closes a reader that stops reading with 4008 once its buffer passes MAX_BUFFERED_BYTES; it resumes from its cursor with exactly the rest', async () => {
    const { url, wsUrl } = await startTestServer({ MAX_BUFFERED_BYTES: '65536', MAX_REPLAY: '100000' });
    const cookie = await createSession(url, 'Flooder');
    const { socket: slow } = await subscribedSocket(wsUrl, 'flood', { after: 0 });
    const { socket: fast } = await subscribedSocket(wsUrl, 'flood', { after: 0 });
    const sender = await TestSocket.open(wsUrl, cookie);
    tcpOf(slow).pause();

    // About 12 MB, in batches that a reader keeping up takes in at once (the bound is small): more than the
    // kernel buffers of a paused loopback connection hold, so the server's own buffer for the slow socket
    // has to grow past the bound.
    const total = 3000;
    const batch = 10;
    const text = 'x'.repeat(4000);
    for (let sent = 0; sent < total; sent += batch) {
      const acks = Array.from({ length: batch }, () => {
        const clientId = newClientId();
        sender.send({ type: 'send', room: 'flood', clientId, text });
        return sender.next(ofType('ack', (f) => f.clientId === clientId));
      });
      await Promise.all(acks);
    }

    // The reader that keeps up gets everything, in order, once.
    expect(seqs(await fast.messagesUntil('flood', total, 30_000))).toEqual(range(1, total));

    // The slow one, reading again, finds a prefix of the room and then the 4008 close.
    tcpOf(slow).resume();
    const closed = await withTimeout(slow.closed, 10_000, 'the slow reader to be closed');
    expect(closed.code).toBe(CloseCode.slowReader);
    const got = slow.remainingMessages();
    const last = got.at(-1)?.seq ?? 0;
    expect(seqs(got)).toEqual(range(1, last));
    expect(last).toBeLessThan(total); // it was cut off, not served the whole flood
    console.log(`slow reader: closed with ${closed.code} after seq ${last} of ${total}; resumed from ${last}`);

    // Reconnecting from its cursor gives exactly what it missed: no gap, no repeat. A replay larger than half
    // the bound comes in parts: `subscribed` with the first messages, `messages` frames with the rest.
    const { socket: again, subscribed } = await subscribedSocket(wsUrl, 'flood', { after: last, epoch: undefined });
    const firstPart = seqs(subscribed.messages);
    expect(firstPart.length).toBeLessThan(total - last);
    const rest = seqs(await again.messagesUntil('flood', total));
    expect([...firstPart, ...rest]).toEqual(range(last + 1, total));
    await again.roundTrip();
    expect(again.remainingMessages()).toEqual([]);
  }, 60_000);
});

describe('heartbeat', () => {
  it('drops a peer that answers no pings within two to three HEARTBEAT_MS, and keeps one that does', async () => {
    const heartbeatMs = 300;
    const { wsUrl } = await startTestServer({ HEARTBEAT_MS: String(heartbeatMs) });
    const answering = await TestSocket.open(wsUrl);
    answering.send({ type: 'subscribe', room: 'lobby', after: 0 });
    const opened = Date.now();
    const dead = await TestSocket.open(wsUrl, undefined, { autoPong: false });
    dead.send({ type: 'subscribe', room: 'lobby', after: 0 });
    const dropped = await withTimeout(dead.closed, 10 * heartbeatMs, 'the dead peer to be dropped');
    const took = Date.now() - opened;
    expect(dropped.code).toBe(1006); // terminated: no closing handshake with a dead peer
    // A sweep pings, the next finds no pong and cuts: at most two intervals after opening (plus timer slack).
    expect(took).toBeGreaterThanOrEqual(heartbeatMs - 50);
    expect(took).toBeLessThan(3 * heartbeatMs + 500);
    expect(answering.ws.readyState).toBe(answering.ws.OPEN);
    await answering.roundTrip();
  });
});
