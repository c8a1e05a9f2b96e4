// What an HTTP connection may cost before any route sees it: how many one IP may hold, how long a request's
// head and body may take, which host it must name, how large its body may be. node's http server keeps the
// time (its own timeouts, looked at every second); the rest is counted here.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config';
import { ApiError, errorBody, reportRefusal } from './errors';
import { formatBytes } from './format';
import { sendJson, type HeaderList } from './handlers/http';
import { hostAllowed, hostName } from './hosts';
import type { ClientLimits } from './limits';
import type { Metrics } from './metrics';
import { ErrorCode } from './protocol';

/** node's http server options: how long a request's head, a whole request and an idle keep-alive may take. */
export function connectionTimeouts(config: Config): ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // How often node looks for requests past those two: its default, 30 s, let a half-sent head live 60 to 90 s.
    // Neither cuts a held /wait or a WebSocket: both were received whole, and node times only the receiving.
    connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs / 4),
  };
}

/**
 * Counts every TCP connection (plain HTTP, long-poll, WebSocket) against MAX_TCP_CONNECTIONS_PER_IP. One past
 * the cap is closed at once, unanswered: an answer would mean reading its request, which is what the cap spares.
 * A trusted proxy's connections are not counted: they carry many clients', each counted by what it asks for.
 */
export function capConnectionsPerIp(server: Server, limits: ClientLimits, metrics: Metrics): void {
  server.on('connection', (socket: Socket) => {
    if (limits.addresses.fromProxy(socket)) return;
    const ip = limits.addresses.peer(socket);
    if (!limits.openConnection(ip)) {
      metrics.connectionDropped();
      socket.destroy();
      return;
    }
    socket.once('close', () => limits.connectionClosed(ip));
  });
}

export function unknownHost(host: string | undefined): ApiError {
  const name = host === undefined ? undefined : hostName(host);
  const which = name === undefined ? 'this Host header' : `the host name ${name}`;
  return new ApiError(ErrorCode.unknownHost, `this server does not answer for ${which} (its operator lists the names it serves in ALLOWED_HOSTS)`);
}

/** The most bytes a request's body may have, and what the body is called in the refusal ("a file"). */
export interface BodyLimit {
  maxBytes: number;
  what: string;
}

/** Checks a request's host and body size before its route runs; a refused request's connection is closed. */
export class RequestGuard {
  private readonly refusals = new WeakSet<IncomingMessage>();

  constructor(
    private readonly config: Config,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    /** The headers every answer carries (the security headers). */
    private readonly headers: HeaderList,
  ) {}

  /** Answers 421 unknown_host to a request for a host this server does not serve; whether it may go on. */
  knownHost(req: IncomingMessage, res: ServerResponse): boolean {
    if (hostAllowed(req.headers.host, this.config.allowedHosts)) return true;
    this.refuse(req, res, unknownHost(req.headers.host));
    return false;
  }

  /**
   * Answers 413 too_large to a body over `maxBytes` (MAX_FRAME_BYTES but for uploads): at once from its
   * Content-Length, before reading any of it, or as the bytes that pass the bound arrive. Whether the
   * request may go on.
   */
  bodyWithinLimit(req: IncomingMessage, res: ServerResponse, { maxBytes, what }: BodyLimit = { maxBytes: this.config.maxFrameBytes, what: 'a request body' }): boolean {
    const length = req.headers['content-length'];
    if (length === undefined && req.headers['transfer-encoding'] === undefined) return true; // no body
    const tooLarge = () => new ApiError(ErrorCode.tooLarge, `${what} has at most ${formatBytes(maxBytes)}`);
    if (Number(length) > maxBytes) {
      this.refuse(req, res, tooLarge());
      return false;
    }
    limitBody(req, maxBytes, () => {
      if (res.headersSent) (req.socket as typeof req.socket | null)?.destroy();
      else this.refuse(req, res, tooLarge());
    });
    // Answered before all of its body came (a route that reads none, a refusal): node would read the rest, to
    // keep the connection for the next request, however long it is. Close it instead.
    res.once('finish', () => {
      // node may have let go of the socket by now (a refused upload whose client went on sending): then
      // there is nothing left to close, and no socket to call on (its type does not say it can be null).
      if (!req.complete) (req.socket as typeof req.socket | null)?.destroy();
    });
    return true;
  }

  /** Whether this guard answered the request with a refusal. */
  refused(req: IncomingMessage): boolean {
    return this.refusals.has(req);
  }

  /** Answers with the error and `Connection: close`: node closes the connection once the answer is out. */
  private refuse(req: IncomingMessage, res: ServerResponse, error: ApiError): void {
    this.refusals.add(req);
    reportRefusal(error, { method: req.method, url: req.url }, this.logger, this.metrics);
    sendJson(res, error.status, errorBody(error), [...this.headers, 'Connection', 'close']);
  }
}

/**
 * Counts the body's bytes as node's parser hands them to the request, and calls `tooLarge` once instead of
 * taking the chunk that passes `maxBytes` (nor any after it); the parser then stops reading the connection.
 * The count sits on the request object itself rather than a subclass: express swaps the prototype of every
 * request it routes.
 */
function limitBody(req: IncomingMessage, maxBytes: number, tooLarge: () => void): void {
  const push = req.push;
  let bytes = 0;
  req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (Buffer.isBuffer(chunk)) {
      if (bytes > maxBytes) return false;
      bytes += chunk.length;
      if (bytes > maxBytes) {
        tooLarge();
        return false;
      }
    }
    return push.call(req, chunk, encoding);
  };
}
