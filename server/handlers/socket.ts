// One WebSocket connection: subscriptions to rooms (replay from a cursor, then live), sends with acks,
// and pings. Everything a client sends is validated; a bad frame gets an error frame, never a crash.
// What the server holds for one socket is bounded: its unsent bytes by MAX_BUFFERED_BYTES, a replay by
// going out in parts, each once the client has taken the one before. What it does for one socket is bounded
// too: frames past the socket's budget wait, and the socket is not read meanwhile.
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { Session, SessionBound } from '../accounts/accounts';
import type { AppContext } from '../context';
import { ApiError, reportRefusal, validate } from '../errors';
import { HeadWatch } from '../head-watch';
import type { EncodedBatch, RoomReader } from '../hub';
import { CloseCode, ErrorCode, type AccessEndedReason, type RoomRead, type ServerFrame } from '../protocol';
import { roomAccess } from '../rooms/access';
import type { RoomReader as RoomAccessReader } from '../rooms/rooms';
import { ClientFrame, ClientId, RoomName, type SubscribeFrame } from '../validation';
import { TokenBucket } from '../rate-limit';
import { appendMessage, checkCursor, peopleIn, readAfter, readLatest, signalTyping, type Page } from '../roomlog';

/**
 * One room this socket reads: live messages wait in `held` while a replay from the store is sent (the
 * first, or a resync: a read of what the feed missed), and go out after it, never with a hole before them.
 */
class Subscription implements RoomReader, RoomAccessReader {
  /** The last seq sent to the client; nothing at or below it is sent again. */
  lastSeq = 0;
  /** The epoch of the log the client's cursor belongs to: the one its replay was sent with. */
  epoch: string | undefined;
  /** Set once its first replay was sent: the subscription counts in the room's presence. */
  live = false;
  private held: EncodedBatch[] | undefined = [];
  /** The bytes of the frames in `held`: memory this socket costs, so they count against its bound. */
  private heldBytes = 0;
  /** A resync was asked for during a replay: it runs once that replay is sent. */
  private resyncDue = false;

  constructor(
    readonly room: string,
    private readonly socket: SocketSession,
  ) {}

  deliver(batch: EncodedBatch): number {
    if (!this.held && !this.continues(batch)) this.resync();
    if (!this.held) return this.forward(batch);
    this.held.push(batch);
    this.heldBytes += batch.frame.length;
    this.socket.checkHeld(this.heldBytes);
    return 0;
  }

  /** Holds live batches and reads from the store what follows the cursor (after a replay under way, if any). */
  resync(): void {
    if (this.held) {
      this.resyncDue = true;
      return;
    }
    this.resyncDue = false;
    this.held = [];
    this.socket.resync(this);
  }

  /** Its person can no longer read the room (left, removed, banned): the socket drops it and says why. */
  accessEnded(room: string, reason: AccessEndedReason): void {
    this.socket.accessEnded(this, room, reason);
  }

  deliverEvent(frame: Buffer): void {
    // Before going live the reader gets the current state with the replay; a change meanwhile is in it.
    if (this.live) this.socket.sendBytes(frame);
  }

  /**
   * The replay has been sent up to `lastSeq`: release what arrived meanwhile, then go live. Returns how
   * many messages it released.
   */
  goLive(lastSeq: number): number {
    this.lastSeq = lastSeq;
    this.live = true;
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    let released = 0;
    // A held batch past a hole starts a resync, which holds the batches after it in turn.
    for (const batch of held) released += this.deliver(batch);
    if (this.resyncDue && !this.held) {
      this.resyncDue = false;
      this.resync();
    }
    return released;
  }

  /** Whether `batch` follows the client's cursor with no hole, in the log its cursor belongs to. */
  private continues(batch: EncodedBatch): boolean {
    return batch.epoch === this.epoch && batch.continues(this.lastSeq);
  }

