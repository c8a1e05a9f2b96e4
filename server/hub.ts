// In-process fan-out. The store's feed hands new messages to the hub, those written together at once;
// the hub serializes each room's run of them once and gives the same bytes to every socket and every
// waiting long-poll of that room: one write per reader per group commit, not one per message.
import type { ChatMessage, ServerFrame, WaitResponse } from './protocol';
import type { Metrics } from './metrics';
import type { FeedGap, MessageStore } from './store/store';

/**
 * A run of a room's messages with consecutive seqs (those stored together), with its wire encodings,
 * made once for all readers.
 */
export class EncodedBatch {
  readonly room: string;
  /** The seq of the first and the last message of the run. */
  readonly first: number;
  readonly last: number;
  private frameBytes: Buffer | undefined;
  private waitBytes: Buffer | undefined;

  constructor(
    readonly messages: readonly ChatMessage[],
    /** The epoch of the log the run belongs to. */
    readonly epoch: string,
  ) {
    const [head] = messages;
    if (!head) throw new Error('an EncodedBatch holds at least one message');
    this.room = head.room;
    this.first = head.seq;
    this.last = head.seq + messages.length - 1;
  }

  /** The WebSocket `messages` frame for a reader whose cursor is just before the run. */
  get frame(): Buffer {
    this.frameBytes ??= encodeFrame(this.room, this.messages);
    return this.frameBytes;
  }

  /**
   * Whether a reader at `after` can take the run without a hole: it holds everything before the run's
   * first message. A reader further behind must read the gap from the store (the feed missed it).
   */
  continues(after: number): boolean {
    return after >= this.first - 1;
  }

  /**
   * The frame for a reader at `after`: the shared bytes when it is just before the run, the tail past
   * it when it already holds the run's start (a replay overlapped), undefined when it holds it all, or
   * when it is further behind (see `continues`): a reader is never handed a run with a hole before it.
   */
  frameAfter(after: number): Buffer | undefined {
    if (!this.continues(after) || after >= this.last) return undefined;
    if (after === this.first - 1) return this.frame;
    return encodeFrame(this.room, this.tailAfter(after));
  }

  /**
   * The body of a /wait answer to a reader at `after`: the shared bytes when it is just before the run,
   * the tail when it is inside it, undefined when it is further behind (it must read the store: the hub
   * does not hold what came before the run) or holds the whole run already.
   */
  waitBodyAfter(after: number): Buffer | undefined {
    if (after < this.first - 1 || after >= this.last) return undefined;
    if (after === this.first - 1) {
      this.waitBytes ??= encodeWaitBody(this.room, this.epoch, this.messages);
      return this.waitBytes;
    }
    return encodeWaitBody(this.room, this.epoch, this.tailAfter(after));
  }

  /** The run's messages after seq `after` (which lies inside the run). */
  private tailAfter(after: number): readonly ChatMessage[] {
    return this.messages.slice(after - this.first + 1);
  }
}

function encodeFrame(room: string, messages: readonly ChatMessage[]): Buffer {
  return Buffer.from(JSON.stringify({ type: 'messages', room, messages: [...messages] } satisfies ServerFrame));
}

function encodeWaitBody(room: string, epoch: string, messages: readonly ChatMessage[]): Buffer {
  return Buffer.from(JSON.stringify({ type: 'messages', room, epoch, messages: [...messages] } satisfies WaitResponse));
}

/** A live reader of a room, such as one WebSocket subscription. */
export interface RoomReader {
  /** Hands over a batch; returns how many of its messages went out to the reader now (for the metrics). */
  deliver(batch: EncodedBatch): number;
  /** An ephemeral frame (who is here, who is typing): sent if the reader is live, else dropped. */
  deliverEvent(frame: Buffer): void;
  /** The feed may have missed messages (or the log was wiped): read from the store what follows the cursor. */
  resync(): void;
}

/** A long-poll request holding for the messages after `after`. */
export interface Waiter {
  readonly room: string;
  readonly after: number;
  readonly deadline: number;
  /**
   * Called once: with the /wait body holding what arrived after the cursor, or with undefined at the
   * deadline, on shutdown, or when the cursor is behind what arrived (the waiter then reads the store).
   */
  readonly answer: (body: Buffer | undefined) => void;
}

interface Room {
  readers: Set<RoomReader>;
  waiters: Set<Waiter>;
  /**
   * The last batch published to this room, kept to answer the long-polls that ask again just behind it,
   * and to let those that hold it all wait without reading the store.
   */
  latest?: EncodedBatch;
}

