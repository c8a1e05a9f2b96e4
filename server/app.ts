// Builds the server from a config: express for HTTP, ws for WebSocket, the store, the hub; wires the
// routes of urls.ts to their handlers; start and stop.
import { isUtf8 } from 'node:buffer';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeader, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { clientPages, clientRedirects, fastRoutes, httpRoutes, metricsRoutes, socketRoutes, uploadRoutes, type HttpRoute } from '../urls';
import { Accounts } from './accounts/accounts';
import { leftoversOf, sweepDeletedRooms, type RoomLeftovers } from './rooms/leftovers';
import { Rooms } from './rooms/rooms';
import type { Config } from './config';
import type { AppContext } from './context';
import { ApiError, errorBody, reportRefusal, retryAfterHeader, toApiError } from './errors';
import { sweepExpiredUploads, UploadsUnderWay } from './files/files';
import { sendJson, type HeaderList } from './handlers/http';
import { SessionSocket } from './handlers/socket';
import { hostAllowed } from './hosts';
import { capConnectionsPerIp, connectionTimeouts, RequestGuard, unknownHost, type BodyLimit } from './http-guard';
import { Hub } from './hub';
import { ClientLimits } from './limits';
import { Metrics } from './metrics';
import { OpenSockets } from './open-sockets';
import { originAllowed } from './origin';
import { Presence } from './presence';
import { CloseCode, ErrorCode, type ServerFrame } from './protocol';
import { StartupError } from './startup-error';
import { openStore } from './store/open';
import type { Store } from './store/store';
import { InFlightWrites } from './writes';

/** "Typing" lasts this long after the last signal (clients signal every few seconds while typing). */
const TYPING_MS = 6000;
/** Changes to who is in a room are published at most this often... */
const PRESENCE_DEBOUNCE_MS = 250;
/** ...and a big room's at most as often as this many frames a second allow (see PresenceOptions). */
const PRESENCE_FRAMES_PER_SECOND = 4000;

/** dist/client, found from this module both as the source (server/app.ts) and in the bundle (dist/server.js). */
export const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../dist/client', import.meta.url));

export interface ServerOptions {
  logger?: Logger;
  /** Use this store instead of opening the configured one (tests); it is closed with the server. */
  store?: Store;
  /** Where the built client is; false serves no client. Default: dist/client. */
  clientDir?: string | false;
  /** Mounts extra middleware before the client pages (the Vite dev server in `npm run dev`). */
  beforeClient?: (app: Express, server: Server) => Promise<void>;
  /** `npm run dev`: the Content-Security-Policy lets Vite's inline scripts and styles through. */
  devCsp?: boolean;
}

export interface ParleyServer {
  /** http://host:port of the running server. */
  readonly url: string;
  readonly port: number;
  /** http://host:port of the listener that serves /metrics alone (METRICS_PORT), when there is one. */
  readonly metricsUrl: string | undefined;
  readonly store: Store;
  /** Stops accepting, answers waiting long-polls, closes sockets with "going away", closes the store. */
  close(): Promise<void>;
}

/**
 * How often the standings of the rooms read here are looked up again: a leave, removal or ban on another
 * instance ends this one's sockets and long-polls of that room within this long.
 */
const ROOM_RECHECK_MS = 10_000;

/** How often expired sessions and sessionless guests are swept from the store. */
const ACCOUNT_SWEEP_MS = 60_000;
/**
 * How often the sessions with a connection here are looked up again: a sign-out or a revocation on another
 * instance closes this one's sockets and long-polls of that session within this long.
 */
const SESSION_RECHECK_MS = 10_000;
/** How often uploads no message took in time are swept, and a batch of deleted rooms' files. */
const FILE_SWEEP_MS = 60_000;

