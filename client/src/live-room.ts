// One room as the page holds it: what it has been shown of the room's log (RoomView), the outbox of the
// messages on their way, and the connection that keeps both current. Plain TypeScript, no Preact: the page
// wraps it in a hook (use-room.ts), and the chaos test runs this very code in node against a server it kills.
import type { ChatMessage, FileAttachment, PeopleState, RoomHead, RoomRead } from '../../server/protocol';
import { applyChange } from '../../server/changes/apply';
import { ApiFailure, serverApi, type ServerApi } from './api';
import { RoomConnection, type ConnectionOptions, type ConnectionState, type RoomClosedReason } from './connection';
import { newClientId, Outbox, sendBody, type OutgoingMessage } from './outbox';
import { RoomView } from './room-view';

/** While the user types, the room hears "typing" at most this often (the server keeps it for 6 s). */
const TYPING_SIGNAL_MS = 3000;
/** Messages read one by one for reply quotes that the room keeps. */
const FETCHED_MESSAGES = 200;
/** Jumping to a message (a reply's quote) loads at most this many older pages to find it. */
const REVEAL_PAGES = 20;

export interface LiveRoomListener {
  /** Something shown changed: messages, outbox, connection state, people. */
  changed(): void;
  /** The server no longer knows this session (its data was wiped): pick the nickname again. */
  sessionLost(): void;
  /** The room cannot be read (left elsewhere, removed, banned, or not there for you): leave it. */
  roomClosed(reason: RoomClosedReason): void;
  /** Other rooms moved (the ones asked for with `watch`): for the sidebar. */
  heads?(heads: RoomHead[]): void;
  /** The account read a room further, here or on another device: for the sidebar. */
  read?(read: RoomRead): void;
  /** The account joined a private room or a DM: for the sidebar. */
  roomsChanged?(): void;
}

export class LiveRoom {
  private readonly view: RoomView;
  private readonly connection: RoomConnection;
  private readonly api: ServerApi;
  private lastTypingSignal = 0;
  /** How the page hears from the server now. */
  state: ConnectionState = 'connecting';
  /** Who is in the room now, and who of them is typing; undefined until the server has said. */
  people: PeopleState | undefined;
  loadingOlder = false;
  /** Messages read one by one for quotes, by seq: at most FETCHED_MESSAGES, the oldest read forgotten first. */
  private readonly fetched = new Map<number, Promise<ChatMessage | undefined>>();

  constructor(
    readonly room: string,
    /** The nickname shown on our messages while they are on their way. */
    private readonly author: string,
    private readonly outbox: Outbox,
    private readonly listener: LiveRoomListener,
    options: Partial<ConnectionOptions> = {},
  ) {
    this.view = new RoomView(room);
    this.api = options.api ?? serverApi;
    this.connection = new RoomConnection(
      room,
      {
        position: () => ({ after: this.view.cursor, epoch: this.view.epoch }),
        snapshot: (messages, hasOlder, epoch) => {
          this.view.replace(messages, hasOlder, epoch);
          this.dropDelivered(messages);
          this.listener.changed();
        },
        messages: (messages) => {
          const { added, gap } = this.view.take(messages);
          if (added + this.dropDelivered(messages) > 0) this.listener.changed();
          return !gap;
        },
        reset: () => {
          this.view.clear();
          this.listener.changed();
        },
        pendingSends: () => this.outbox.pending(room).map(sendBody),
        acked: (clientId, message) => {
          this.outbox.remove(clientId);
          this.view.acked(message);
          this.listener.changed();
        },
        refused: (clientId, error) => {
          this.outbox.fail(clientId, error);
          this.listener.changed();
        },
        unauthenticated: () => this.listener.sessionLost(),
        roomClosed: (reason) => this.listener.roomClosed(reason),
        state: (state) => {
          this.state = state;
          this.listener.changed();
        },
        people: (people) => {
          this.people = people;
          this.listener.changed();
        },
        heads: (heads) => this.listener.heads?.(heads),
        read: (read) => this.listener.read?.(read),
        roomsChanged: () => this.listener.roomsChanged?.(),
      },
      options,
    );
  }

  start(): void {
    this.connection.start();
  }

  stop(): void {
    this.connection.stop();
  }

  /** Asks for the heads of these other rooms to be pushed while the WebSocket is up. */
  watch(rooms: readonly string[]): void {
    this.connection.watch(rooms);
  }

  /** The room's messages as shown: the log the stream delivered, and ours acked ahead of it. */
  get messages(): readonly ChatMessage[] {
    const changes = this.outbox.pending(this.room).filter((entry) => entry.change);
    if (changes.length === 0) return this.view.messages;
    // Our changes on their way show at once (a reaction, an edit made offline); the server's word replaces
    // them when it comes, and a refused one stops showing (it is no longer pending).
    const shown = new Map(this.view.messages.map((message) => [message.seq, message]));
    changes.forEach((entry, i) => {
      const target = entry.change && shown.get(entry.change.target);
      if (!target || !entry.change) return;
      const change = entry.change.kind === 'delete' ? { ...entry.change, by: target.author === this.author ? ('author' as const) : ('moderator' as const) } : entry.change;
      // Seqs past any the log will reach, in the order they were made: applyChange takes each after the last.
      const seq = Number.MAX_SAFE_INTEGER - changes.length + i + 1;
      shown.set(target.seq, applyChange(target, { room: this.room, seq, clientId: entry.clientId, author: this.author, text: entry.text, at: entry.createdAt, change }));
    });
    return [...shown.values()];
  }