  /** Sends what of `batch` follows `lastSeq`; returns how many messages that is. */
  private forward(batch: EncodedBatch): number {
    const frame = batch.frameAfter(this.lastSeq);
    if (!frame) return 0;
    const sent = batch.last - Math.max(this.lastSeq, batch.first - 1);
    this.lastSeq = batch.last;
    this.socket.sendBytes(frame);
    return sent;
  }
}

/**
 * The WebSocket class the server makes (ws's `WebSocket` option): ws's own, carrying the session that
 * serves it, so that one listener function for each event serves every socket. Four closures for each
 * of 10,000 sockets showed in the server's memory.
 */
export class SessionSocket extends WebSocket {
  session: SocketSession | undefined;
}

function sessionOf(ws: WebSocket): SocketSession | undefined {
  return ws instanceof SessionSocket ? ws.session : undefined;
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  sessionOf(this)?.frameArrived(data, isBinary);
}

function onPong(this: WebSocket): void {
  const session = sessionOf(this);
  if (session) session.alive = true;
}

function onClose(this: WebSocket, code: number): void {
  sessionOf(this)?.socketClosed(code);
}

function onError(this: WebSocket, error: Error): void {
  sessionOf(this)?.socketFailed(error);
}

export class SocketSession implements SessionBound {
  /**
   * The rooms it follows (at most MAX_ROOMS_PER_SOCKET). Replaced rather than changed, and by concat, so
   * that each array is just as long as it needs to be: most sockets follow one room, and a Map for it
   * cost 200 bytes, a pushed-to array 150.
   */
  private subscriptions: readonly Subscription[] = [];
  /** Set by every pong; the heartbeat sweep drops a socket that has not answered since the last ping. */
  alive = true;
  private readonly openedAt = Date.now();
  /** Its number in the log. */
  private readonly id: number;
  /** When the client last sent a frame; undefined until its first. */
  private lastFrameAt: number | undefined;
  /**
   * Subscriptions whose replay waits for the one being sent (see sendReplays); undefined when no replay is
   * being sent. At most one per room: a new subscribe to a room replaces its waiting one.
   */
  private replays: PendingReplay[] | undefined;
  /** When the replay part being written was handed to the socket; undefined when none is (see closeIfNotReading). */
  private partSentAt: number | undefined;
  /** What the client may send: SOCKET_FRAME_BURST frames at once, then SOCKET_FRAMES_PER_SECOND. */
  private readonly frameBudget: TokenBucket;
  /** And SOCKET_BYTES_PER_SECOND bytes, at once or over a second. */
  private readonly byteBudget: TokenBucket;
  /**
   * Frames that arrived past the budget, served in order as it refills; undefined while within it. The
   * socket is not read meanwhile, so they are at most what one read from the connection held (64 KiB).
   */
  private overBudget: ArrivedFrame[] | undefined;
  private overBudgetTimer: NodeJS.Timeout | undefined;
  /** The rooms whose heads it is told of (a `watch` frame); undefined until it asks. */
  private headWatch: HeadWatch | undefined;
  /** Counts the `watch` frames, each checked against roomAccess before it takes effect: the last one wins. */
  private watchTurns = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly ws: SessionSocket,
    private readonly session: Session | undefined,
    /** The client's address, for the per-IP limits. */
    readonly ip: string,
  ) {
    this.frameBudget = new TokenBucket(ctx.config.socketFrameRate);
    this.byteBudget = new TokenBucket(ctx.config.socketByteRate);
    ws.session = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
    this.id = ctx.sockets.add(this);
    if (session) ctx.accounts.attach(session, this);
  }

  /** `subscription`'s person can no longer read its room: unsubscribe, and tell the client. */
  accessEnded(subscription: Subscription, room: string, reason: AccessEndedReason): void {
    if (!this.follows(subscription)) return;
    this.unsubscribe(room);
    this.send({ type: 'access_ended', room, reason });
  }

  /** The account read a room further (here or on another device): the page's sidebar counts from there. */
  readMoved(read: RoomRead): void {
    this.send({ type: 'read', ...read });
  }

  /** The account joined a room: the page lists its rooms again. */
  roomsChanged(): void {
    this.send({ type: 'rooms' });
  }

  /** Signed out or revoked: close (4001), so that the client knows at once. */
  sessionEnded(): void {
    this.close(CloseCode.sessionEnded, 'this session has ended (signed out)');
  }

  /** The connection closed (with `code`): leave every room, give the connection slot back. */
  socketClosed(code: number): void {
    clearTimeout(this.overBudgetTimer);
    this.overBudget = undefined;
    this.closed();
    if (this.session) this.ctx.accounts.detach(this.session, this);
    this.ctx.sockets.delete(this, this.id, code, Math.round((Date.now() - this.openedAt) / 1000));
  }

  /** A socket error (a reset connection, a protocol violation ws caught): ws closes the socket next. */
  socketFailed(error: Error): void {
    this.ctx.logger.debug({ err: error }, 'socket error');
  }

  /**
   * Sends pre-encoded bytes, unless they would take the socket's unsent bytes past MAX_BUFFERED_BYTES: then
   * the client is not keeping up, and it is closed as a slow reader instead. A frame onto an empty buffer
   * always goes, so that a client that keeps up gets even a batch larger than the bound. Returns whether
   * the bytes went; `written` is called once they are written to the connection, or the socket closed.
   */
  sendBytes(bytes: Buffer, written?: (error?: Error) => void): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    const buffered = this.ws.bufferedAmount;
    if (buffered > 0 && buffered + bytes.length > this.ctx.config.maxBufferedBytes) {
      this.dropSlowReader();
      return false;
    }
    this.ws.send(bytes, { binary: false }, written);
    return true;
  }

  /** A subscription being replayed holds `heldBytes` of live frames for later: they count with the unsent bytes. */
  checkHeld(heldBytes: number): void {
    if (this.ws.bufferedAmount + heldBytes > this.ctx.config.maxBufferedBytes) this.dropSlowReader();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** Cuts the connection without a closing handshake (shutdown, after the close frames had their time). */
  terminate(): void {
    this.ws.terminate();
  }

  /**
   * The client stopped reading: its unsent bytes would pass MAX_BUFFERED_BYTES, or it took no part of its
   * replay for SLOW_READER_TIMEOUT_MS. Close it (4008) rather than hold ever more of the room in memory. The
   * close frame waits behind the buffer, so a client that never reads again is cut off after as long again;
   * one that does reads 4008 and resumes from its seq.
   */
  private dropSlowReader(): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.closed();
    this.close(CloseCode.slowReader, 'too slow: reconnect and resume from your last seq');
    setTimeout(() => this.ws.terminate(), this.ctx.config.slowReaderTimeoutMs).unref();
  }

  /** Called by the idle sweep: a replay part that has waited SLOW_READER_TIMEOUT_MS to be written means the client does not read. */
  closeIfNotReading(now: number): void {
    if (this.partSentAt !== undefined && now - this.partSentAt >= this.ctx.config.slowReaderTimeoutMs) this.dropSlowReader();
  }

  /**
   * Called by the idle sweep: a socket that sent no frame within FIRST_FRAME_TIMEOUT_MS of opening, or that
   * follows no room and has sent nothing for SOCKET_IDLE_MS, costs a connection for nothing: close it.
   */
  closeIfIdle(now: number): void {
    const { firstFrameTimeoutMs, socketIdleMs } = this.ctx.config;
    if (this.lastFrameAt === undefined) {
      if (now - this.openedAt >= firstFrameTimeoutMs) this.closeIdle(`idle: no frame within ${firstFrameTimeoutMs} ms of opening`);
    } else if (this.subscriptions.length === 0 && now - this.lastFrameAt >= socketIdleMs) {
      this.closeIdle(`idle: no room followed and no frame for ${socketIdleMs} ms`);
    }
  }

  private closeIdle(reason: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.close(CloseCode.idle, reason);
    // A peer that does not answer the close frame is cut off by ws after its closing timeout.
  }

  /** Called by the heartbeat sweep: drop the socket if it did not answer the last ping, else ping again. */
  heartbeat(): void {
    if (!this.alive) {
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  private send(frame: ServerFrame): void {
    this.sendBytes(Buffer.from(JSON.stringify(frame)));
  }

  /**
   * Sends one part of a replay; the promise settles once it is written to the connection, or the socket
   * closed. The next part waits for that, so that the client's reading sets the replay's pace, and one that
   * reads nothing holds a single part.
   */
  private sendPart(frame: ServerFrame): Promise<void> {
    return new Promise((resolve) => {
      const written = () => {
        this.partSentAt = undefined;
        resolve();
      };
      this.partSentAt = Date.now();
      if (!this.sendBytes(Buffer.from(JSON.stringify(frame)), written)) written();
    });
  }

  /**
   * A frame from the client: served at once while the client is within its budget. Past it, the server
   * stops reading the socket (backpressure: the client's own buffers fill) and serves the frames it had read
   * as the budget refills, then reads again. A flood costs the server a bounded amount of work a second,
   * and loses nothing.
   */
  frameArrived(data: RawData, isBinary: boolean): void {
    if (this.overBudget) {
      this.overBudget.push({ data, isBinary });
      return;
    }
    const waitMs = this.takeBudget(data);
    if (waitMs === 0) {
      void this.receive(data, isBinary);
      return;
    }
    this.overBudget = [{ data, isBinary }];
    this.ws.pause();
    this.overBudgetTimer = setTimeout(() => this.serveOverBudget(), waitMs);
  }

  /** Serves the frames that waited, as far as the budget goes; reads the socket again once none wait. */
  private serveOverBudget(): void {
    this.overBudgetTimer = undefined;
    const waiting = this.overBudget ?? [];
    for (let next = waiting[0]; next; next = waiting[0]) {
      const waitMs = this.takeBudget(next.data);
      if (waitMs > 0) {
        this.overBudgetTimer = setTimeout(() => this.serveOverBudget(), waitMs);
        return;
      }
      waiting.shift();
      void this.receive(next.data, next.isBinary);
    }
    this.overBudget = undefined;
    this.ws.resume();
  }

  /** Spends a frame and its bytes from the budget and returns 0, or returns how many ms until they are there. */
  private takeBudget(data: RawData): number {
    const now = Date.now();
    const bytes = byteLength(data);
    const waitMs = Math.max(this.frameBudget.msUntil(1, now), this.byteBudget.msUntil(bytes, now));
    if (waitMs > 0) return waitMs;
    this.frameBudget.spend(1);
    this.byteBudget.spend(bytes);
    return 0;
  }

  /** A frame from the client: validated, then served; a bad one gets an error frame. */
  private async receive(data: RawData, isBinary: boolean): Promise<void> {
    this.alive = true;
    this.lastFrameAt = Date.now();
    let json: unknown;
    let frame: ClientFrame | undefined;
    try {
      json = this.parseJson(data, isBinary);
      frame = validate(ClientFrame, json, ErrorCode.invalidFrame);
      switch (frame.type) {
        case 'subscribe':
          return this.subscribe(frame);
        case 'unsubscribe':
          return this.unsubscribe(frame.room);
        case 'send': {
          const { message } = await appendMessage(this.ctx, { session: this.session, ip: this.ip }, frame.room, frame.clientId, frame.text ?? '', frame);
          return this.send({ type: 'ack', clientId: frame.clientId, message });
        }
        case 'ping':
          return this.send({ type: 'pong' });
        case 'typing':
          return await this.signalTyping(frame.room);
        case 'watch':
          return await this.watchHeads(frame.rooms);
      }
    } catch (error) {
      this.sendError(error, frame?.type ?? 'unreadable', frame ? namedIn(frame) : namedInSend(json));
    }
  }

  /**
   * A typing signal: a hint, so one past the presence budget (or from a muted person) is dropped unanswered. An error frame naming
   * the room, as frames about a room are answered, would tell the page its subscription failed.
   */
  private async signalTyping(room: string): Promise<void> {
    try {
      await signalTyping(this.ctx, { session: this.session, ip: this.ip }, room);
    } catch (error) {
      // A muted person's typing is dropped as quietly: their page shows them muted already.
      if (error instanceof ApiError && (error.code === ErrorCode.rateLimited || error.code === ErrorCode.muted)) return;
      throw error;
    }
  }

  /**
   * Watches the heads of those of `rooms` this session may read: a room it may not read (a private room it is
   * not in, or none) is left out without a word, as one that does not exist, so a head never tells of it.
   */
  private async watchHeads(rooms: readonly string[]): Promise<void> {
    // A later `watch` replaces this one, even if its checks finish first.
    const turn = ++this.watchTurns;
    const readable: string[] = [];
    for (const room of rooms) {
      const allowed = await roomAccess(this.ctx, this.session, room).then(
        () => true,
        (error: unknown) => {
          if (error instanceof ApiError && (error.code === ErrorCode.notFound || error.code === ErrorCode.banned)) return false;
          throw error;
        },
      );
      if (allowed) readable.push(room);
    }
    if (turn !== this.watchTurns || this.ws.readyState !== this.ws.OPEN) return;
    this.headWatch ??= new HeadWatch(
      this.ctx.hub,
      this.ctx.store,
      (heads) => this.send(heads),
      this.session ? { userId: this.session.userId, rooms: this.ctx.rooms } : undefined,
    );
    this.headWatch.set(readable);
  }

  /** Answers a frame that failed with an error frame naming what the frame named. */
  private sendError(error: unknown, frameType: string, named: Named): void {
    const apiError = reportRefusal(error, { frame: frameType, ip: this.ip }, this.ctx.logger, this.ctx.metrics);
    this.send({
      type: 'error',
      code: apiError.code,
      message: apiError.message,
      retryable: apiError.retryable,
      ...(apiError.retryAfterMs === undefined ? {} : { retryAfterMs: apiError.retryAfterMs }),
      ...named,
    });
  }

  private parseJson(data: RawData, isBinary: boolean): unknown {
    if (isBinary) throw new ApiError(ErrorCode.invalidFrame, 'frames are JSON text; binary frames are not accepted');
    try {
      return JSON.parse(data.toString());
    } catch {
      throw new ApiError(ErrorCode.invalidJson, 'the frame is not valid JSON');
    }
  }

  /** Reads what `subscription` missed from the store and sends it, after the replays before it (see sendReplays). */
  resync(subscription: Subscription): void {
    const request: SubscribeFrame = { type: 'subscribe', room: subscription.room, after: subscription.lastSeq, ...(subscription.epoch ? { epoch: subscription.epoch } : {}) };
    this.queueReplay({ subscription, request, resync: true });
  }

  /** Follows the room: its replay waits for the ones before it (see sendReplays), then it streams live. */
  private subscribe(request: SubscribeFrame): void {
    this.unsubscribe(request.room);
    const { maxRoomsPerSocket } = this.ctx.config;
    if (this.subscriptions.length >= maxRoomsPerSocket) {
      throw new ApiError(ErrorCode.tooLarge, `a socket follows at most ${maxRoomsPerSocket} rooms: unsubscribe from one first, or open another socket`);
    }
    const subscription = new Subscription(request.room, this);
    this.subscriptions = this.subscriptions.concat(subscription);
    this.queueReplay({ subscription, request, resync: false });
  }

  private queueReplay(replay: PendingReplay): void {
    if (this.replays) {
      this.replays.push(replay);
      return;
    }
    this.replays = [replay];
    void this.sendReplays();
  }

  /**
   * Sends the waiting replays one after the other, so that a socket has one replay part at most that its
   * client has not taken, however many subscribes it sends: a client asking for replays it does not read
   * costs the server one part, not one replay per ask.
   */
  private async sendReplays(): Promise<void> {
    for (let next = this.replays?.shift(); next; next = this.replays?.shift()) {
      const { subscription, request, resync } = next;
      try {
        await this.replay(subscription, request, resync);
      } catch (error) {
        if (this.follows(subscription)) this.unsubscribe(request.room);
        this.sendError(error, request.type, { room: request.room });
      }
    }
    this.replays = undefined;
  }

  /**
   * Replays the room from the cursor (or its latest page), then streams it live with no gap and no repeat.
   * A replay larger than half MAX_BUFFERED_BYTES goes out in parts: `subscribed` with the first messages,
   * then `messages` frames with the rest. Each part is read and sent in this client's turn (see Turns), once
   * the client has taken the one before.
   */
  private async replay(subscription: Subscription, request: SubscribeFrame, resync: boolean): Promise<void> {
    let part = await this.inTurn(() => (resync ? this.resyncPart(subscription, request) : this.firstPart(subscription, request)));
    let lastSeq = request.after ?? 0;
    let replayed = 0;
    while (part) {
      const { last, head, count, written } = part;
      await written;
      lastSeq = last;
      replayed += count;
      if (lastSeq >= head) break;
      part = await this.inTurn(() => this.nextPart(subscription, last, head));
    }
    if (!this.follows(subscription)) return;
    const wasLive = subscription.live;
    const released = subscription.goLive(lastSeq);
    this.ctx.metrics.delivered('websocket', replayed + released);
    if (wasLive) return;
    this.ctx.presence.joined(subscription.room, this.session?.nick);
    this.send({ type: 'people', ...peopleIn(this.ctx, subscription.room) });
  }

  /** The first part of a replay, `subscribed`; undefined when there is none (a reset, or the room was left). */
  private async firstPart(subscription: Subscription, { room, after, epoch }: SubscribeFrame): Promise<ReplayPart | undefined> {
    if (!this.follows(subscription)) return undefined;
    // Who may read is asked before anything is read; a private room one may not read is "not found".
    await roomAccess(this.ctx, this.session, room);
    if (!this.follows(subscription)) return undefined;
    if (this.session) this.ctx.rooms.watch(room, this.session.userId, subscription);
    // Join before reading: whatever is stored while we read is held, and the seq check drops the overlap.
    this.ctx.hub.join(room, subscription);
    let page: Page;
    let head: number;
    if (after === undefined) {
      page = await readLatest(this.ctx, room, this.partBytes);
      head = page.messages.at(-1)?.seq ?? 0;
    } else {
      const servable = await this.servableHead(subscription, room, after, epoch);
      if (servable === undefined) return undefined;
      head = servable;
      const messages = after === head ? [] : await readAfter(this.ctx, room, after, head - after, this.partBytes);
      page = { messages, hasOlder: (messages[0]?.seq ?? after + 1) > 1 };
    }
    if (!this.follows(subscription)) return undefined;
    subscription.epoch = this.ctx.store.epoch;
    const written = this.sendPart({ type: 'subscribed', room, epoch: subscription.epoch, ...page });
    return { last: page.messages.at(-1)?.seq ?? after ?? 0, head, count: page.messages.length, written };
  }

  /**
   * The first part of a resync: what follows the cursor up to the head now, as a `messages` frame; a
   * reset when the cursor no longer fits the log (it was wiped: another epoch).
   */
  private async resyncPart(subscription: Subscription, { room, after = 0, epoch }: SubscribeFrame): Promise<ReplayPart | undefined> {
    if (!this.follows(subscription)) return undefined;
    const head = await this.servableHead(subscription, room, after, epoch);
    if (head === undefined) return undefined;
    if (after === head) return { last: after, head: after, count: 0, written: Promise.resolve() };
    return this.nextPart(subscription, after, head);
  }

  /**
   * The room's head, when the log can serve a reader at `after` and the room is still followed; otherwise
   * undefined, after a `reset` (and leaving the room) when the cursor does not fit the log.
   */
  private async servableHead(subscription: Subscription, room: string, after: number, epoch: string | undefined): Promise<number | undefined> {
    const cursor = await checkCursor(this.ctx, room, after, epoch);
    if (!this.follows(subscription)) return undefined;
    if (cursor.kind === 'reset') {
      this.unsubscribe(room);
      this.send({ type: 'reset', room, epoch: this.ctx.store.epoch, reason: cursor.reason });
      return undefined;
    }
    return cursor.head;
  }

  /** A further part of a replay, a `messages` frame: what follows `after`, up to `head`, as much as fits. */
  private async nextPart(subscription: Subscription, after: number, head: number): Promise<ReplayPart | undefined> {
    if (!this.follows(subscription)) return undefined;
    const { room } = subscription;
    const messages = await readAfter(this.ctx, room, after, head - after, this.partBytes);
    const last = messages.at(-1);
    // Nothing up to the head is gone from a log; were it, the client would see the hole and ask again.
    if (!last || !this.follows(subscription)) return undefined;
    return { last: last.seq, head, count: messages.length, written: this.sendPart({ type: 'messages', room, messages }) };
  }

  /** The most a replay part holds: half the bound, so that live frames to other rooms fit beside it. */
  private get partBytes(): number {
    return this.ctx.config.maxBufferedBytes / 2;
  }

  /** Runs `work` (a read of the store and the frame made of it) in this client's turn (see Turns). */
  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    const end = await this.ctx.limits.readTurn(this.ip);
    try {
      return await work();
    } finally {
      end();
    }
  }

  private follows(subscription: Subscription): boolean {
    return this.subscriptions.includes(subscription);
  }

  private unsubscribe(room: string): void {
    const subscription = this.subscriptions.find((s) => s.room === room);
    if (!subscription) return;
    this.subscriptions = this.subscriptions.filter((s) => s !== subscription);
    this.replays = this.replays?.filter((r) => r.subscription !== subscription);
    this.ctx.hub.leave(room, subscription);
    if (this.session) this.ctx.rooms.unwatch(room, this.session.userId, subscription);
    if (subscription.live) this.ctx.presence.left(room, this.session?.nick);
  }

  private closed(): void {
    for (const { room } of this.subscriptions) this.unsubscribe(room);
    this.headWatch?.close();
  }
}

