// Builds the server from a config: express for HTTP, ws for WebSocket, the store, the hub; wires the
// routes of urls.ts to their handlers; start and stop.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { clientPages, httpRoutes, socketRoutes } from '../urls';
import type { Config } from './config';
import type { AppContext } from './context';
import { ApiError, errorBody, toApiError } from './errors';
import type { SocketSession } from './handlers/socket';
import { Hub } from './hub';
import { CloseCode, ErrorCode } from './protocol';
import { loadSessionSecret, SessionSigner } from './session';
import { openStore } from './store/open';
import type { MessageStore } from './store/store';

export const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../dist/client', import.meta.url));

export interface ServerOptions {
  logger?: Logger;
  /** Use this store instead of opening the configured one (tests); it is closed with the server. */
  store?: MessageStore;
  /** Where the built client is; false serves no client. Default: dist/client. */
  clientDir?: string | false;
  /** Mounts extra middleware before the client pages (the Vite dev server in `npm run dev`). */
  beforeClient?: (app: Express, server: Server) => Promise<void>;
}

export interface ParleyServer {
  /** http://host:port of the running server. */
  readonly url: string;
  readonly port: number;
  readonly store: MessageStore;
  /** Stops accepting, answers waiting long-polls, closes sockets with "going away", closes the store. */
  close(): Promise<void>;
}

export async function startServer(config: Config, options: ServerOptions = {}): Promise<ParleyServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const store = options.store ?? (await openStore(config, logger));
  const hub = new Hub(store);
  const sessions = new SessionSigner(loadSessionSecret(config.sessionSecret, config.dataDir));
  const ctx: AppContext = { config, store, hub, sessions, logger };

  const app = express();
  app.disable('x-powered-by');
  app.use('/api', express.json({ limit: config.maxFrameBytes }));
  for (const { method, path, handler } of httpRoutes) {
    app[method](path, (req, res) => handler(ctx, req, res));
  }
  app.use('/api', (_req, _res, next) => next(new ApiError(ErrorCode.notFound, 'no such API route')));

  const server = createServer(app);
  if (options.beforeClient) await options.beforeClient(app, server);
  serveClient(app, options.clientDir ?? DEFAULT_CLIENT_DIR);
  app.use((_req, _res, next) => next(new ApiError(ErrorCode.notFound, 'nothing here')));
  app.use(answerErrors(logger));

  const sockets = new Set<SocketSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.maxFrameBytes, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = socketRoutes.find((r) => r.path === path);
    if (!route) {
      // In `npm run dev` Vite's hot-reload socket shares this server and answers its own upgrades.
      if (!options.beforeClient) socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = route.handler(ctx, ws, req);
      sockets.add(session);
      ws.on('close', () => sockets.delete(session));
    });
  });
  // One sweep pings every socket and drops those that did not answer the previous ping.
  const heartbeat = setInterval(() => {
    for (const session of sockets) session.heartbeat();
  }, config.heartbeatMs);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, store: store.kind }, `Parley is listening on ${url}`);

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(heartbeat);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      hub.close();
      for (const session of sockets) session.close(CloseCode.goingAway, 'server shutting down');
      server.closeIdleConnections();
      await Promise.race([stopped, delay(2000)]);
      server.closeAllConnections();
      for (const client of wss.clients) client.terminate();
      await store.close();
      logger.info('Parley stopped');
    })();
    return closing;
  };
  return { url, port, store, close };
}

function serveClient(app: Express, clientDir: string | false): void {
  if (clientDir === false) return;
  const index = `${clientDir}/index.html`;
  app.use(express.static(clientDir, { index: false }));
  for (const page of clientPages) {
    app.get(page, (_req, res) => {
      if (existsSync(index)) res.sendFile(index);
      else res.status(503).type('text').send('The client is not built yet: run `npm run build` (npm start does it for you).');
    });
  }
}

/** The last middleware: every error becomes { error: { code, message } } with its HTTP status. */
function answerErrors(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const apiError = fromBodyParser(error) ?? toApiError(error);
    if (apiError.code === ErrorCode.internal) logger.error({ err: error }, 'request failed');
    if (res.headersSent) return;
    res.status(apiError.status).json(errorBody(apiError));
  };
}

/** express.json() reports unreadable bodies with a `type`; give them our codes. */
function fromBodyParser(error: unknown): ApiError | undefined {
  const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : undefined;
  if (type === 'entity.parse.failed') return new ApiError(ErrorCode.invalidJson, 'the request body is not valid JSON');
  if (type === 'entity.too.large') return new ApiError(ErrorCode.tooLarge, 'the request body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new ApiError(ErrorCode.invalidRequest, 'the request body must be UTF-8 JSON');
  }
  return undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
