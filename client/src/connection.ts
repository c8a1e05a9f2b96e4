// Keeps one room live, whatever the network allows. It prefers a WebSocket; when one cannot be opened
// (blocked, refused, closed at once) it long-polls GET /wait and sends over HTTP, while it keeps trying
// the WebSocket in the background with backoff and jitter. Both transports resume from the cursor the
// page holds, so a switch, a reconnect or a server restart loses nothing and repeats nothing.
import {
  CloseCode,
  SOCKET_PATH,
  type AccessEndedReason,
  type ChatMessage,
  type ClientFrame,
  type ErrorCode,
  type PeopleState,
  type RoomHead,
  type RoomRead,
  type SendRequest,
  type ServerFrame,
} from '../../server/protocol';
import { ApiFailure, serverApi, type ServerApi } from './api';

export type ConnectionState = 'connecting' | 'live-ws' | 'live-poll' | 'reconnecting' | 'offline';

/**
 * Why the room cannot be read: you left it elsewhere, were removed or banned while reading it, or it is not
 * there for you (`not_found`: a private room you are not in, or none at all; `banned` from a public room).
 */
export type RoomClosedReason = AccessEndedReason | 'not_found' | 'banned';

export interface Position {
  /** The last seq the room's stream delivered; undefined when it delivered nothing yet (or after a reset). */
  after: number | undefined;
  epoch: string | undefined;
}

export interface ConnectionEvents {
  /** Where the page stands in the room's log. */
  position(): Position;
  /** The room's latest page, to show instead of whatever was shown (first load, or after a reset). */
  snapshot(messages: ChatMessage[], hasOlder: boolean, epoch: string): void;
  /**
   * Messages from the room's stream, after the position. Returns false when they do not follow it (a hole):
   * the connection then asks again from the position.
   */
  messages(messages: ChatMessage[]): boolean;
  /** The server refused the cursor: forget the room's messages, a fresh page follows. */
  reset(): void;
  /** Messages typed and not yet acknowledged, to (re)send whenever a transport is up. */
  pendingSends(): SendRequest[];
  /** The server stored a message of ours. This is not the stream: it must not move the position. */
  acked(clientId: string, message: ChatMessage): void;
  /** The server refused a message for good (too long, say); retrying it unchanged would not help. */
  refused(clientId: string, error: { code: ErrorCode; message: string }): void;
  /** The session is gone (signed out, revoked, expired, or the server's data was wiped): sign in again. */
  unauthenticated(): void;
  /** The room cannot be read (see RoomClosedReason): the connection has stopped; leave the room's view. */
  roomClosed(reason: RoomClosedReason): void;
  state(state: ConnectionState): void;
  /** Who is in the room now (pushed over WebSocket, fetched every few seconds over long-poll). */
  people(state: PeopleState): void;
  /** How far watched rooms have gone (see `watch`), pushed over WebSocket as they move. */
  heads?(heads: RoomHead[]): void;
  /** The account read a room further, here or on another device (pushed over WebSocket). */
  read?(read: RoomRead): void;
  /** The account joined a private room or a DM: list them again (pushed over WebSocket). */
  roomsChanged?(): void;
}

/** Whether the device is online, and word when that changes: in the page, the browser's `online`/`offline`. */
export interface NetworkSignal {
  online(): boolean;
  /** Calls `changed` on every change; returns what stops that. */
  watch(changed: () => void): () => void;
}

/** The parts of a WebSocket the connection uses: the browser's, or another with the same API. */
export type SocketLike = Pick<WebSocket, 'readyState' | 'send' | 'close' | 'onopen' | 'onmessage' | 'onclose'>;

export interface ConnectionOptions {
  /** Opens a socket to the server; in the page, a browser WebSocket to this host's /ws. */
  openSocket: () => SocketLike;
  /** The HTTP calls: long-poll, sends without a socket, who is here. */
  api: ServerApi;
  network: NetworkSignal;
  /** How often a live socket pings the server (ms)... */
  pingMs: number;
  /** ...and how soon some frame must follow each ping, else the socket is taken for dead and replaced (ms). */
  pongTimeoutMs: number;
  /** A socket that has not subscribed within this time is given up on (ms). */
  openTimeoutMs: number;
  /** While long-polling, how often to ask who is in the room (ms). */
  peopleMs: number;
  /** The longest wait between two tries of the socket, or of a failed long-poll (ms). */
  maxBackoffMs: number;
}

