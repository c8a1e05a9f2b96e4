// The hub on its own, fed by a tiny in-memory MessageStore (a fake of our interface, not of any driver).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Hub, type EncodedBatch, type LongPollBatching, type RoomReader, type Waiter } from '../server/hub';
import type { ChatMessage, WaitResponse } from '../server/protocol';
import type { AppendListener, AppendResult, FeedGap, FeedGapListener, MessageStore } from '../server/store/store';
import { withTimeout } from './helpers';

class FakeStore implements MessageStore {
  readonly kind = 'embedded';
  readonly epoch = 'fake-epoch';
  readonly listeners = new Set<AppendListener>();
  readonly gapListeners = new Set<FeedGapListener>();
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
  byClientId(): Promise<ChatMessage | undefined> {
    throw new Error('the hub never reads the store');
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  onFeedGap(listener: FeedGapListener): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** What the store does when its feed stops, or runs again after it may have missed messages. */
  gap(gap: FeedGap): void {
    for (const listener of this.gapListeners) listener(gap);
  }
  /** What the store's feed does when it has stored a message. */
  emit(room: string, seq: number): ChatMessage {
    return this.emitTogether([[room, seq]])[0]!;
  }
  /** What the feed does after a group commit: the messages written together, in one call. */
  emitTogether(stored: [room: string, seq: number][]): ChatMessage[] {
    const messages = stored.map(([room, seq]): ChatMessage => ({ room, seq, clientId: `client-${room}-${seq}`, author: 'alice', text: `#${seq}`, at: 1 }));
    for (const listener of this.listeners) listener(messages);
    return messages;
  }
}

class Reader implements RoomReader {
  readonly got: EncodedBatch[] = [];
  readonly events: Buffer[] = [];
  resyncs = 0;
  resync(): void {
    this.resyncs++;
  }
  deliver(batch: EncodedBatch): number {
    this.got.push(batch);
    return batch.messages.length;
  }
  deliverEvent(frame: Buffer): void {
    this.events.push(frame);
  }
  /** "room:first-last" for each batch delivered. */
  runs(): string[] {
    return this.got.map((batch) => `${batch.room}:${batch.first}-${batch.last}`);
  }
}

/** The seqs a /wait body holds (undefined for an empty answer). */
function seqsIn(body: Buffer | undefined): number[] | undefined {
  return body && (JSON.parse(body.toString()) as WaitResponse & { messages: ChatMessage[] }).messages.map((m) => m.seq);
}

function waiter(room: string, after: number, deadline = Date.now() + 60_000) {
  const answers: (Buffer | undefined)[] = [];
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
  const make = (sweepMs?: number, longPoll?: LongPollBatching) => {
    store = new FakeStore();
    hub = new Hub(store, sweepMs, undefined, longPoll);
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
    expect(JSON.parse(first?.toString() ?? '')).toEqual({ type: 'messages', room: 'lobby', messages: [message] });
  });