export async function startServer(config: Config, options: ServerOptions = {}): Promise<ParleyServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const store = options.store ?? (await openStore(config, logger));
  const metrics = new Metrics();
  const hub = new Hub(store, undefined, metrics, { batchMs: config.longPollBatchMs, maxHeldBytes: config.maxBufferedBytes });
  const accounts = new Accounts(store.accounts, { guests: config.guests, sessionIdleMs: config.sessionIdleMs, trustProxy: config.trustProxy });
  const limits = new ClientLimits(config);
  const sockets = new OpenSockets(logger, limits);
  metrics.countOpenConnections(() => ({ websocket: sockets.size, longpoll: hub.waiting() }));
  const writes = new InFlightWrites();
  const presence = new Presence(
    { pollGraceMs: config.waitTimeoutMs + 10_000, typingMs: TYPING_MS, debounceMs: PRESENCE_DEBOUNCE_MS, maxFramesPerSecond: PRESENCE_FRAMES_PER_SECOND, maxPolledRooms: config.maxPolledRooms },
    (room, state) => hub.broadcast(room, Buffer.from(JSON.stringify({ type: 'people', ...accounts.markAccounts(state) } satisfies ServerFrame))),
  );
  const rooms = new Rooms(store.rooms, accounts, config);
  // A guest that is gone leaves no standing behind: a ban of a name that is free again holds nobody, and
  // would use up the room's MAX_ROOM_MEMBERS.
  accounts.onGuestGone = (userId) => rooms.store.removeStandingsOf(userId);
  const ctx: AppContext = { config, store, hub, accounts, rooms, limits, logger, metrics, presence, writes, sockets, uploads: new UploadsUnderWay() };
  // A deleted private room's files and messages go with it: nobody can read them any more, and the files'
  // uploaders have their quotas back at once. The room is deleted whatever happens to them: a failure is
  // logged, not answered, and the sweep of deleted rooms (below) removes them later.
  const leftovers = leftoversOf(store);
  rooms.onRoomDeleted = async (room) => {
    for (const kind of leftovers) {
      await kind.remove(room).catch((error: unknown) => logger.warn({ err: error, room }, `removing a deleted room's ${kind.what} failed: the sweep will`));
    }
  };

  const app = express();
  app.disable('x-powered-by');
  // API answers are never cached (no-store): hashing each body for an ETag would be work for nothing.
  // Static files keep theirs (express.static sets its own).
  app.set('etag', false);
  const headers = securityHeaders(options.devCsp ?? false);
  app.use(headers);
  app.use(refuseForeignOrigins(config.allowedOrigins));
  // Uploads read their body themselves, as it streams in: before the JSON parser, which would read it whole.
  mountRoutes(app, ctx, uploadRoutes);
  app.use('/api', express.json({ limit: config.maxFrameBytes, verify: requireUtf8 }));
  mountRoutes(app, ctx, config.metricsListen ? httpRoutes : [...httpRoutes, ...metricsRoutes]);
  app.use('/api', (_req, _res, next) => next(new ApiError(ErrorCode.notFound, 'no such API route')));

  // The fast routes answer what is new (the long-poll), the guard's refusals one request: never to be cached.
  const fastHeaders = [...headersOf(headers), 'Cache-Control', 'no-store'];
  const guard = new RequestGuard(config, metrics, logger, fastHeaders);
  const answerWritten = cutIfNotTaken(config.slowReaderTimeoutMs);
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    res.on('prefinish', answerWritten);
    const fast = req.method === 'GET' ? fastRoute(req.url) : undefined;
    if (!fast) {
      app(req, res);
      return;
    }
    const { route, query } = fast;
    Promise.resolve()
      .then(() => route.handler(ctx, req, res, query, fastHeaders))
      .catch((error: unknown) => {
        const apiError = reportRefusal(error, { method: req.method, path: route.path }, logger, metrics);
        if (res.headersSent) return;
        const retryAfter = retryAfterHeader(apiError);
        sendJson(res, apiError.status, errorBody(apiError), retryAfter ? [...fastHeaders, 'Retry-After', retryAfter] : fastHeaders);
      });
  };
  const admit = (req: IncomingMessage, res: ServerResponse) => {
    if (guard.knownHost(req, res) && guard.bodyWithinLimit(req, res, bodyLimit(req, config))) serve(req, res);
  };
  const server = createServer(connectionTimeouts(config), (req, res) => {
    // A request pipelined behind an answer still being written is served once that answer is out: a client
    // that sends many requests and reads nothing gets one answer made for it at a time, not all of them.
    // It waits for the event loop's next poll too, so that many such clients cannot keep everyone waiting.
    if (!res.socket) {
      res.once('socket', () => setImmediate(admit, req, res));
      return;
    }
    admit(req, res);
  });
  // A client that asks before it sends its body (Expect: 100-continue, as curl does past 1 KB) is invited to
  // send it only once the guard agrees, not by node at once.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!guard.knownHost(req, res) || !guard.bodyWithinLimit(req, res, bodyLimit(req, config))) return;
    res.writeContinue();
    serve(req, res);
  });
  if (options.beforeClient) await options.beforeClient(app, server);
  serveClient(app, options.clientDir ?? DEFAULT_CLIENT_DIR, metrics);
  app.use((_req, _res, next) => next(new ApiError(ErrorCode.notFound, 'nothing here')));
  app.use(answerErrors(logger, metrics, guard));
  capConnectionsPerIp(server, limits, metrics);

  // OpenSockets keeps the open sockets: ws need not track them too (a Set entry and a listener each).
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    WebSocket: SessionSocket,
  });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = socketRoutes.find((r) => r.path === path);
    if (!route) {
      // In `npm run dev` Vite's hot-reload socket shares this server and answers its own upgrades.
      if (!options.beforeClient) socket.destroy();
      return;
    }
    // Checked before the upgrade, so a refused socket costs no WebSocket: a page on a host name this server
    // does not serve (DNS rebinding) gets 421, a foreign page (CSWSH) 403, a client past its connection rate
    // or cap, or a full server, 429 with Retry-After.
    if (!hostAllowed(req.headers.host, config.allowedHosts)) {
      refuseUpgrade(socket, unknownHost(req.headers.host), metrics);
      return;
    }
    if (!originAllowed(req.headers.origin, req.headers.host, config.allowedOrigins)) {
      refuseUpgrade(socket, foreignOrigin(req.headers.origin), metrics);
      return;
    }
    const ip = ctx.limits.clientIp(req);
    const overLimit = limits.openSocket(ip);
    if (overLimit) {
      refuseUpgrade(socket, overLimit, metrics);
      return;
    }
    const slot = holdSocketSlot(socket, ip, limits);
    // Whose socket it is, before it opens: its frames are served as that session's from the first.
    accounts.sessionOf(req).then(
      (session) =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          slot.upgraded();
          route.handler(ctx, ws, req, session);
        }),
      (error: unknown) => refuseUpgrade(socket, toApiError(error), metrics),
    );
  });
  const metricsServer = config.metricsListen ? metricsOnlyServer(ctx, guard, limits) : undefined;
  try {
    await listen(server, config.host, config.port);
    if (metricsServer && config.metricsListen) {
      await listen(metricsServer, config.metricsListen.host, config.metricsListen.port, { host: 'METRICS_HOST', port: 'METRICS_PORT' });
    }
  } catch (error) {
    server.close();
    hub.close();
    presence.close();
    await store.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${hostPort(config.host, port)}`;
  logger.info({ url, store: store.kind }, `Parley is listening on ${url}`);
  const metricsUrl =
    metricsServer && config.metricsListen ? `http://${hostPort(config.metricsListen.host, (metricsServer.address() as AddressInfo).port)}` : undefined;
  if (metricsUrl) logger.info({ metricsUrl }, `Parley serves /metrics on ${metricsUrl} only`);
  else if (!config.metricsToken && !isLoopback(config.host)) {
    logger.warn(`/metrics is open to anyone who reaches ${url}: set METRICS_TOKEN, or METRICS_PORT to serve it elsewhere`);
  }

  // One sweep pings every socket and drops those that did not answer the previous ping; it also lets the
  // rate limiter forget the clients that have gone quiet.
  const heartbeat = setInterval(() => {
    for (const session of sockets) session.heartbeat();
    limits.sweep();
  }, config.heartbeatMs);
  heartbeat.unref();
  // Expired sessions and guests left without one are removed a batch at a time (the embedded store keeps
  // them otherwise until looked up; MongoDB expires sessions itself, and guests here).
  const accountSweep = setInterval(() => {
    accounts.sweep().catch((error: unknown) => logger.warn({ err: error }, 'sweeping expired sessions failed'));
  }, ACCOUNT_SWEEP_MS);
  accountSweep.unref();
  let recheckingRooms = false;
  const roomRecheck = setInterval(() => {
    if (recheckingRooms) return;
    recheckingRooms = true;
    rooms
      .recheckReaders()
      .catch((error: unknown) => logger.warn({ err: error }, 'looking up the standings of rooms read here failed'))
      .finally(() => (recheckingRooms = false));
  }, ROOM_RECHECK_MS);
  roomRecheck.unref();
  let rechecking = false;
  const sessionRecheck = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    accounts
      .recheckConnections()
      .catch((error: unknown) => logger.warn({ err: error }, 'looking up the sessions of open connections failed'))
      .finally(() => (rechecking = false));
  }, SESSION_RECHECK_MS);
  sessionRecheck.unref();
  // Uploads no message took within UPLOAD_TTL_MINUTES are removed, a batch at a time: disk stays bounded. So
  // are the files and messages of private rooms deleted without them (a crash between the two, found again
  // after a restart by the first sweep, at start), a batch of rooms holding some at a time, round and round.
  const roomSweepAfter = new Map<RoomLeftovers, string | undefined>();
  let sweepingFiles = false;
  const sweepFiles = () => {
    if (sweepingFiles) return;
    sweepingFiles = true;
    void (async () => {
      await sweepExpiredUploads(ctx).catch((error: unknown) => logger.warn({ err: error }, 'sweeping expired uploads failed'));
      for (const kind of leftovers) {
        await sweepDeletedRooms(rooms, kind, roomSweepAfter.get(kind)).then(
          ({ next }) => roomSweepAfter.set(kind, next),
          (error: unknown) => logger.warn({ err: error }, `sweeping deleted rooms' ${kind.what} failed`),
        );
      }
    })().finally(() => (sweepingFiles = false));
  };
  sweepFiles();
  const fileSweep = setInterval(sweepFiles, FILE_SWEEP_MS);
  fileSweep.unref();
  // One sweep closes the sockets that say nothing (see SocketSession.closeIfIdle) and those that do not read
  // (closeIfNotReading): a timer for all, not one each.
  const idleSweep = setInterval(
    () => {
      const now = Date.now();
      for (const session of sockets) {
        session.closeIfIdle(now);
        session.closeIfNotReading(now);
      }
    },
    Math.max(25, Math.min(1000, config.firstFrameTimeoutMs / 4, config.socketIdleMs / 4, config.slowReaderTimeoutMs / 4)),
  );
  idleSweep.unref();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(heartbeat);
      clearInterval(idleSweep);
      clearInterval(accountSweep);
      clearInterval(roomRecheck);
      clearInterval(sessionRecheck);
      clearInterval(fileSweep);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      // Sends already being written finish, and their acks go out before the sockets close.
      await writes.drain(2000);
      hub.close();
      presence.close();
      for (const session of sockets) session.close(CloseCode.goingAway, 'server shutting down');
      server.closeIdleConnections();
      await Promise.race([stopped, delay(2000)]);
      server.closeAllConnections();
      for (const session of sockets) session.terminate();
      await store.close();
      logger.info('Parley stopped');
    })();
    return closing;
  };
  return { url, port, metricsUrl, store, close };
}

