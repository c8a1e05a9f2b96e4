// One WebSocket connection: subscriptions to rooms (replay from a cursor, then live), sends with acks,
// and pings. Everything a client sends is validated; a bad frame gets an error frame, never a crash.
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { AppContext } from '../context';
import { ApiError, reportRefusal, validate } from '../errors';
import type { EncodedBatch, RoomReader } from '../hub';
import { CloseCode, ErrorCode, type ServerFrame } from '../protocol';
import { ClientFrame, ClientId, RoomName, type SubscribeFrame } from '../validation';
import { clientIp } from '../limits';
import { appendMessage, readFromCursor, readLatest, signalTyping } from '../roomlog';
import type { Session } from '../session';

/** How long a slow reader has to take in its buffer and the close frame before the socket is cut. */
const SLOW_READER_GRACE_MS = 10_000;

/** One room this socket reads: live messages wait in `held` until the replay from the store is sent. */
class Subscription implements RoomReader {
  /** The last seq sent to the client; nothing at or below it is sent again. */
  lastSeq = 0;
  private held: EncodedBatch[] | undefined = [];

  constructor(
    readonly room: string,
    private readonly socket: SocketSession,
  ) {}

  /** Live: the replay has been sent, and the subscription counts in the room's presence. */
  get live(): boolean {
    return this.held === undefined;
  }

