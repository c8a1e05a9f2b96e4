// In-process fan-out. The store's feed hands new messages to the hub, those written together at once;
// the hub serializes each room's run of them once and gives the same bytes to every socket and every
// waiting long-poll of that room: one write per reader per group commit, not one per message. A long-poll
// answer costs a whole HTTP round trip per reader, so a room's waiting long-polls are answered at most once
// per LONGPOLL_BATCH_MS: the first message after a quiet spell at once, a burst's in one answer each.
import type { ChatMessage, ServerFrame, WaitResponse } from './protocol';
import type { Metrics } from './metrics';
import type { FeedGap, MessageStore } from './store/store';

/**
 * A run of a room's messages with consecutive seqs (those stored together), with its WebSocket frame, made
 * once for all readers.
 */
export class EncodedBatch {
  readonly room: string;
  /** The seq of the first and the last message of the run. */
  readonly first: number;
  readonly last: number;
  private frameBytes: Buffer | undefined;

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

/** The /wait bodies a window keeps, each for one cursor. */
const MAX_CACHED_BODIES = 4;

/**
 * The messages of a room a long-poll can be answered with from memory, with consecutive seqs: the last run
 * published, or, while the room's waiters are held back (LONGPOLL_BATCH_MS), every run since they were last
 * answered. Each /wait body is encoded once per cursor, for every reader at that cursor.
 */
class WaitWindow {
  /** The epoch of the log the window's messages belong to. */
  readonly epoch: string;
  private readonly messages: ChatMessage[];
  /** The batches the window holds: their frames measure it, encoded only when a held window asks. */
  private readonly batches: EncodedBatch[];
  private readonly bodies = new Map<number, Buffer>();

  constructor(batch: EncodedBatch) {
    this.epoch = batch.epoch;
    this.messages = [...batch.messages];
    this.batches = [batch];
  }

  /** About the bytes of JSON the window's messages take (their WebSocket frames'). */
  get bytes(): number {
    return this.batches.reduce((sum, batch) => sum + batch.frame.length, 0);
  }

  get first(): number {
    return this.messages[0]!.seq;
  }

  get last(): number {
    return this.messages[this.messages.length - 1]!.seq;
  }

  /** Adds the batch that follows the window; false when it does not (a gap: the window cannot hold it). */
  extend(batch: EncodedBatch): boolean {
    if (batch.first !== this.last + 1) return false;
    this.messages.push(...batch.messages);
    this.batches.push(batch);
    this.bodies.clear();
    return true;
  }

  /**
   * The body of a /wait answer to a reader at `after`: what follows it, when `after` lies just before or
   * inside the window; undefined when it is further behind (it must read the store: the window does not
   * hold what came before it) or holds the whole window already.
   */
  bodyAfter(room: string, after: number): Buffer | undefined {
    if (after < this.first - 1 || after >= this.last) return undefined;
    let body = this.bodies.get(after);
    if (!body) {
      body = encodeWaitBody(room, this.epoch, this.messages.slice(after - this.first + 1));
      // The cursors readers share (the window's start, where the last answers ended) are few; a client
      // asking from every cursor in turn would otherwise have the room keep a tail for each.
      if (this.bodies.size < MAX_CACHED_BODIES) this.bodies.set(after, body);
    }
    return body;
  }
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
   * What the room's long-polls can be answered with from memory (see WaitWindow): those that ask again just
   * behind it, those it holds back, and those that hold it all, which wait without reading the store.
   */
  window?: WaitWindow;
  /**
   * When the room's waiters were last answered by a publish (performance.now(), ms: a monotonic clock, so
   * that a wall clock stepping back holds nothing): the next may not come before LONGPOLL_BATCH_MS.
   */
  wokenAt: number;
  /** Set while the room's waiters are held back: it answers them at wokenAt + LONGPOLL_BATCH_MS. */
  wakeTimer?: NodeJS.Timeout;
}

/** How the hub answers long-polls (see the Hub's constructor). */
export interface LongPollBatching {
  /** LONGPOLL_BATCH_MS: a room's waiting long-polls are answered at most once per this many ms (0: on every publish). */
  batchMs: number;
  /** MAX_BUFFERED_BYTES: messages held back that reach this many bytes are answered at once, a full answer. */
  maxHeldBytes: number;
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
    private readonly longPoll: LongPollBatching = { batchMs: 0, maxHeldBytes: Number.POSITIVE_INFINITY },
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
   * The /wait body for a reader at `after` from what the hub holds of the room (its WaitWindow), when
   * `after` lies just before or inside it: a long-poll asking again right after its answer, while the next
   * messages were being published. The same bytes for each such reader, and no read of the store. Undefined
   * when the hub cannot answer (a cursor further behind, or nothing newer than it here).
   */
  latestAfter(room: string, after: number): { body: Buffer; count: number } | undefined {
    const window = this.rooms.get(room)?.window;
    const body = window?.bodyAfter(room, after);
    return window && body ? { body, count: window.last - after } : undefined;
  }

