// One room as the page holds it: what it has been shown of the room's log (RoomView), the outbox of the
// messages on their way, and the connection that keeps both current. Plain TypeScript, no Preact: the page
// wraps it in a hook (use-room.ts), and the chaos test runs this very code in node against a server it kills.
import type { ChatMessage, FileAttachment, PeopleState, RoomHead, RoomRead } from '../../server/protocol';
import { ApiFailure, serverApi, type ServerApi } from './api';
import { RoomConnection, type ConnectionOptions, type ConnectionState, type RoomClosedReason } from './connection';
import { newClientId, Outbox, type OutgoingMessage } from './outbox';
import { RoomView } from './room-view';

/** While the user types, the room hears "typing" at most this often (the server keeps it for 6 s). */
const TYPING_SIGNAL_MS = 3000;

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
        pendingSends: () => this.outbox.pending(room).map(({ clientId, text, files }) => ({ clientId, text, ...(files ? { files: files.map((file) => file.id) } : {}) })),
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
    return this.view.messages;
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

  /** Sends a message: into the outbox first, so nothing typed is lost, then over whichever transport is up. */
  send(text: string, files?: FileAttachment[]): string {
    const attached = files && files.length > 0 ? { files } : {};
    const { clientId } = this.outbox.add({ clientId: newClientId(), room: this.room, text, author: this.author, ...attached });
    this.lastTypingSignal = 0;
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
