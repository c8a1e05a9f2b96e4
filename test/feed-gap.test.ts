// A feed that misses messages (a MongoDB change stream lost and reopened from now, a wiped log) must not
// cost a reader a message: over a real server, a WebSocket reader is never sent a run with a hole before
// it, reads what the feed missed from the store, gets a reset when the log was wiped, and a held long-poll
// is answered so that it reads the store. The store is the real embedded one behind a feed that drops
// what it is told to, the way a lost change stream does.
import { describe, expect, it } from 'vitest';
import type { ChatMessage, WaitResponse } from '../server/protocol';
import { openEmbeddedStore } from '../server/store/embedded';
import type { AppendListener, AppendResult, FeedGap, FeedGapListener, NewMessage, Store } from '../server/store/store';
import { autoCleanup, createSession, http, ofType, seqs, startTestServer, subscribedSocket, TestSocket } from './helpers';

autoCleanup();

/** A real store whose feed hands on nothing of the next `dropNext` messages, and reports gaps on demand. */
class LossyFeedStore implements Store {
  dropNext = 0;
  /** Set to pretend the log was wiped under the server (what a new epoch after a dropped database means). */
  epochOverride: string | undefined;
  private readonly gapListeners = new Set<FeedGapListener>();

  constructor(private readonly inner: Store) {}

  get accounts() {
    return this.inner.accounts;
  }
  get rooms() {
    return this.inner.rooms;
  }
  get files() {
    return this.inner.files;
  }

  get search() {
    return this.inner.search;
  }
  get kind() {
    return this.inner.kind;
  }
  get epoch() {
    return this.epochOverride ?? this.inner.epoch;
  }
  append(message: NewMessage): Promise<AppendResult> {
    return this.inner.append(message);
  }
  readAfter(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    return this.inner.readAfter(room, after, limit);
  }
  readBefore(room: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
    return this.inner.readBefore(room, before, limit);
  }
  async head(room: string): Promise<number> {
    return this.epochOverride ? 0 : this.inner.head(room);
  }
  async byClientId(room: string, clientId: string): Promise<ChatMessage | undefined> {
    return this.epochOverride ? undefined : this.inner.byClientId(room, clientId);
  }
  removeRoomLog(room: string): Promise<number> {
    return this.inner.removeRoomLog(room);
  }
  privateRoomsWithLogs(after: string | undefined, limit: number): Promise<string[]> {
    return this.inner.privateRoomsWithLogs(after, limit);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  onAppend(listener: AppendListener): () => void {
    return this.inner.onAppend((messages) => {
      const kept = messages.filter(() => (this.dropNext > 0 ? (this.dropNext--, false) : true));
      if (kept.length > 0) listener(kept);
    });
  }
  onFeedGap(listener: FeedGapListener): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }
  /** What the MongoDB store does when its change stream stops, or is open again after losing its position. */
  gap(gap: FeedGap): void {
    for (const listener of this.gapListeners) listener(gap);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function start(env: Record<string, string> = {}) {
  let store: LossyFeedStore | undefined;
  const server = await startTestServer(env, undefined, (dir) => (store = new LossyFeedStore(openEmbeddedStore(dir))));
  const sender = await TestSocket.open(server.wsUrl, await createSession(server.url, 'Sender'));
  return { ...server, store: store!, sender };
}

describe('a feed with gaps', () => {
  it('never sends a WebSocket reader a run past a hole: it reads the missed message from the store first', async () => {
    const { wsUrl, store, sender } = await start();
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    await sender.sendMessage('lobby', 'one');
    store.dropNext = 1;
    await sender.sendMessage('lobby', 'two, missed by the feed');
    await sender.sendMessage('lobby', 'three');
    const got = await reader.messagesUntil('lobby', 3);
    expect(seqs(got)).toEqual([1, 2, 3]);
    expect(got.map((m) => m.text)).toEqual(['one', 'two, missed by the feed', 'three']);
  });

  it('brings a live reader what the feed missed as soon as the store reports the gap, with nothing sent after it', async () => {
    const { wsUrl, store, sender } = await start();
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    await sender.sendMessage('lobby', 'one');
    expect(seqs(await reader.messagesUntil('lobby', 1))).toEqual([1]);
    store.dropNext = 2;
    await sender.sendMessage('lobby', 'two');
    await sender.sendMessage('lobby', 'three');
    store.gap('missed');
    expect(seqs(await reader.messagesUntil('lobby', 3))).toEqual([2, 3]);
    // Live again afterwards: the next message comes once.
    await sender.sendMessage('lobby', 'four');
    expect(seqs(await reader.messagesUntil('lobby', 4))).toEqual([4]);
    await reader.roundTrip();
    expect(reader.remainingMessages()).toEqual([]);
  });

  it('gives a live reader a reset when the log was wiped under it (a new epoch)', async () => {
    const { wsUrl, store, sender } = await start();
    const { socket: reader } = await subscribedSocket(wsUrl, 'lobby', { after: 0 });
    await sender.sendMessage('lobby', 'one');
    expect(seqs(await reader.messagesUntil('lobby', 1))).toEqual([1]);
    store.epochOverride = 'wiped-and-new';
    store.gap('missed');
    expect(await reader.next(ofType('reset'))).toMatchObject({ room: 'lobby', reason: 'epoch', epoch: 'wiped-and-new' });
  });

  it('answers a long-poll held on the hub when the feed stops, so that the next one reads the store', async () => {
    const { url, store, sender } = await start({ WAIT_TIMEOUT_MS: '29000' });
    await sender.sendMessage('lobby', 'one');
    const first = await http<WaitResponse>(url, 'GET', '/wait?room=lobby&after=0');
    expect(first.body).toMatchObject({ type: 'messages', messages: [{ seq: 1 }] });
    // Caught up with what the hub last published, this one waits on the hub without reading the store.
    const held = http<WaitResponse>(url, 'GET', `/wait?room=lobby&after=1&epoch=${first.body.epoch}`);
    const heldSeqs = held.then((answer) => (answer.body.type === 'messages' ? seqs(answer.body.messages) : answer.body.type));
    store.dropNext = 1;
    await sender.sendMessage('lobby', 'two, missed by the feed');
    store.gap('stopped');
    expect(await heldSeqs).toEqual([]);
    const next = await http<WaitResponse>(url, 'GET', `/wait?room=lobby&after=1&epoch=${first.body.epoch}`);
    expect(next.body).toMatchObject({ type: 'messages', messages: [{ seq: 2, text: 'two, missed by the feed' }] });
  });
});