  /**
   * Whether what the hub holds of the room ends at `after`: a long-poll there may wait without
   * reading the store, since whatever is stored next reaches it through the hub. False when the hub
   * does not know (nothing published lately, or a cursor ahead of the hub, read from the store).
   */
  caughtUp(room: string, after: number): boolean {
    return this.rooms.get(room)?.window?.last === after;
  }

  /**
   * Whether the room's answer held back for LONGPOLL_BATCH_MS will reach a long-poll at `after` (it lies
   * within what is held): the long-poll waits for it rather than being answered now, so that in a burst each
   * reader gets one answer per interval, however quickly it asks again.
   */
  answersSoon(room: string, after: number): boolean {
    const entry = this.rooms.get(room);
    return entry?.wakeTimer !== undefined && entry.window !== undefined && after >= entry.window.first - 1 && after < entry.window.last;
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
      clearTimeout(entry.wakeTimer);
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
      let delivered = 0;
      for (const reader of entry.readers) delivered += reader.deliver(batch);
      this.offerWaiters(entry, batch);
      if (this.metrics) {
        // Counted once per batch, not once per reader.
        this.metrics.delivered('websocket', delivered);
        const now = Date.now();
        for (const message of run) this.metrics.fannedOut((now - message.at) / 1000);
      }
    }
  }

  /**
   * A run for the room's long-polls: answered now, or, when the room's waiters were answered less than
   * LONGPOLL_BATCH_MS ago, gathered with what follows until then, so that a burst costs each reader one
   * round trip per LONGPOLL_BATCH_MS rather than one per commit. A quiet room's first message goes at once.
   */
  private offerWaiters(entry: Room, batch: EncodedBatch): void {
    // A run the hub has had already (a MongoDB change stream that reopened replays what it handed on): nothing
    // new for the long-polls, and the room still ends where it did.
    if (entry.window && entry.window.epoch === batch.epoch && batch.last <= entry.window.last) return;
    if (entry.wakeTimer && entry.window) {
      // Held messages and the run together within an answer's bytes: gathered. Else (a gap in the feed's
      // seqs, or an answer full) what was gathered goes now, and the run starts the next window.
      const fits = entry.window.bytes + batch.frame.length <= this.longPoll.maxHeldBytes;
      if (fits && entry.window.extend(batch)) return;
      this.wakeWaiters(entry);
    }
    entry.window = new WaitWindow(batch);
    if (entry.waiters.size === 0) return;
    const wait = Math.min(this.longPoll.batchMs, entry.wokenAt + this.longPoll.batchMs - performance.now());
    if (wait <= 0) this.wakeWaiters(entry);
    else entry.wakeTimer = setTimeout(() => this.wakeWaiters(entry), wait);
  }

  /**
   * Answers, in one pass, the waiters whose cursor is before the end of the room's window: with what follows
   * their cursor, or empty when their cursor is behind the window's start (they ask again and read the
   * store). Waiters at or past its end keep waiting.
   */
  private wakeWaiters(entry: Room): void {
    clearTimeout(entry.wakeTimer);
    entry.wakeTimer = undefined;
    entry.wokenAt = performance.now();
    const window = entry.window;
    if (!window) return;
    let delivered = 0;
    for (const waiter of entry.waiters) {
      if (waiter.after >= window.last) continue;
      entry.waiters.delete(waiter);
      const body = window.bodyAfter(waiter.room, waiter.after);
      if (body) delivered += window.last - waiter.after;
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
      clearTimeout(entry.wakeTimer);
      entry.wakeTimer = undefined;
      entry.window = undefined;
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
      if (entry.readers.size === 0 && entry.waiters.size === 0 && !entry.wakeTimer) this.rooms.delete(name);
    }
  }

  private room(name: string): Room {
    let entry = this.rooms.get(name);
    if (!entry) {
      entry = { readers: new Set(), waiters: new Set(), wokenAt: Number.NEGATIVE_INFINITY };
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
