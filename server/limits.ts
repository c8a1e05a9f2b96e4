// What one client may cost: sends, new rooms, searches, and typing signals and people requests, per session and per
// IP; new sockets per IP, open sockets per IP and in all, held long-polls per IP, TCP connections of any kind
// per IP. (What one WebSocket may send is its own budget: see handlers/socket.ts.) Every refusal of a request is a
// rate_limited ApiError with the time to wait. Answers read from the store are not refused but take turns,
// one IP at a time.
import type { IncomingMessage } from 'node:http';
import { ClientAddresses } from './client-address';
import type { Config } from './config';
import { ApiError } from './errors';
import { ErrorCode } from './protocol';
import { OpenCounts, TokenBuckets, Turns } from './rate-limit';
import { RecentMap } from './store/recent-map';

/** Rooms whose existence is remembered, so that a send to one does not read the store first. */
const KNOWN_ROOMS = 10_000;

/** How long a client refused for a full cap (not a rate) is told to wait. */
const FULL_RETRY_AFTER_MS = 5000;

export class ClientLimits {
  private readonly sends: TokenBuckets;
  private readonly ipSends: TokenBuckets;
  private readonly newRooms: TokenBuckets;
  private readonly ipNewRooms: TokenBuckets;
  private readonly presence: TokenBuckets;
  private readonly ipPresence: TokenBuckets;
  private readonly ipGuests: TokenBuckets;
  private readonly searches: TokenBuckets;
  private readonly ipSearches: TokenBuckets;
  private readonly connects: TokenBuckets;
  private readonly sockets: OpenCounts;
  private readonly longPolls: OpenCounts;
  private readonly connections: OpenCounts;
  private readonly reads: Turns;
  /** Rooms known to hold a message, the most recently used KNOWN_ROOMS (see takeNewRoom). */
  private readonly existingRooms = new RecentMap<string, true>(KNOWN_ROOMS);

  /** Who a request or connection comes from, as these limits count it (TRUSTED_PROXIES, IPv6 /64s). */
  readonly addresses: ClientAddresses;

  constructor(config: Config) {
    this.addresses = new ClientAddresses(config.trustedProxies);
    this.sends = new TokenBuckets(config.sendRate);
    this.ipSends = new TokenBuckets(config.ipSendRate);
    this.newRooms = new TokenBuckets(config.newRoomRate);
    this.ipNewRooms = new TokenBuckets(config.ipNewRoomRate);
    this.presence = new TokenBuckets(config.presenceRate);
    this.ipPresence = new TokenBuckets(config.ipPresenceRate);
    this.ipGuests = new TokenBuckets(config.ipGuestRate);
    this.searches = new TokenBuckets(config.searchRate);
    this.ipSearches = new TokenBuckets(config.ipSearchRate);
    this.connects = new TokenBuckets(config.connectRate);
    this.sockets = new OpenCounts(config.maxConnectionsPerIp, config.maxConnections);
    this.longPolls = new OpenCounts(config.maxLongPollsPerIp);
    this.connections = new OpenCounts(config.maxTcpConnectionsPerIp);
    this.reads = new Turns();
  }

  /** The client `req` comes from, as the per-IP limits count it (see server/client-address.ts). */
  clientIp(req: IncomingMessage): string {
    return this.addresses.of(req);
  }

  /** A new TCP connection from `ip`: whether it may stay (call `connectionClosed` when it closes). */
  openConnection(ip: string): boolean {
    return this.connections.open(ip) === 'ok';
  }

  connectionClosed(ip: string): void {
    this.connections.close(ip);
  }

  /** One message from `nick` at `ip`; throws rate_limited when the session or the IP sends too fast. */
  takeSend(nick: string, ip: string): void {
    const mine = this.sends.take(`${ip} ${nick}`);
    if (!mine.ok) throw new ApiError(ErrorCode.rateLimited, `you are sending too fast; try again in ${seconds(mine.retryAfterMs)}`, mine.retryAfterMs);
    const shared = this.ipSends.take(ip);
    if (!shared.ok) {
      throw new ApiError(ErrorCode.rateLimited, `too many messages from your network; try again in ${seconds(shared.retryAfterMs)}`, shared.retryAfterMs);
    }
  }

