// What a page's sidebar needs of the rooms it is not reading: how far each has gone (its head), pushed as it
// moves, so that unread counts change when a message comes rather than at the next poll. One per socket that
// asks (the `watch` frame); each watched room has a reader in the hub that only notes the head.
import type { EncodedBatch, Hub, RoomReader } from './hub';
import type { RoomHead, ServerFrame } from './protocol';
import type { RoomReader as RoomAccessReader } from './rooms/rooms';
import type { MessageStore } from './store/store';

/** Heads that moved go out together, at most this often per socket: a busy room costs one frame a second. */
export const HEADS_EVERY_MS = 1000;

/**
 * Who reads the heads: the rooms domain ends a watch of a room its person can no longer read (left, removed,
 * banned), as it ends their subscriptions, so that a head never tells them of the room's traffic again.
 */
export interface HeadWatcher {
  userId: string;
  rooms: {
    watch(room: string, userId: string, reader: RoomAccessReader): void;
    unwatch(room: string, userId: string, reader: RoomAccessReader): void;
  };
}

/** A hub reader that notes the run's last seq and hands nothing to the client itself. */
class HeadReader implements RoomReader, RoomAccessReader {
  constructor(
    private readonly room: string,
    private readonly watch: HeadWatch,
  ) {}

  /** Its person can no longer read the room: it leaves the watch without a word (a sidebar drops the room itself). */
  accessEnded(): void {
    this.watch.drop(this.room);
  }

  deliver(batch: EncodedBatch): number {
    this.watch.moved(this.room, batch.last);
    return 0;
  }

  deliverEvent(): void {
    // Who is here and who is typing is for the readers of the room, not for a sidebar.
  }

  resync(): void {
    // The feed may have missed a run: the head is read from the store.
    this.watch.moved(this.room, undefined);
  }
}

export class HeadWatch {
  private readonly readers = new Map<string, HeadReader>();
  /** Rooms whose head moved since the last frame: to the seq the feed said, or undefined to read it from the store. */
  private pending = new Map<string, number | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly hub: Hub,
    private readonly store: MessageStore,
    private readonly send: (frame: ServerFrame) => void,
    /** Who watches, when signed in (a reader without a session reads no private room). */
    private readonly watcher?: HeadWatcher,
  ) {}

  /** Watches exactly `rooms` from now on, and sends the head of each at once. */
  set(rooms: readonly string[]): void {
    const wanted = new Set(rooms);
    for (const room of this.readers.keys()) if (!wanted.has(room)) this.drop(room);
    for (const room of wanted) {
      if (!this.readers.has(room)) {
        const reader = new HeadReader(room, this);
        this.readers.set(room, reader);
        this.hub.join(room, reader);
        this.watcher?.rooms.watch(room, this.watcher.userId, reader);
      }
      this.pending.set(room, undefined);
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.flush();
  }

  /** The room's head moved (to `seq`, or somewhere the store knows): goes out with the next frame. */
  moved(room: string, seq: number | undefined): void {
    if (!this.readers.has(room)) return;
    // A head to be read from the store stays so; two seqs from the feed make the greater.
    const readFromStore = seq === undefined || (this.pending.has(room) && this.pending.get(room) === undefined);
    this.pending.set(room, readFromStore ? undefined : Math.max(seq, this.pending.get(room) ?? 0));
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, HEADS_EVERY_MS);
  }

  /** Stops watching `room`: no head of it goes out from now on, not even one pending. */
  drop(room: string): void {
    const reader = this.readers.get(room);
    if (!reader) return;
    this.hub.leave(room, reader);
    this.watcher?.rooms.unwatch(room, this.watcher.userId, reader);
    this.readers.delete(room);
    this.pending.delete(room);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const room of [...this.readers.keys()]) this.drop(room);
  }

  private async flush(): Promise<void> {
    const due = [...this.pending];
    this.pending = new Map();
    if (due.length === 0) return;
    try {
      const heads: RoomHead[] = await Promise.all(due.map(async ([room, seq]) => ({ room, seq: seq ?? (await this.store.head(room)) })));
      if (!this.closed) this.send({ type: 'heads', heads: heads.filter(({ room }) => this.readers.has(room)) });
    } catch {
      // The store did not answer: these heads go out with the next frame.
      for (const [room] of due) if (!this.pending.has(room)) this.moved(room, undefined);
    }
  }
}