  deliver(batch: EncodedBatch): number {
    if (!this.held) return this.forward(batch);
    this.held.push(batch);
    return 0;
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
    const held = this.held ?? [];
    this.held = undefined;
    let released = 0;
    for (const batch of held) released += this.forward(batch);
    return released;
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
  void sessionOf(this)?.receive(data, isBinary);
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

export class SocketSession {
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
  /** Bytes of replays still draining, which the slow-reader bound allows on top of MAX_BUFFERED_BYTES. */
  private replayAllowance = 0;

  constructor(
    private readonly ctx: AppContext,
    private readonly ws: SessionSocket,
    private readonly session: Session | undefined,
    /** The client's address, for the per-IP limits. */
    readonly ip: string,
  ) {
    ws.session = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.on('error', onError);
    this.id = ctx.sockets.add(this);
  }

  /** The connection closed (with `code`): leave every room, give the connection slot back. */
  socketClosed(code: number): void {
    this.closed();
    this.ctx.sockets.delete(this, this.id, code, Math.round((Date.now() - this.openedAt) / 1000));
  }

  /** A socket error (a reset connection, a protocol violation ws caught): ws closes the socket next. */
  socketFailed(error: Error): void {
    this.ctx.logger.debug({ err: error }, 'socket error');
  }

  /**
   * Sends pre-encoded bytes, unless the client has stopped reading: then it is closed as a slow reader.
   * A replay the server chose to send (up to MAX_REPLAY messages at once) does not count against the
   * bound while it drains; what piles up on top of it does.
   */
  sendBytes(bytes: Buffer, replay = false): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const { maxBufferedBytes } = this.ctx.config;
    const buffered = this.ws.bufferedAmount;
    if (buffered <= maxBufferedBytes) this.replayAllowance = 0;
    else if (buffered > maxBufferedBytes + this.replayAllowance) {
      this.dropSlowReader();
      return;
    }
    if (replay) this.replayAllowance += bytes.length;
    this.ws.send(bytes, { binary: false });
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** Cuts the connection without a closing handshake (shutdown, after the close frames had their time). */
  terminate(): void {
    this.ws.terminate();
  }

  /**
   * The client stopped reading and its unsent buffer passed MAX_BUFFERED_BYTES: close it (4008) rather
   * than hold ever more of the room in memory. The close frame waits behind the buffer, so a client that
   * never reads again is cut off after a grace period; one that does reads 4008 and resumes from its seq.
   */
  private dropSlowReader(): void {
    this.closed();
    this.close(CloseCode.slowReader, 'too slow: reconnect and resume from your last seq');
    setTimeout(() => this.ws.terminate(), SLOW_READER_GRACE_MS).unref();
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

  private send(frame: ServerFrame, replay = false): void {
    this.sendBytes(Buffer.from(JSON.stringify(frame)), replay);
  }

  /** A frame from the client: validated, then served; a bad one gets an error frame. */
  async receive(data: RawData, isBinary: boolean): Promise<void> {
    this.alive = true;
    this.lastFrameAt = Date.now();
    let json: unknown;
    let frame: ClientFrame | undefined;
    try {
      json = this.parseJson(data, isBinary);
      frame = validate(ClientFrame, json, ErrorCode.invalidFrame);
      switch (frame.type) {
        case 'subscribe':
          return await this.subscribe(frame);
        case 'unsubscribe':
          return this.unsubscribe(frame.room);
        case 'send': {
          const { message } = await appendMessage(this.ctx, { session: this.session, ip: this.ip }, frame.room, frame.clientId, frame.text);
          return this.send({ type: 'ack', clientId: frame.clientId, message });
        }
        case 'ping':
          return this.send({ type: 'pong' });
        case 'typing':
          return signalTyping(this.ctx, this.session, frame.room);
      }
    } catch (error) {
      const apiError = reportRefusal(error, { frame: frame?.type ?? 'unreadable', ip: this.ip }, this.ctx.logger, this.ctx.metrics);
      this.send({
        type: 'error',
        code: apiError.code,
        message: apiError.message,
        retryable: apiError.retryable,
        ...(apiError.retryAfterMs === undefined ? {} : { retryAfterMs: apiError.retryAfterMs }),
        ...(frame ? namedIn(frame) : namedInSend(json)),
      });
    }
  }

  private parseJson(data: RawData, isBinary: boolean): unknown {
    if (isBinary) throw new ApiError(ErrorCode.invalidFrame, 'frames are JSON text; binary frames are not accepted');
    try {
      return JSON.parse(data.toString());
    } catch {
      throw new ApiError(ErrorCode.invalidJson, 'the frame is not valid JSON');
    }
  }

  /** Replays the room from the cursor (or its latest page), then streams it live with no gap and no repeat. */
  private async subscribe({ room, after, epoch }: SubscribeFrame): Promise<void> {
    this.unsubscribe(room);
    const { maxRoomsPerSocket } = this.ctx.config;
    if (this.subscriptions.length >= maxRoomsPerSocket) {
      throw new ApiError(ErrorCode.tooLarge, `a socket follows at most ${maxRoomsPerSocket} rooms: unsubscribe from one first, or open another socket`);
    }
    const subscription = new Subscription(room, this);
    // Join before reading: whatever is stored while we read is held, and the seq check drops the overlap.
    this.subscriptions = this.subscriptions.concat(subscription);
    this.ctx.hub.join(room, subscription);
    try {
      const read = after === undefined ? { kind: 'messages' as const, ...(await readLatest(this.ctx, room)) } : await readFromCursor(this.ctx, room, after, epoch);
      if (!this.subscriptions.includes(subscription)) return; // unsubscribed or closed meanwhile
      if (read.kind === 'reset') {
        this.unsubscribe(room);
        this.send({ type: 'reset', room, epoch: this.ctx.store.epoch, reason: read.reason });
        return;
      }
      this.send({ type: 'subscribed', room, epoch: this.ctx.store.epoch, messages: read.messages, hasOlder: read.hasOlder }, true);
      const released = subscription.goLive(read.messages.at(-1)?.seq ?? after ?? 0);
      this.ctx.metrics.delivered('websocket', read.messages.length + released);
      this.ctx.presence.joined(room, this.session?.nick);
      this.send({ type: 'people', ...this.ctx.presence.state(room) });
    } catch (error) {
      if (this.subscriptions.includes(subscription)) this.unsubscribe(room);
      throw error;
    }
  }

  private unsubscribe(room: string): void {
    const subscription = this.subscriptions.find((s) => s.room === room);
    if (!subscription) return;
    this.subscriptions = this.subscriptions.filter((s) => s !== subscription);
    this.ctx.hub.leave(room, subscription);
    if (subscription.live) this.ctx.presence.left(room, this.session?.nick);
  }

  private closed(): void {
    for (const { room } of this.subscriptions) this.unsubscribe(room);
  }
}

interface Named {
  clientId?: string;
  room?: string;
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

/** Serves the WebSocket path: one SocketSession per connection, for the visitor its cookie names. */
export function acceptSocket(ctx: AppContext, ws: SessionSocket, req: IncomingMessage): SocketSession {
  return new SocketSession(ctx, ws, ctx.sessions.fromCookieHeader(req.headers.cookie), clientIp(req));
}