  /**
   * A message from `nick` at `ip` to `room`: when it is the room's first (`head`, the room's last seq in the
   * store, is read only for a room not known to hold one), throws rate_limited if they create rooms too fast.
   */
  async takeNewRoom(room: string, nick: string, ip: string, head: () => Promise<number>): Promise<void> {
    if (this.existingRooms.get(room)) return;
    if ((await head()) > 0) {
      this.existingRooms.set(room, true);
      return;
    }
    const mine = this.newRooms.take(`${ip} ${nick}`);
    if (!mine.ok) throw new ApiError(ErrorCode.rateLimited, `you are creating rooms too fast; try again in ${seconds(mine.retryAfterMs)}`, mine.retryAfterMs);
    const shared = this.ipNewRooms.take(ip);
    if (!shared.ok) {
      throw new ApiError(ErrorCode.rateLimited, `too many new rooms from your network; try again in ${seconds(shared.retryAfterMs)}`, shared.retryAfterMs);
    }
  }

  /** `room` holds a message now: later sends to it create nothing, and need no read of the store to know it. */
  roomStored(room: string): void {
    this.existingRooms.set(room, true);
  }

  /**
   * A typing signal or a people request from `nick` (undefined: no session) at `ip`; throws rate_limited when
   * they come too fast.
   */
  takePresence(nick: string | undefined, ip: string): void {
    if (nick !== undefined) {
      const mine = this.presence.take(`${ip} ${nick}`);
      if (!mine.ok) throw new ApiError(ErrorCode.rateLimited, `too many typing signals or people requests; try again in ${seconds(mine.retryAfterMs)}`, mine.retryAfterMs);
    }
    const shared = this.ipPresence.take(ip);
    if (!shared.ok) {
      throw new ApiError(ErrorCode.rateLimited, `too many typing signals or people requests from your network; try again in ${seconds(shared.retryAfterMs)}`, shared.retryAfterMs);
    }
  }

  /** A search from `nick` (undefined: no session) at `ip`; throws rate_limited when they come too fast. */
  takeSearch(nick: string | undefined, ip: string): void {
    if (nick !== undefined) {
      const mine = this.searches.take(`${ip} ${nick}`);
      if (!mine.ok) throw new ApiError(ErrorCode.rateLimited, `you are searching too fast; try again in ${seconds(mine.retryAfterMs)}`, mine.retryAfterMs);
    }
    const shared = this.ipSearches.take(ip);
    if (!shared.ok) {
      throw new ApiError(ErrorCode.rateLimited, `too many searches from your network; try again in ${seconds(shared.retryAfterMs)}`, shared.retryAfterMs);
    }
  }

  /** A guest session or a nickname change from `ip`; throws rate_limited when its clients make them too fast. */
  takeGuest(ip: string): void {
    const taken = this.ipGuests.take(ip);
    if (!taken.ok) {
      throw new ApiError(ErrorCode.rateLimited, `too many guest sessions or nickname changes from your network; try again in ${seconds(taken.retryAfterMs)}`, taken.retryAfterMs);
    }
  }

  /** A new WebSocket from `ip`: undefined when it may open (call `socketClosed` when it closes), else why not. */
  openSocket(ip: string): ApiError | undefined {
    const rate = this.connects.take(ip);
    if (!rate.ok) return new ApiError(ErrorCode.rateLimited, 'too many new connections from your network; try again shortly', rate.retryAfterMs);
    const slot = this.sockets.open(ip);
    if (slot === 'key-full') return new ApiError(ErrorCode.rateLimited, 'too many open connections from your network', FULL_RETRY_AFTER_MS);
    if (slot === 'total-full') return new ApiError(ErrorCode.rateLimited, 'the server is at its connection limit; try again shortly', FULL_RETRY_AFTER_MS);
    return undefined;
  }

  socketClosed(ip: string): void {
    this.sockets.close(ip);
  }

  /** A held long-poll from `ip`; throws rate_limited at the cap. Call `longPollEnded` once when it ends. */
  holdLongPoll(ip: string): void {
    if (this.longPolls.open(ip) !== 'ok') {
      throw new ApiError(ErrorCode.rateLimited, 'too many waiting requests from your network; try again shortly', FULL_RETRY_AFTER_MS);
    }
  }

  longPollEnded(ip: string): void {
    this.longPolls.close(ip);
  }

  /**
   * A turn for `ip` to read an answer from the store and write it (see Turns): resolves when it comes, with
   * the function that ends it.
   */
  readTurn(ip: string): Promise<() => void> {
    return this.reads.take(ip);
  }

  /** Forgets refilled buckets, so memory follows the active clients only. */
  sweep(): void {
    this.sends.sweep();
    this.ipSends.sweep();
    this.newRooms.sweep();
    this.ipNewRooms.sweep();
    this.presence.sweep();
    this.ipPresence.sweep();
    this.ipGuests.sweep();
    this.searches.sweep();
    this.ipSearches.sweep();
    this.connects.sweep();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