/** A frame as ws handed it over, kept until the socket's budget serves it. */
interface ArrivedFrame {
  data: RawData;
  isBinary: boolean;
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((total, part) => total + part.length, 0);
  return data.byteLength;
}

interface Named {
  clientId?: string;
  room?: string;
}

/** A subscribe whose replay waits for its turn, or a resync (a read of what the feed missed). */
interface PendingReplay {
  subscription: Subscription;
  request: SubscribeFrame;
  resync: boolean;
}

/** One part of a replay, sent. */
interface ReplayPart {
  /** The last seq sent so far (the cursor, when the part holds no message). */
  last: number;
  /** The room's last seq when the replay began: the parts run up to it, and the hub holds what follows. */
  head: number;
  /** How many messages the part holds. */
  count: number;
  /** Settles once the part is written to the connection, or the socket closed. */
  written: Promise<void>;
}

/** The clientId and room a frame names: an error frame about it repeats them. */
function namedIn(frame: ClientFrame): Named {
  return {
    ...('clientId' in frame ? { clientId: frame.clientId } : {}),
    ...('room' in frame ? { room: frame.room } : {}),
  };
}

/**
 * The well-formed clientId and room of a send that failed validation, so that the client learns which
 * of its messages was refused (it matches errors to its outbox by clientId) instead of waiting for an ack.
 */
function namedInSend(json: unknown): Named {
  if (typeof json !== 'object' || json === null || !('type' in json) || json.type !== 'send') return {};
  const named: Named = {};
  if ('clientId' in json && ClientId.safeParse(json.clientId).success) named.clientId = json.clientId as string;
  if ('room' in json && RoomName.safeParse(json.room).success) named.room = json.room as string;
  return named;
}

/** Serves the WebSocket path: one SocketSession per connection, for the session its cookie names (looked up before the upgrade). */
export function acceptSocket(ctx: AppContext, ws: SessionSocket, req: IncomingMessage, session: Session | undefined): SocketSession {
  return new SocketSession(ctx, ws, session, ctx.limits.clientIp(req));
}