  /** This room's messages not yet acknowledged, oldest first. */
  get outgoing(): OutgoingMessage[] {
    return this.outbox.forRoom(this.room);
  }

  get hasOlder(): boolean {
    return this.view.hasOlder;
  }

  /** Whether the first answer came (the room is shown, even if empty). */
  get loaded(): boolean {
    return this.view.cursor !== undefined;
  }

  /** The last seq the room's stream delivered. */
  /** The epoch of the room's log the messages come from; undefined until the first page. */
  get epoch(): string | undefined {
    return this.view.epoch;
  }

  get cursor(): number | undefined {
    return this.view.cursor;
  }

  /**
   * Sends a message (with files uploaded for it, a reply to `replyTo` when given): into the outbox first, so
   * nothing typed is lost, then over whichever transport is up.
   */
  send(text: string, { replyTo, files }: { replyTo?: number | undefined; files?: FileAttachment[] | undefined } = {}): string {
    this.lastTypingSignal = 0;
    return this.queue({ text, ...(replyTo === undefined ? {} : { replyTo }), ...(files && files.length > 0 ? { files } : {}) });
  }

  /** Replaces the text of our message `target`; sent like a message (outbox, retries, either transport). */
  edit(target: number, text: string): string {
    return this.queue({ text, change: { kind: 'edit', target } });
  }

  /** Deletes message `target`: ours, or anyone's for a moderator. */
  remove(target: number): string {
    return this.queue({ text: '', change: { kind: 'delete', target } });
  }

  /** Turns our reaction `emoji` on message `target` on or off. */
  react(target: number, emoji: string, on: boolean): string {
    return this.queue({ text: '', change: { kind: 'reaction', target, emoji, on } });
  }

  /** The message `seq` as shown, if it is loaded. */
  message(seq: number): ChatMessage | undefined {
    return this.view.message(seq);
  }

  /**
   * The message `seq` as it now stands, read from the server once (a reply's quote of a message not loaded:
   * several replies to one message read it once).
   */
  fetchMessage(seq: number): Promise<ChatMessage | undefined> {
    let read = this.fetched.get(seq);
    if (!read) {
      read = this.api.fetchHistory(this.room, seq + 1, 1).then((page) => {
        const found = page.messages.at(-1);
        return found?.seq === seq && !found.change ? found : undefined;
      });
      read.catch(() => this.fetched.delete(seq)); // a failed read is tried again next time
      if (this.fetched.size >= FETCHED_MESSAGES) this.fetched.delete(this.fetched.keys().next().value as number);
      this.fetched.set(seq, read);
    }
    return read;
  }

  /** Loads older pages until message `seq` is here (at most REVEAL_PAGES); whether it is. */
  async reveal(seq: number): Promise<boolean> {
    for (let pages = 0; !this.view.message(seq) && this.view.hasOlder && pages < REVEAL_PAGES; pages++) {
      const first = this.view.messages[0]?.seq;
      await this.loadOlder();
      if (this.view.messages[0]?.seq === first) break; // the page failed: stop rather than spin
    }
    return this.view.message(seq) !== undefined;
  }

  private queue(entry: Pick<OutgoingMessage, 'text' | 'replyTo' | 'change' | 'files'>): string {
    const { clientId } = this.outbox.add({ clientId: newClientId(), room: this.room, author: this.author, ...entry });
    this.listener.changed();
    this.connection.flush();
    return clientId;
  }

  /** The user typed something: tells the room, at most every few seconds. */
  typing(): void {
    const now = Date.now();
    if (now - this.lastTypingSignal < TYPING_SIGNAL_MS) return;
    this.lastTypingSignal = now;
    this.connection.typing();
  }

  retry(clientId: string): void {
    this.outbox.retry(clientId);
    this.listener.changed();
    this.connection.flush();
  }

  discard(clientId: string): void {
    this.outbox.remove(clientId);
    this.listener.changed();
  }

  /** Loads the page of history before the first message shown (scroll-back). */
  async loadOlder(): Promise<void> {
    if (this.loadingOlder || !this.view.hasOlder) return;
    this.loadingOlder = true;
    this.listener.changed();
    try {
      const page = await this.api.fetchHistory(this.room, this.view.messages[0]?.seq);
      this.view.prepend(page.messages, page.hasOlder);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
    } finally {
      this.loadingOlder = false;
      this.listener.changed();
    }
  }

  /** Messages the stream delivered that are still in the outbox (their ack was lost) leave it now. */
  private dropDelivered(messages: readonly ChatMessage[]): number {
    let dropped = 0;
    for (const message of messages) if (this.outbox.remove(message.clientId)) dropped++;
    return dropped;
  }
}
