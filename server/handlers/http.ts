// The shapes of HTTP handlers: most get the app's context with express's request and response; the few
// on the hot path (`fastRoutes` in urls.ts) get node's own, with the query already parsed.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { AppContext } from '../context';

export type HttpHandler = (ctx: AppContext, req: Request, res: Response) => Promise<void> | void;

export type FastHandler = (
  ctx: AppContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
) => Promise<void> | void;

/** Answers with JSON: `body` is encoded here, or sent as is when it is already bytes. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': bytes.length });
  res.end(bytes);
}