/** Timings of the page's connection. A network gone without a word is noticed within pingMs + pongTimeoutMs. */
const TIMINGS = { pingMs: 10_000, pongTimeoutMs: 3_000, openTimeoutMs: 5_000, peopleMs: 5_000, maxBackoffMs: 30_000 };

const openBrowserSocket = () => new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${SOCKET_PATH}`);

const browserNetwork: NetworkSignal = {
  online: () => navigator.onLine !== false,
  watch(changed) {
    addEventListener('online', changed);
    addEventListener('offline', changed);
    return () => {
      removeEventListener('online', changed);
      removeEventListener('offline', changed);
    };
  },
};

/** WebSocket readyState values, named here: a socket of another implementation has no WebSocket global. */
const CONNECTING = 0;
const OPEN = 1;

export class RoomConnection {
  private readonly options: ConnectionOptions;
  private socket: SocketLike | undefined;
  private socketLive = false;
  /** Consecutive sockets that closed (or never opened); resets once one subscribes. */
  private socketFailures = 0;
  private socketTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private lastFrameAt = 0;
  /** What the last subscribe asked for: without a cursor, its answer replaces the view. */
  private subscribedFrom: number | undefined;

  private polling = false;
  /** Counts the long-poll loops started: a loop whose number is no longer this one has been stopped. */
  private pollRun = 0;
  private pollLive = false;
  private pollAbort: AbortController | undefined;
  /** Ends the long-poll's backoff early: the server was heard from, or the device is back online. */
  private wakePoll: (() => void) | undefined;
  private peopleTimer: ReturnType<typeof setInterval> | undefined;

  /** clientIds sent on the current transport and not yet answered: not sent again meanwhile. */
  private readonly inFlight = new Set<string>();
  private posting = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private everLive = false;
  private lastState: ConnectionState | undefined;
  private stopped = false;
  private unwatchNetwork: (() => void) | undefined;
  /** The rooms whose heads the page wants pushed (the sidebar's others); sent again on every new socket. */
  private watched: readonly string[] = [];
  private readonly api: ServerApi;

  constructor(
    readonly room: string,
    private readonly events: ConnectionEvents,
    options: Partial<ConnectionOptions> = {},
  ) {
    this.options = {
      ...TIMINGS,
      ...options,
      openSocket: options.openSocket ?? openBrowserSocket,
      api: options.api ?? serverApi,
      network: options.network ?? browserNetwork,
    };
    this.api = this.options.api;
  }

  start(): void {
    this.unwatchNetwork = this.options.network.watch(this.onNetworkChange);
    if (this.options.network.online()) this.openSocket();
    this.updateState();
  }

  stop(): void {
    this.stopped = true;
    this.unwatchNetwork?.();
    clearTimeout(this.socketTimer);
    clearTimeout(this.retryTimer);
    this.dropSocket(1000, 'leaving the room');
    this.stopPolling();
  }

  /** The room cannot be read: stop both transports for good, and say why. */
  private closeRoom(reason: RoomClosedReason): void {
    if (this.stopped) return;
    this.stop();
    this.events.roomClosed(reason);
  }

  /** Sends every pending message that is not already on its way, over whichever transport is up. */
  flush(): void {
    if (this.stopped) return;
    if (!this.socketLive || !this.socket) {
      void this.postPending();
      return;
    }
    for (const send of this.events.pendingSends()) {
      if (this.inFlight.has(send.clientId)) continue;
      this.inFlight.add(send.clientId);
      this.sendFrame(this.socket, { type: 'send', room: this.room, ...send });
    }
  }

  /** Asks for the heads of `rooms` to be pushed while a WebSocket is up (replacing the rooms asked before). */
  watch(rooms: readonly string[]): void {
    this.watched = rooms;
    if (this.socketLive && this.socket) this.sendFrame(this.socket, { type: 'watch', rooms: [...rooms] });
  }

  /** Tells the room the user is typing, over whichever transport is up (the caller throttles). */
  typing(): void {
    if (this.stopped) return;
    if (this.socketLive && this.socket) this.sendFrame(this.socket, { type: 'typing', room: this.room });
    else if (this.pollLive) this.api.signalTyping(this.room).catch(() => undefined);
  }

  // ---- WebSocket --------------------------------------------------------------------------

  private openSocket(): void {
    clearTimeout(this.socketTimer);
    if (this.stopped || this.socket) return;
    const socket = this.options.openSocket();
    this.socket = socket;
    let subscribed = false;
    const giveUp = setTimeout(() => this.socketClosed(socket, subscribed), this.options.openTimeoutMs);
    socket.onopen = () => this.subscribe(socket);
    socket.onmessage = (event) => {
      this.lastFrameAt = Date.now();
      const frame = parseFrame(event.data);
      if (!frame) return;
      if (frame.type === 'subscribed' && !subscribed) {
        subscribed = true;
        clearTimeout(giveUp);
        this.socketWentLive();
      }
      this.receive(socket, frame);
    };
    socket.onclose = (event) => {
      clearTimeout(giveUp);
      if (event.code === CloseCode.slowReader) this.socketFailures = Math.max(this.socketFailures, 1);
      this.socketClosed(socket, subscribed);
      // Signed out here or elsewhere, or this session revoked: the page is no longer signed in.
      if (event.code === CloseCode.sessionEnded) this.events.unauthenticated();
    };
  }

  private subscribe(socket: SocketLike): void {
    const { after, epoch } = this.events.position();
    this.subscribedFrom = after;
    this.sendFrame(socket, { type: 'subscribe', room: this.room, ...(after === undefined ? {} : { after }), ...(epoch === undefined ? {} : { epoch }) });
  }

  private socketWentLive(): void {
    this.socketLive = true;
    this.everLive = true;
    this.socketFailures = 0;
    this.stopPolling();
    this.inFlight.clear();
    this.startHeartbeat();
    if (this.watched.length > 0 && this.socket) this.sendFrame(this.socket, { type: 'watch', rooms: [...this.watched] });
    this.updateState();
  }

  private receive(socket: SocketLike, frame: ServerFrame): void {
    switch (frame.type) {
      case 'subscribed':
        if (frame.room !== this.room) return;
        if (this.subscribedFrom === undefined) this.events.snapshot(frame.messages, frame.hasOlder, frame.epoch);
        else if (!this.events.messages(frame.messages)) return this.subscribe(socket);
        this.flush();
        return;
      case 'messages':
        // A hole would mean we missed something: ask again from what we hold rather than show a gap.
        if (frame.room === this.room && !this.events.messages(frame.messages)) this.subscribe(socket);
        return;
      case 'reset':
        this.events.reset();
        this.subscribe(socket);
        return;
      case 'ack':
        this.inFlight.delete(frame.clientId);
        this.events.acked(frame.clientId, frame.message);
        return;
      case 'error':
        if (!frame.clientId && frame.room === this.room && (frame.code === 'not_found' || frame.code === 'banned')) return this.closeRoom(frame.code);
        this.failed(frame.clientId, frame);
        if (!frame.clientId && frame.room === this.room) this.retryLater(() => this.subscribe(socket));
        return;
      case 'access_ended':
        if (frame.room === this.room) this.closeRoom(frame.reason);
        return;
      case 'pong':
        return;
      case 'people':
        if (frame.room === this.room) this.events.people(frame);
        return;
      case 'heads':
        this.events.heads?.(frame.heads);
        return;
      case 'read':
        this.events.read?.({ room: frame.room, seq: frame.seq });
        return;
      case 'rooms':
        this.events.roomsChanged?.();
        return;
    }
  }

  private socketClosed(socket: SocketLike, wasSubscribed: boolean): void {
    if (this.socket !== socket) return;
    this.dropSocket();
    if (this.stopped) return;
    this.socketFailures++;
    if (!this.options.network.online()) {
      // Nothing gets through while the device is offline: onNetworkChange tries again when it is back.
    } else if (wasSubscribed && this.socketFailures === 1) {
      // A live socket dropped (a server restart, say): try again at once, with a little jitter.
      this.socketTimer = setTimeout(() => this.openSocket(), 100 + Math.random() * 400);
    } else {
      // The socket cannot get through: long-poll meanwhile, and keep trying the socket in the background.
      this.startPolling();
      this.socketTimer = setTimeout(() => this.openSocket(), this.backoff(this.socketFailures));
    }
    this.updateState();
  }

  /** Forgets the current socket and closes it; its late events are ignored. */
  private dropSocket(code?: number, reason?: string): void {
    const socket = this.socket;
    this.socket = undefined;
    this.socketLive = false;
    this.inFlight.clear();
    this.stopHeartbeat();
    if (!socket) return;
    socket.onopen = null;
    socket.onclose = null;
    socket.onmessage = null;
    if (socket.readyState === CONNECTING || socket.readyState === OPEN) socket.close(code, reason);
  }

  /**
   * Pings the server every pingMs; a socket that then hears nothing for pongTimeoutMs is dead (a network
   * gone without a word: no close, no `offline` event) and is replaced. A timer that fires late (a busy or
   * background tab) only gives the answer more time.
   */
  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      const socket = this.socket;
      if (!socket) return;
      const pingedAt = Date.now();
      this.sendFrame(socket, { type: 'ping' });
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => {
        if (this.socket === socket && this.lastFrameAt < pingedAt) this.socketClosed(socket, true);
      }, this.options.pongTimeoutMs);
    }, this.options.pingMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.pongTimer);
    this.heartbeatTimer = undefined;
  }

  private sendFrame(socket: SocketLike, frame: ClientFrame): void {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(frame));
  }

  // ---- long-poll and HTTP sends -----------------------------------------------------------

  private startPolling(): void {
    if (this.polling || this.stopped) return;
    this.polling = true;
    void this.pollLoop(++this.pollRun);
    // No socket to push who is here: ask now and then (this also counts us as present).
    const askPeople = () => {
      this.api.fetchPeople(this.room).then((state) => this.polling && this.events.people(state), () => undefined);
    };
    askPeople();
    this.peopleTimer = setInterval(askPeople, this.options.peopleMs);
  }

  private stopPolling(): void {
    clearInterval(this.peopleTimer);
    this.peopleTimer = undefined;
    this.polling = false;
    this.pollLive = false;
    this.pollRun++;
    this.pollAbort?.abort();
    this.pollAbort = undefined;
    this.wakePoll?.();
  }

  private async pollLoop(run: number): Promise<void> {
    let failures = 0;
    const current = () => run === this.pollRun && !this.stopped;
    while (current()) {
      const abort = new AbortController();
      this.pollAbort = abort;
      try {
        if (!this.pollLive && this.events.position().after !== undefined) {
          // A wait with a cursor is held until a message comes (up to WAIT_TIMEOUT_MS in a quiet room):
          // check first that the server answers, so the page says it is live, and sends, at once.
          await this.api.checkServer(abort.signal);
          if (!current()) return;
          this.pollLive = true;
          this.everLive = true;
          this.updateState();
          this.flush();
        }
        // The position is read right before asking: what the stream delivered meanwhile counts.
        const { after, epoch } = this.events.position();
        const answer = await this.api.waitForMessages(this.room, after, epoch, abort.signal);
        if (!current()) return;
        failures = 0;
        const wasLive = this.pollLive;
        this.pollLive = true;
        this.everLive = true;
        if (answer.type === 'access_ended') return this.closeRoom(answer.reason);
        if (answer.type === 'reset') this.events.reset();
        else if (after === undefined) this.events.snapshot(answer.messages, answer.hasOlder ?? false, answer.epoch);
        // A hole needs nothing more: the next wait asks from the position, which stayed before it.
        else this.events.messages(answer.messages);
        if (!wasLive) {
          this.updateState();
          this.flush();
        }
      } catch (error) {
        if (!current()) return;
        // The held wait was answered 401: this session was signed out or revoked.
        if (error instanceof ApiFailure && error.code === 'unauthenticated') this.events.unauthenticated();
        if (error instanceof ApiFailure && (error.code === 'not_found' || error.code === 'banned')) return this.closeRoom(error.code);
        failures++;
        this.pollLive = false;
        this.updateState();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.backoff(failures));
          this.wakePoll = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakePoll = undefined;
      }
    }
  }

  /**
   * Posts the pending messages one after another, in the order they were typed: concurrent POSTs could
   * be stored out of order. Stops at the first failure, which schedules the retry of the rest.
   */
  private async postPending(): Promise<void> {
    if (this.posting) return;
    this.posting = true;
    try {
      for (;;) {
        if (this.stopped || (this.socketLive && this.socket)) return;
        const next = this.events.pendingSends().find(({ clientId }) => !this.inFlight.has(clientId));
        if (!next) return;
        if (!(await this.postOverHttp(next))) return;
      }
    } finally {
      this.posting = false;
    }
  }

  /** Sends one message over HTTP; true when it was stored (or refused for good), false when it will be retried. */
  private async postOverHttp(send: SendRequest): Promise<boolean> {
    const { clientId } = send;
    this.inFlight.add(clientId);
    try {
      const { message } = await this.api.postMessage(this.room, send);
      this.inFlight.delete(clientId);
      this.events.acked(clientId, message);
      // The server answers again: a long-poll waiting out its backoff asks at once.
      this.wakePoll?.();
      return true;
    } catch (error) {
      const failure = error instanceof ApiFailure ? error : new ApiFailure('network', String(error), true);
      return this.failed(clientId, failure);
    }
  }

  /**
   * A send failed: a retryable failure stays pending and is tried again (a rate_limited one after the
   * retryAfterMs the server gave); any other is refused. Returns true when the message is settled (refused
   * for good), false when it stays pending.
   */
  private failed(
    clientId: string | undefined,
    error: { code: ErrorCode | 'network'; message: string; retryable: boolean; retryAfterMs?: number | undefined },
  ): boolean {
    if (clientId === undefined) return false;
    this.inFlight.delete(clientId);
    if (error.code === 'unauthenticated') {
      this.events.unauthenticated();
      return false;
    }
    if (error.retryable || error.code === 'network') {
      this.retryLater(() => this.flush(), error.retryAfterMs);
      return false;
    }
    this.events.refused(clientId, { code: error.code, message: error.message });
    return true;
  }

  private retryLater(action: () => void, afterMs = this.backoff(2)): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(action, afterMs);
  }

  /** Exponential backoff from 0.5 s to maxBackoffMs, with jitter so that a restarted server is not hit all at once. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxBackoffMs, 500 * 2 ** Math.max(0, attempt - 1));
    return ceiling / 2 + (Math.random() * ceiling) / 2;
  }

  /**
   * The device went offline: whatever the transports believe, nothing gets through, so say so now and drop
   * them rather than wait for a timeout. Back online: try the socket at once, and wake a waiting long-poll.
   */
  private readonly onNetworkChange = () => {
    if (this.stopped) return;
    if (this.options.network.online()) {
      if (!this.socket) {
        this.socketFailures = 0;
        this.openSocket();
      }
      this.wakePoll?.();
    } else {
      clearTimeout(this.socketTimer);
      this.dropSocket();
      this.stopPolling();
    }
    this.updateState();
  };

  private updateState(): void {
    const state: ConnectionState = !this.options.network.online()
      ? 'offline'
      : this.socketLive
        ? 'live-ws'
        : this.pollLive
          ? 'live-poll'
          : this.everLive
            ? 'reconnecting'
            : 'connecting';
    if (state === this.lastState) return;
    this.lastState = state;
    this.events.state(state);
  }
}

function parseFrame(data: unknown): ServerFrame | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    return JSON.parse(data) as ServerFrame;
  } catch {
    return undefined;
  }
}