  it('gives every waiter of a message the same body, with the store epoch', () => {
    make();
    const a = waiter('lobby', 0);
    const b = waiter('lobby', 0);
    hub.addWaiter(a.waiter);
    hub.addWaiter(b.waiter);
    const message = store.emit('lobby', 1);
    expect(a.answers).toHaveLength(1);
    expect(a.answers[0]).toBe(b.answers[0]);
    expect(JSON.parse(a.answers[0]?.toString() ?? '')).toEqual({
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
    expect(inA.runs()).toEqual(['a:1-1', 'a:2-2']);
    expect(inB.runs()).toEqual(['b:1-1']);
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
    expect(next.answers.map(seqsIn)).toEqual([[5]]);
    expect(behind.answers).toEqual([undefined]);
    expect(ahead.answers).toEqual([]);
    expect(elsewhere.answers).toEqual([]);
    store.emit('lobby', 6);
    expect(next.answers).toHaveLength(1); // answered waiters are gone
    expect(behind.answers).toHaveLength(1);
    expect(ahead.answers.map(seqsIn)).toEqual([[6]]);
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
    expect(later.answers.map(seqsIn)).toEqual([[1]]);
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

  it('gives messages stored together to each reader as one frame, encoded once, split by room and by gaps', () => {
    make();
    const readers = [new Reader(), new Reader()];
    const other = new Reader();
    for (const reader of readers) hub.join('lobby', reader);
    hub.join('other', other);
    const stored = store.emitTogether([['lobby', 1], ['other', 7], ['lobby', 2], ['lobby', 3], ['lobby', 5]]);
    for (const reader of readers) expect(reader.runs()).toEqual(['lobby:1-3', 'lobby:5-5']);
    expect(readers[0]!.got[0]!.frame).toBe(readers[1]!.got[0]!.frame);
    expect(JSON.parse(readers[0]!.got[0]!.frame.toString())).toEqual({
      type: 'messages',
      room: 'lobby',
      messages: stored.filter((m) => m.room === 'lobby' && m.seq <= 3),
    });
    expect(other.runs()).toEqual(['other:7-7']);
  });

  it('sends a reader only what follows its cursor, and nothing when it holds the whole run', () => {
    make();
    const reader = new Reader();
    hub.join('lobby', reader);
    store.emitTogether([['lobby', 4], ['lobby', 5], ['lobby', 6]]);
    const [batch] = reader.got;
    const seqs = (frame: Buffer | undefined) => frame && (JSON.parse(frame.toString()) as { messages: ChatMessage[] }).messages.map((m) => m.seq);
    expect(batch!.frameAfter(3)).toBe(batch!.frame);
    expect(seqs(batch!.frameAfter(4))).toEqual([5, 6]);
    expect(seqs(batch!.frameAfter(5))).toEqual([6]);
    expect(batch!.frameAfter(6)).toBeUndefined();
  });

  it('never hands a reader behind a run a frame with a hole: it must read the gap from the store', () => {
    make();
    const reader = new Reader();
    hub.join('lobby', reader);
    store.emitTogether([['lobby', 5], ['lobby', 6], ['lobby', 7], ['lobby', 8]]);
    const [batch] = reader.got;
    expect(batch!.continues(4)).toBe(true);
    expect(batch!.continues(2)).toBe(false);
    // A reader at 2 is missing 3 and 4: a frame of 5-8 would move its cursor past them.
    expect(batch!.frameAfter(2)).toBeUndefined();
    expect(batch!.frameAfter(0)).toBeUndefined();
    expect(batch!.epoch).toBe(store.epoch);
  });

  it('when the feed stops, answers every waiter so that it reads the store, forgetting what it last published', () => {
    make();
    const [a, b] = [new Reader(), new Reader()];
    hub.join('lobby', a);
    hub.join('other', b);
    store.emitTogether([['lobby', 1], ['lobby', 2]]);
    expect(hub.caughtUp('lobby', 2)).toBe(true);
    const held = waiter('lobby', 2);
    hub.addWaiter(held.waiter);
    store.gap('stopped');
    // Readers stay as they are: nothing is known to be missed, and the store may be unreachable.
    expect([a.resyncs, b.resyncs]).toEqual([0, 0]);
    // Answered empty: it asks again and reads the store, since the hub no longer knows where the room ends.
    expect(held.answers).toEqual([undefined]);
    expect(hub.caughtUp('lobby', 2)).toBe(false);
    expect(hub.latestAfter('lobby', 1)).toBeUndefined();
  });

  it('when the feed runs again after it may have missed messages, has every reader resync and answers every waiter', () => {
    make();
    const [a, b] = [new Reader(), new Reader()];
    hub.join('lobby', a);
    hub.join('other', b);
    store.emitTogether([['lobby', 1]]);
    const held = waiter('lobby', 1);
    hub.addWaiter(held.waiter);
    store.gap('missed');
    expect([a.resyncs, b.resyncs]).toEqual([1, 1]);
    expect(held.answers).toEqual([undefined]);
    expect(hub.caughtUp('lobby', 1)).toBe(false);
  });

  it('answers each waiter of a run, in one pass, with what follows its own cursor', () => {
    make();
    const before = waiter('lobby', 3);
    const inside = waiter('lobby', 4);
    const behind = waiter('lobby', 1);
    const atEnd = waiter('lobby', 6);
    for (const w of [before, inside, behind, atEnd]) hub.addWaiter(w.waiter);
    store.emitTogether([['lobby', 4], ['lobby', 5], ['lobby', 6]]);
    expect(before.answers.map(seqsIn)).toEqual([[4, 5, 6]]);
    expect(inside.answers.map(seqsIn)).toEqual([[5, 6]]);
    expect(behind.answers).toEqual([undefined]); // it reads seqs 2-3 from the store when it asks again
    expect(atEnd.answers).toEqual([]);
  });

  it('answers a long-poll asking again just behind the last batch from it, and leaves the rest to the store', () => {
    make();
    hub.join('lobby', new Reader()); // someone follows the room, so the hub keeps it
    expect(hub.latestAfter('lobby', 3)).toBeUndefined(); // nothing published yet: the store answers
    store.emitTogether([['lobby', 4], ['lobby', 5], ['lobby', 6]]);
    const justBefore = hub.latestAfter('lobby', 3);
    expect(seqsIn(justBefore?.body)).toEqual([4, 5, 6]);
    expect(justBefore?.count).toBe(3);
    expect(hub.latestAfter('lobby', 3)?.body).toBe(justBefore?.body); // the same bytes for every such reader
    expect(seqsIn(hub.latestAfter('lobby', 5)?.body)).toEqual([6]);
    expect(hub.latestAfter('lobby', 2)).toBeUndefined(); // seq 3 is not in the hub: the store has it
    expect(hub.latestAfter('lobby', 6)).toBeUndefined(); // nothing newer: it waits
    expect(hub.latestAfter('other', 3)).toBeUndefined();
  });

  it('knows a long-poll room is caught up between its answers, and forgets the room at a sweep once nobody asks', async () => {
    make(10);
    expect(hub.caughtUp('lobby', 0)).toBe(false); // nothing published: the waiter must read the store
    const first = waiter('lobby', 3);
    hub.addWaiter(first.waiter);
    store.emitTogether([['lobby', 4], ['lobby', 5]]);
    expect(first.answers.map(seqsIn)).toEqual([[4, 5]]);
    // Its every waiter answered, the room is empty until they ask again: the hub still knows where it ends.
    expect(hub.audience('lobby')).toEqual({ readers: 0, waiters: 0 });
    expect(hub.caughtUp('lobby', 5)).toBe(true);
    expect(hub.caughtUp('lobby', 4)).toBe(false); // behind: the hub answers it (latestAfter)
    expect(hub.caughtUp('lobby', 6)).toBe(false); // ahead of the hub (read from the store): it reads again
    const again = waiter('lobby', 5);
    hub.addWaiter(again.waiter);
    store.emit('lobby', 6);
    expect(again.answers.map(seqsIn)).toEqual([[6]]);
    await withTimeout(
      (async () => {
        while (hub.caughtUp('lobby', 6)) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
      2000,
      'the sweep forgetting the empty room',
    );
    expect(hub.latestAfter('lobby', 5)).toBeUndefined();
  });

  it("keeps a room's end where it was when the feed hands on a run again (a change stream replaying)", () => {
    make();
    const reader = new Reader();
    hub.join('lobby', reader);
    store.emitTogether([['lobby', 1], ['lobby', 2], ['lobby', 3], ['lobby', 4], ['lobby', 5]]);
    const atEnd = waiter('lobby', 5);
    hub.addWaiter(atEnd.waiter);
    store.emitTogether([['lobby', 3], ['lobby', 4]]);
    expect(atEnd.answers).toEqual([]); // nothing new for it
    expect(hub.caughtUp('lobby', 5)).toBe(true);
    expect(hub.caughtUp('lobby', 4)).toBe(false); // seq 5 is stored: a reader at 4 gets it, it does not wait
    expect(seqsIn(hub.latestAfter('lobby', 4)?.body)).toEqual([5]);
    expect(reader.runs()).toEqual(['lobby:1-5', 'lobby:3-4']); // a socket drops what it holds (socket.ts)
  });

  it('broadcasts an ephemeral frame to the readers of its room only, as the same bytes', () => {
    make();
    const [a, b, other] = [new Reader(), new Reader(), new Reader()];
    hub.join('lobby', a);
    hub.join('lobby', b);
    hub.join('other', other);
    const frame = Buffer.from('{"type":"people"}');
    hub.broadcast('lobby', frame);
    hub.broadcast('empty', frame);
    expect(a.events).toEqual([frame]);
    expect(b.events[0]).toBe(frame);
    expect(other.events).toEqual([]);
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

  describe('with LONGPOLL_BATCH_MS', () => {
    const BATCH_MS = 40;
    const batching: LongPollBatching = { batchMs: BATCH_MS, maxHeldBytes: 1024 * 1024 };

    it("answers a quiet room's waiters at once, and a burst's once, together, when the interval is up", async () => {
      make(undefined, batching);
      const first = waiter('lobby', 0);
      hub.addWaiter(first.waiter);
      store.emit('lobby', 1);
      expect(first.answers.map(seqsIn)).toEqual([[1]]); // nothing answered lately: at once
      // The reader asks again at once; the next messages come before the interval is up.
      const again = waiter('lobby', 1);
      hub.addWaiter(again.waiter);
      const startedAt = Date.now();
      store.emit('lobby', 2);
      store.emitTogether([['lobby', 3], ['lobby', 4]]);
      expect(again.answers).toEqual([]); // held back
      // Meanwhile a reader asking again from within what is held waits for the same answer; the hub has
      // it in memory, for one further behind (it was answered from the store), and for what follows.
      expect(hub.answersSoon('lobby', 1)).toBe(true);
      expect(hub.answersSoon('lobby', 3)).toBe(true);
      expect(hub.answersSoon('lobby', 0)).toBe(false);
      expect(hub.answersSoon('lobby', 4)).toBe(false);
      expect(hub.caughtUp('lobby', 4)).toBe(true);
      expect(seqsIn(hub.latestAfter('lobby', 1)?.body)).toEqual([2, 3, 4]);
      await withTimeout(again.answered, 2000, 'the held-back answer');
      expect(again.answers.map(seqsIn)).toEqual([[2, 3, 4]]); // one answer, every message, in order
      expect(hub.answersSoon('lobby', 1)).toBe(false); // answered: a reader asking now is answered at once
      // Not before the interval since the first answer (the timer may fire a millisecond early).
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(BATCH_MS - 15);
    });

    it('answers what it held at once when the next run does not follow it, then holds that run', async () => {
      make(undefined, batching);
      const first = waiter('lobby', 0);
      hub.addWaiter(first.waiter);
      store.emit('lobby', 1);
      const held = waiter('lobby', 1);
      const further = waiter('lobby', 2);
      hub.addWaiter(held.waiter);
      hub.addWaiter(further.waiter);
      store.emit('lobby', 2);
      expect(held.answers).toEqual([]);
      store.emit('lobby', 5); // seqs 3-4 never reached the hub: a gap
      expect(held.answers.map(seqsIn)).toEqual([[2]]); // what was held, at once, without a hole
      expect(further.answers).toEqual([]); // 2 is its cursor: it waits for what comes after
      await withTimeout(further.answered, 2000, 'the run after the gap');
      expect(further.answers).toEqual([undefined]); // behind seq 5's run: it reads 3-4 from the store
    });

    it('answers at once a burst that fills an answer (MAX_BUFFERED_BYTES), without waiting for the interval', () => {
      make(undefined, { batchMs: BATCH_MS, maxHeldBytes: 10_000 });
      hub.addWaiter(waiter('lobby', 0).waiter);
      store.emit('lobby', 1);
      const held = waiter('lobby', 1);
      hub.addWaiter(held.waiter);
      // About 100 bytes of JSON each: 10,000 bytes are reached within a hundred messages.
      store.emitTogether(Array.from({ length: 50 }, (_, i): [string, number] => ['lobby', i + 2]));
      expect(held.answers).toEqual([]);
      for (let seq = 52; held.answers.length === 0 && seq < 200; seq++) store.emit('lobby', seq);
      const answered = seqsIn(held.answers[0]) ?? [];
      expect(answered[0]).toBe(2);
      expect(answered.length).toBeGreaterThan(50);
      expect(answered.length).toBeLessThan(150);
      // Answered before the run that would have taken it past the bound, not after (its envelope aside).
      expect(held.answers[0]!.length).toBeLessThanOrEqual(10_000 + 100);
    });

    it('holds nothing longer when the wall clock steps back (a long-poll room is timed on a monotonic clock)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        make(undefined, batching);
        hub.addWaiter(waiter('lobby', 0).waiter);
        store.emit('lobby', 1);
        vi.setSystemTime(Date.now() - 60_000); // an NTP step, a VM resumed
        const next = waiter('lobby', 1);
        hub.addWaiter(next.waiter);
        store.emit('lobby', 2);
        await withTimeout(next.answered, 2000, 'the answer held for the interval, not for the minute the clock went back');
        expect(next.answers.map(seqsIn)).toEqual([[2]]);
      } finally {
        vi.useRealTimers();
      }
    });

    /** A room answered just now, and a waiter the next message (seq 2) is held back for. */
    function holdingOne() {
      make(undefined, batching);
      hub.addWaiter(waiter('lobby', 0).waiter);
      store.emit('lobby', 1);
      const held = waiter('lobby', 1);
      hub.addWaiter(held.waiter);
      store.emit('lobby', 2);
      expect(held.answers).toEqual([]);
      return held;
    }

    it('when the feed stops while it holds messages, answers every waiter empty, once', async () => {
      const held = holdingOne();
      store.gap('stopped');
      expect(held.answers).toEqual([undefined]);
      expect(hub.latestAfter('lobby', 1)).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, BATCH_MS * 2)); // past when the held answer was due
      expect(held.answers).toEqual([undefined]);
    });

    it('on close answers every waiter empty, once, also those it held messages for', async () => {
      const held = holdingOne();
      hub.close();
      expect(held.answers).toEqual([undefined]);
      await new Promise((resolve) => setTimeout(resolve, BATCH_MS * 2));
      expect(held.answers).toEqual([undefined]);
    });
  });
});