export class Hub {
  private readonly rooms = new Map<string, Room>();
  private readonly stopFeed: () => void;
  private readonly stopGaps: () => void;
  /**
   * One timer for every waiter's deadline, instead of one timer per request. The same sweep forgets the
   * rooms nobody reads or waits on: not at once, since a long-poll room is empty between each answer and
   * the request that follows it, and that request needs the room's latest batch.
   */
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly store: MessageStore,
    sweepIntervalMs = 250,
    /** Counts deliveries and fan-out latency, when given. */
    private readonly metrics?: Metrics,
  ) {
    this.stopFeed = store.onAppend((messages) => this.publish(messages));
    this.stopGaps = store.onFeedGap((gap) => this.feedGap(gap));
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), sweepIntervalMs);
    this.sweepTimer.unref();
  }

  join(room: string, reader: RoomReader): void {
    this.room(room).readers.add(reader);
  }

  leave(room: string, reader: RoomReader): void {
    this.rooms.get(room)?.readers.delete(reader);
  }

  addWaiter(waiter: Waiter): void {
    this.room(waiter.room).waiters.add(waiter);
  }

  removeWaiter(waiter: Waiter): void {
    this.rooms.get(waiter.room)?.waiters.delete(waiter);
  }

  /** Hands an ephemeral frame, encoded once, to every live reader of the room. */
  broadcast(room: string, frame: Buffer): void {
    const entry = this.rooms.get(room);
    if (!entry) return;
    for (const reader of entry.readers) reader.deliverEvent(frame);
  }

  /**
   * The /wait body for a reader at `after` from the last batch published to the room, when `after` lies
   * just before or inside it: a long-poll asking again right after its answer, while the next messages
   * were being published. The same bytes for each such reader, and no read of the store. Undefined when
   * the hub cannot answer (a cursor further behind, or nothing newer than it here).
   */
  latestAfter(room: string, after: number): { body: Buffer; count: number } | undefined {
    const latest = this.rooms.get(room)?.latest;
    const body = latest?.waitBodyAfter(after);
    return latest && body ? { body, count: latest.last - after } : undefined;
  }

  /**
   * Whether the last batch published to the room ends at `after`: a long-poll there may wait without
   * reading the store, since whatever is stored next reaches it through the hub. False when the hub
   * does not know (nothing published lately, or a cursor ahead of the hub, read from the store).
   */
  caughtUp(room: string, after: number): boolean {
    return this.rooms.get(room)?.latest?.last === after;
  }

  /** How many /wait requests are held now, in every room. */
  waiting(): number {
    let count = 0;
    for (const entry of this.rooms.values()) count += entry.waiters.size;
    return count;
  }

  /** How many readers and waiters a room has now. */
  audience(room: string): { readers: number; waiters: number } {
    const entry = this.rooms.get(room);
    return { readers: entry?.readers.size ?? 0, waiters: entry?.waiters.size ?? 0 };
  }

  /** Answers every waiter (empty) and stops the feed: the server is going away. */
  close(): void {
    this.stopFeed();
    this.stopGaps();
    clearInterval(this.sweepTimer);
    for (const entry of this.rooms.values()) {
      for (const waiter of entry.waiters) waiter.answer(undefined);
    }
    this.rooms.clear();
  }

  /** Hands newly stored messages to their rooms' readers and waiters: one batch per run of seqs. */
  private publish(messages: readonly ChatMessage[]): void {
    for (const run of runs(messages)) {
      const entry = this.rooms.get(run[0]!.room);
      if (!entry) continue;
      const batch = new EncodedBatch(run, this.store.epoch);
      entry.latest = batch;
      let delivered = 0;
      for (const reader of entry.readers) delivered += reader.deliver(batch);
      this.wakeWaiters(entry, batch);
      if (this.metrics) {
        // Counted once per batch, not once per reader.
        this.metrics.delivered('websocket', delivered);
        const now = Date.now();
        for (const message of run) this.metrics.fannedOut((now - message.at) / 1000);
      }
    }
  }

  /**
   * Answers, in one pass, the waiters whose cursor is before the end of this batch: with what follows
   * their cursor, or empty when their cursor is behind the batch's start (they ask again and read the
   * store). Waiters at or past its end keep waiting.
   */
  private wakeWaiters(entry: Room, batch: EncodedBatch): void {
    let delivered = 0;
    for (const waiter of entry.waiters) {
      if (waiter.after >= batch.last) continue;
      entry.waiters.delete(waiter);
      const body = batch.waitBodyAfter(waiter.after);
      if (body) delivered += batch.last - waiter.after;
      waiter.answer(body);
    }
    this.metrics?.delivered('longpoll', delivered);
  }

  /**
   * A break in the feed: what the hub last published can no longer say a room ends there, so each waiter
   * is answered empty and asks again, reading the store. When the feed may have missed messages, each
   * reader also reads what follows its cursor from the store.
   */
  private feedGap(gap: FeedGap): void {
    for (const entry of this.rooms.values()) {
      entry.latest = undefined;
      for (const waiter of entry.waiters) {
        entry.waiters.delete(waiter);
        waiter.answer(undefined);
      }
      if (gap === 'missed') for (const reader of entry.readers) reader.resync();
    }
  }

  private sweep(now: number): void {
    for (const [name, entry] of this.rooms) {
      for (const waiter of entry.waiters) {
        if (waiter.deadline <= now) {
          entry.waiters.delete(waiter);
          waiter.answer(undefined);
        }
      }
      if (entry.readers.size === 0 && entry.waiters.size === 0) this.rooms.delete(name);
    }
  }

  private room(name: string): Room {
    let entry = this.rooms.get(name);
    if (!entry) {
      entry = { readers: new Set(), waiters: new Set() };
      this.rooms.set(name, entry);
    }
    return entry;
  }
}

/** Splits messages into runs of one room with consecutive seqs, keeping their order. */
function runs(messages: readonly ChatMessage[]): ChatMessage[][] {
  const out: ChatMessage[][] = [];
  const open = new Map<string, ChatMessage[]>();
  for (const message of messages) {
    const run = open.get(message.room);
    if (run && run[run.length - 1]!.seq + 1 === message.seq) {
      run.push(message);
    } else {
      const fresh = [message];
      open.set(message.room, fresh);
      out.push(fresh);
    }
  }
  return out;
}
