// The hub on its own, fed by a tiny in-memory MessageStore (a fake of our interface, not of any driver).
import { afterEach, describe, expect, it } from 'vitest';
import { Hub, type EncodedMessage, type RoomReader, type Waiter } from '../server/hub';
import type { ChatMessage } from '../server/protocol';
import type { AppendListener, AppendResult, MessageStore } from '../server/store/store';
import { withTimeout } from './helpers';

class FakeStore implements MessageStore {
  readonly kind = 'embedded';
  readonly epoch = 'fake-epoch';
  readonly listeners = new Set<AppendListener>();
  append(): Promise<AppendResult> {
    throw new Error('the hub never writes to the store');
  }
  readAfter(): Promise<ChatMessage[]> {
    throw new Error('the hub never reads the store');
  }
  readBefore(): Promise<ChatMessage[]> {
    throw new Error('the hub never reads the store');
  }
  head(): Promise<number> {
    throw new Error('the hub never reads the store');
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** What the store's feed does when it has stored a message. */
  emit(room: string, seq: number): ChatMessage {
    const message: ChatMessage = { room, seq, clientId: `client-${room}-${seq}`, author: 'alice', text: `#${seq}`, at: 1 };
    for (const listener of this.listeners) listener(message);
    return message;
  }
}

class Reader implements RoomReader {
  readonly got: EncodedMessage[] = [];
  deliver(encoded: EncodedMessage): void {
    this.got.push(encoded);
  }
}

function waiter(room: string, after: number, deadline = Date.now() + 60_000) {
  const answers: (EncodedMessage | undefined)[] = [];
  let settle: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => (settle = resolve));
  const w: Waiter = {
    room,
    after,
    deadline,
    answer: (arrived) => {
      answers.push(arrived);
      settle();
    },
  };
  return { waiter: w, answers, answered };
}

describe('Hub', () => {
  let store: FakeStore;
  let hub: Hub;
  const make = (sweepMs?: number) => {
    store = new FakeStore();
    hub = new Hub(store, sweepMs);
    return { store, hub };
  };
  afterEach(() => hub.close());

  it('serializes a message once and hands the same bytes to every reader of its room', () => {
    make();
    const readers = Array.from({ length: 5 }, () => new Reader());
    for (const reader of readers) hub.join('lobby', reader);
    const message = store.emit('lobby', 1);
    const frames = readers.map((reader) => {
      expect(reader.got).toHaveLength(1);
      return reader.got[0]?.frame;
    });
    const first = frames[0];
    expect(first).toBeInstanceOf(Buffer);
    for (const frame of frames) expect(frame).toBe(first); // the same Buffer instance, not an equal copy
    expect(JSON.parse(first?.toString() ?? '')).toEqual({ type: 'message', message });
  });

  it('gives every waiter of a message the same body, with the store epoch', () => {
    make();
    const a = waiter('lobby', 0);
    const b = waiter('lobby', 0);
    hub.addWaiter(a.waiter);
    hub.addWaiter(b.waiter);
    const message = store.emit('lobby', 1);
    expect(a.answers).toHaveLength(1);
    expect(a.answers[0]?.waitBody).toBe(b.answers[0]?.waitBody);
    expect(JSON.parse(a.answers[0]?.waitBody.toString() ?? '')).toEqual({
      type: 'messages',
      room: 'lobby',
      epoch: 'fake-epoch',
      messages: [message],
    });
  });

  it('delivers only to readers of the message room, and stops after leave', () => {
    make();
    const inA = new Reader();
    const inB = new Reader();
    hub.join('a', inA);
    hub.join('b', inB);
    store.emit('a', 1);
    store.emit('b', 1);
    store.emit('a', 2);
    expect(inA.got.map((e) => `${e.message.room}${e.message.seq}`)).toEqual(['a1', 'a2']);
    expect(inB.got.map((e) => `${e.message.room}${e.message.seq}`)).toEqual(['b1']);
    hub.leave('a', inA);
    store.emit('a', 3);
    expect(inA.got).toHaveLength(2);
    expect(hub.audience('a')).toEqual({ readers: 0, waiters: 0 });
    expect(hub.audience('b')).toEqual({ readers: 1, waiters: 0 });
  });

  it('answers a waiter once: with the next message, or empty when it was further behind', () => {
    make();
    const next = waiter('lobby', 4);
    const behind = waiter('lobby', 2);
    const ahead = waiter('lobby', 5);
    const elsewhere = waiter('other', 4);
    for (const w of [next, behind, ahead, elsewhere]) hub.addWaiter(w.waiter);
    store.emit('lobby', 5);
    expect(next.answers.map((a) => a?.message.seq)).toEqual([5]);
    expect(behind.answers).toEqual([undefined]);
    expect(ahead.answers).toEqual([]);
    expect(elsewhere.answers).toEqual([]);
    store.emit('lobby', 6);
    expect(next.answers).toHaveLength(1); // answered waiters are gone
    expect(behind.answers).toHaveLength(1);
    expect(ahead.answers.map((a) => a?.message.seq)).toEqual([6]);
    expect(hub.audience('lobby')).toEqual({ readers: 0, waiters: 0 });
    expect(hub.audience('other')).toEqual({ readers: 0, waiters: 1 });
  });

  it('answers a waiter empty at its deadline, and only once', async () => {
    make(10);
    const soon = waiter('lobby', 0, Date.now() + 30);
    const later = waiter('lobby', 0, Date.now() + 60_000);
    hub.addWaiter(soon.waiter);
    hub.addWaiter(later.waiter);
    await withTimeout(soon.answered, 2000, 'the deadline sweep');
    expect(soon.answers).toEqual([undefined]);
    expect(later.answers).toEqual([]);
    store.emit('lobby', 1);
    expect(soon.answers).toEqual([undefined]);
    expect(later.answers.map((a) => a?.message.seq)).toEqual([1]);
  });

  it('does not answer a removed waiter', () => {
    make();
    const w = waiter('lobby', 0);
    hub.addWaiter(w.waiter);
    hub.removeWaiter(w.waiter);
    store.emit('lobby', 1);
    expect(w.answers).toEqual([]);
    expect(hub.audience('lobby')).toEqual({ readers: 0, waiters: 0 });
  });

  it('on close answers every waiter empty, once, and stops the feed', () => {
    make();
    const reader = new Reader();
    hub.join('lobby', reader);
    const waiters = [waiter('lobby', 0), waiter('other', 3)];
    for (const w of waiters) hub.addWaiter(w.waiter);
    hub.close();
    for (const w of waiters) expect(w.answers).toEqual([undefined]);
    expect(store.listeners.size).toBe(0);
    store.emit('lobby', 1);
    expect(reader.got).toEqual([]);
    for (const w of waiters) expect(w.answers).toHaveLength(1);
  });
});
