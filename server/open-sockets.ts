// The WebSockets open now: numbered for the log, counted for the metrics, swept by the heartbeat and idle
// timers, closed together at shutdown. One registry for all sockets, so that a socket costs no closure of
// its own here (at 10,000 connections every per-socket object shows in the server's memory).
import type { Logger } from 'pino';
import type { SocketSession } from './handlers/socket';
import type { ClientLimits } from './limits';

export class OpenSockets implements Iterable<SocketSession> {
  private readonly sessions = new Set<SocketSession>();
  /** Numbers the sockets in the log, so that an open and its close can be matched. */
  private opened = 0;

  constructor(
    private readonly logger: Logger,
    /** Given back the connection slot of each socket that closes. */
    private readonly limits: ClientLimits,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A WebSocket is open; returns its number for the log. */
  add(session: SocketSession): number {
    this.sessions.add(session);
    const id = ++this.opened;
    this.logger.info({ socket: id, ip: session.ip, open: this.sessions.size }, 'websocket opened');
    return id;
  }

  /** It closed with `code` after `seconds`: forget it and give its connection slot back. */
  delete(session: SocketSession, id: number, code: number, seconds: number): void {
    if (!this.sessions.delete(session)) return;
    this.limits.socketClosed(session.ip);
    this.logger.info({ socket: id, ip: session.ip, code, seconds, open: this.sessions.size }, 'websocket closed');
  }

  [Symbol.iterator](): Iterator<SocketSession> {
    return this.sessions.values();
  }
}
