// In-process fan-out. The store's feed hands every new message to the hub; the hub serializes it once
// and gives the same bytes to every socket and every waiting long-poll of that room.
import type { ChatMessage, ServerFrame, WaitResponse } from './protocol';
import type { MessageStore } from './store/store';

/** A message with its wire encodings, made once for all readers. */
export class EncodedMessage {
  private frameBytes: Buffer | undefined;
  private waitBytes: Buffer | undefined;
  constructor(
    readonly message: ChatMessage,
    private readonly epoch: string,
  ) {}

  /** The WebSocket `message` frame. */
  get frame(): Buffer {
    this.frameBytes ??= Buffer.from(JSON.stringify({ type: 'message', message: this.message } satisfies ServerFrame));
    return this.frameBytes;
  }

  /** The body of a /wait answer to a reader whose cursor is just before this message. */
  get waitBody(): Buffer {
    const { room } = this.message;
    this.waitBytes ??= Buffer.from(
      JSON.stringify({ type: 'messages', room, epoch: this.epoch, messages: [this.message] } satisfies WaitResponse),
    );
    return this.waitBytes;
  }
}

/** A live reader of a room, such as one WebSocket subscription. */
export interface RoomReader {
  deliver(encoded: EncodedMessage): void;
}

/** A long-poll request holding for the message after `after`. */
export interface Waiter {
  readonly room: string;
  readonly after: number;
  readonly deadline: number;
  /** Called once: with the message that arrived, or with undefined at the deadline or on shutdown. */
  readonly answer: (arrived: EncodedMessage | undefined) => void;
}

interface Room {
  readers: Set<RoomReader>;
  waiters: Set<Waiter>;
}

export class Hub {
  private readonly rooms = new Map<string, Room>();
  private readonly stopFeed: () => void;
  /** One timer for every waiter's deadline, instead of one timer per request. */
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(store: MessageStore, sweepIntervalMs = 250) {
    this.stopFeed = store.onAppend((message) => this.publish(new EncodedMessage(message, store.epoch)));
    this.sweepTimer = setInterval(() => this.expireWaiters(Date.now()), sweepIntervalMs);
    this.sweepTimer.unref();
  }

  join(room: string, reader: RoomReader): void {
    this.room(room).readers.add(reader);
  }

  leave(room: string, reader: RoomReader): void {
    const entry = this.rooms.get(room);
    entry?.readers.delete(reader);
    this.forgetIfEmpty(room);
  }

  addWaiter(waiter: Waiter): void {
    this.room(waiter.room).waiters.add(waiter);
  }

  removeWaiter(waiter: Waiter): void {
    this.rooms.get(waiter.room)?.waiters.delete(waiter);
    this.forgetIfEmpty(waiter.room);
  }

  /** How many readers and waiters a room has now. */
  audience(room: string): { readers: number; waiters: number } {
    const entry = this.rooms.get(room);
    return { readers: entry?.readers.size ?? 0, waiters: entry?.waiters.size ?? 0 };
  }

  /** Answers every waiter (empty) and stops the feed: the server is going away. */
  close(): void {
    this.stopFeed();
    clearInterval(this.sweepTimer);
    for (const entry of this.rooms.values()) {
      for (const waiter of entry.waiters) waiter.answer(undefined);
    }
    this.rooms.clear();
  }

  private publish(encoded: EncodedMessage): void {
    const entry = this.rooms.get(encoded.message.room);
    if (!entry) return;
    for (const reader of entry.readers) reader.deliver(encoded);
    this.wakeWaiters(entry, encoded);
    this.forgetIfEmpty(encoded.message.room);
  }

  /**
   * Answers the waiters whose cursor is just before this message with it. A waiter further behind
   * (a message reached it out of order) is answered empty, so that it asks again and reads the store.
   */
  private wakeWaiters(entry: Room, encoded: EncodedMessage): void {
    const { seq } = encoded.message;
    for (const waiter of entry.waiters) {
      if (waiter.after >= seq) continue;
      entry.waiters.delete(waiter);
      waiter.answer(waiter.after === seq - 1 ? encoded : undefined);
    }
  }

  private expireWaiters(now: number): void {
    for (const [name, entry] of this.rooms) {
      for (const waiter of entry.waiters) {
        if (waiter.deadline <= now) {
          entry.waiters.delete(waiter);
          waiter.answer(undefined);
        }
      }
      this.forgetIfEmpty(name);
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

  private forgetIfEmpty(name: string): void {
    const entry = this.rooms.get(name);
    if (entry && entry.readers.size === 0 && entry.waiters.size === 0) this.rooms.delete(name);
  }
}