function mountRoutes(app: Express, ctx: AppContext, routes: readonly HttpRoute[]): void {
  for (const { method, path, handler } of routes) {
    app[method](path, (req, res) => handler(ctx, req, res));
  }
}

/**
 * The listener of METRICS_PORT: /metrics and nothing else, with the same timeouts, connection cap and body
 * bound as the chat's. It answers whatever Host the scraper names (its targets may be any name): what it
 * serves are counts, and METRICS_TOKEN keeps them from a page that rebinds a name to it.
 */
function metricsOnlyServer(ctx: AppContext, guard: RequestGuard, limits: ClientLimits): Server {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  mountRoutes(app, ctx, metricsRoutes);
  app.use((_req, _res, next) => next(new ApiError(ErrorCode.notFound, 'this address serves GET /metrics only')));
  app.use(answerErrors(ctx.logger, ctx.metrics, guard));
  const server = createServer(connectionTimeouts(ctx.config), (req, res) => {
    if (guard.bodyWithinLimit(req, res)) app(req, res);
  });
  capConnectionsPerIp(server, limits, ctx.metrics);
  return server;
}

/** Whether HOST is an address of this machine only (127.0.0.0/8, ::1, localhost). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Listens, or rejects with a StartupError that names the setting to change. */
function listen(server: Server, host: string, port: number, setting = { host: 'HOST', port: 'PORT' }): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: unknown) => reject(listenFailure(error, host, port, setting));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** host:port as it is written in a URL (an IPv6 address in brackets). */
function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Why the server could not listen, in one line that says which setting to change. */
function listenFailure(error: unknown, host: string, port: number, setting: { host: string; port: string }): Error {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  const where = hostPort(host, port);
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`${where} is already in use (another Parley? set ${setting.port})`);
    case 'EACCES':
      return new StartupError(
        port < 1024
          ? `cannot listen on ${where}: ports below 1024 need root or the CAP_NET_BIND_SERVICE capability (set ${setting.port} to 1024 or above, such as 8888)`
          : `cannot listen on ${where}: permission denied (set ${setting.port} or ${setting.host})`,
      );
    case 'EADDRNOTAVAIL':
      return new StartupError(`cannot listen on ${where}: ${host} is not an address of this machine (set ${setting.host}: 127.0.0.1 for this machine only, 0.0.0.0 for every interface)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`cannot listen on ${where}: no address found for the name ${host} (set ${setting.host} to an address, such as 127.0.0.1 or 0.0.0.0)`);
    default:
      return error instanceof Error ? new StartupError(`cannot listen on ${where}: ${error.message}`) : new StartupError(`cannot listen on ${where}`);
  }
}

function serveClient(app: Express, clientDir: string | false, metrics: Metrics): void {
  if (clientDir === false) return;
  const index = `${clientDir}/index.html`;
  app.use(express.static(clientDir, { index: false }));
  for (const page of clientPages) {
    app.get(page, (_req, res) => {
      if (existsSync(index)) res.sendFile(index);
      else res.status(503).type('text').send('The client is not built yet: run `npm run build` (npm start does it for you).');
    });
  }
  for (const { path, to } of clientRedirects) app.get(path, (_req, res) => res.redirect(302, to));
  // A person who opens an address that is no page gets a page saying so, with a way back to the lobby, not
  // JSON. Only navigations ask for HTML first: scripts, fetches and curl (*/*) keep the JSON error.
  const notFoundPage = `${clientDir}/404.html`;
  app.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.accepts(['json', 'html']) !== 'html') {
      next();
      return;
    }
    readFile(notFoundPage).then(
      (page) => {
        metrics.refused(ErrorCode.notFound);
        res.status(404).type('html').send(page);
      },
      () => next(),
    );
  });
}

/**
 * The standard security headers (helmet), with a Content-Security-Policy that allows no inline script: the
 * client is one bundled script and one stylesheet from this origin. Author colours are set by Preact through
 * the CSSOM (element.style), which style-src does not govern. `connect-src 'self'` covers ws: and wss: to
 * this host in current browsers (CSP level 3). In `npm run dev` Vite injects inline scripts and styles for
 * hot reload, so those are allowed there only.
 */
function securityHeaders(dev: boolean): RequestHandler {
  const inline = dev ? ["'unsafe-inline'"] : [];
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...inline],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", ...inline],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Parley may be served over plain HTTP (a LAN, a VM); HSTS is for the TLS proxy in front of it to set.
    strictTransportSecurity: false,
  });
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Every state-changing request from a page of another origin is refused with 403 forbidden_origin (CSRF). */
function refuseForeignOrigins(allowed: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || originAllowed(req.headers.origin, req.headers.host, allowed)) next();
    else next(foreignOrigin(req.headers.origin));
  };
}

function foreignOrigin(origin: string | undefined): ApiError {
  return new ApiError(ErrorCode.forbiddenOrigin, `requests from pages at ${origin ?? 'that origin'} are not allowed here (see ALLOWED_ORIGINS)`);
}

/**
 * The connection slot `limits.openSocket` gave an upgrade: given back if the connection closes before it
 * becomes a WebSocket. Once it is one, OpenSockets gives it back, and this listener goes: it would hold
 * its scope for the socket's whole life.
 */
function holdSocketSlot(socket: Duplex, ip: string, limits: ClientLimits): { upgraded(): void } {
  const closedEarly = () => limits.socketClosed(ip);
  socket.once('close', closedEarly);
  return { upgraded: () => socket.off('close', closedEarly) };
}

/**
 * The 'prefinish' listener of every answer: when its last bytes were handed to the connection and some still
 * wait in this process (the kernel's buffer is full: the client reads slowly, or not at all), the connection
 * is destroyed after `timeoutMs` without progress. A client that never reads would otherwise hold them for
 * good. Once the answer is out, node's keep-alive timeout takes over.
 */
function cutIfNotTaken(timeoutMs: number): (this: ServerResponse) => void {
  return function (this: ServerResponse) {
    if (this.socket && this.socket.writableLength > 0) this.setTimeout(timeoutMs);
  };
}

/** Answers an upgrade request with an HTTP error instead of a WebSocket, then closes the connection. */
function refuseUpgrade(socket: Duplex, error: ApiError, metrics: Metrics): void {
  metrics.refused(error.code);
  const body = JSON.stringify(errorBody(error));
  const retryAfter = retryAfterHeader(error);
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(retryAfter ? [`Retry-After: ${retryAfter}`] : []),
  ];
  socket.on('error', () => undefined);
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/** express.json's `verify`: a body that is not UTF-8 is refused (body-parser would decode it with U+FFFD). */
function requireUtf8(_req: IncomingMessage, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) throw new Error('the request body is not valid UTF-8');
}

/** The most bytes the body of this request may have: an upload route's own bound, else MAX_FRAME_BYTES. */
function bodyLimit(req: IncomingMessage, config: Config): BodyLimit {
  const url = req.url ?? '/';
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const upload = uploadRoutes.find((route) => route.method.toUpperCase() === req.method && route.pattern.test(path));
  return upload ? { maxBytes: upload.maxBody(config), what: 'a file' } : { maxBytes: config.maxFrameBytes, what: 'a request body' };
}

/** The route of `fastRoutes` this URL names, with its query; undefined for everything express serves. */
function fastRoute(url: string | undefined): { route: (typeof fastRoutes)[number]; query: URLSearchParams } | undefined {
  if (!url) return undefined;
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  const route = fastRoutes.find((r) => r.path === path);
  return route && { route, query: new URLSearchParams(mark === -1 ? '' : url.slice(mark + 1)) };
}

/**
 * The headers a middleware (helmet) sets on every answer, read once, so that the routes served before
 * express carry exactly the same ones.
 */
function headersOf(middleware: RequestHandler): HeaderList {
  const set: OutgoingHttpHeader[] = [];
  const recorder = {
    setHeader(name: string, value: OutgoingHttpHeader) {
      set.push(name, value);
      return recorder;
    },
    removeHeader() {
      return recorder;
    },
    getHeader() {
      return undefined;
    },
  };
  let called = false;
  middleware({ method: 'GET', headers: {} } as unknown as Request, recorder as unknown as Response, () => {
    called = true;
  });
  if (!called) throw new Error('the security headers middleware did not finish synchronously');
  return set;
}

/** The last middleware: every error becomes { error: { code, message } } with its HTTP status. */
function answerErrors(logger: Logger, metrics: Metrics, guard: RequestGuard): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    // The guard answered while the route still read the body or worked on it: what fails next is its echo.
    if (guard.refused(req)) return;
    const apiError = reportRefusal(fromBodyParser(error) ?? error, { method: req.method, path: req.path }, logger, metrics);
    if (res.headersSent) return;
    const retryAfter = retryAfterHeader(apiError);
    if (retryAfter) res.setHeader('Retry-After', retryAfter);
    res.status(apiError.status).json(errorBody(apiError));
  };
}

/**
 * express.json() reports unreadable bodies with a `type`, and express a path it cannot decode (`%ZZ`) or a
 * body it cannot inflate with a 4xx `status`: give them our codes, not a 500.
 */
function fromBodyParser(error: unknown): ApiError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const type = 'type' in error ? error.type : undefined;
  if (type === 'entity.parse.failed') return new ApiError(ErrorCode.invalidJson, 'the request body is not valid JSON');
  if (type === 'entity.too.large') return new ApiError(ErrorCode.tooLarge, 'the request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported' || type === 'entity.verify.failed') {
    return new ApiError(ErrorCode.invalidRequest, 'the request body must be UTF-8 JSON');
  }
  const status = 'status' in error && typeof error.status === 'number' ? error.status : 0;
  if (status >= 400 && status < 500 && !(error instanceof ApiError)) {
    if (error instanceof Error && error.message.startsWith('Failed to decode param')) {
      return new ApiError(ErrorCode.invalidRequest, 'the path is not valid percent-encoded UTF-8');
    }
    const reason = error instanceof Error && 'expose' in error && error.expose === true ? `: ${error.message}` : '';
    return new ApiError(ErrorCode.invalidRequest, `the request could not be read${reason}`);
  }
  return undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
