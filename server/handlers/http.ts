// The shapes of HTTP handlers: most get the app's context with express's request and response; the few
// on the hot path (`fastRoutes` in urls.ts) get node's own, with the query already parsed.
import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import type { AppContext } from '../context';

export type HttpHandler = (ctx: AppContext, req: Request, res: Response) => Promise<void> | void;

export type FastHandler = (
  ctx: AppContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  /** The headers every answer carries (the security headers express's routes get from helmet). */
  headers: HeaderList,
) => Promise<void> | void;

/**
 * Headers as a flat list, name, value, name, value..., written with the status line when the answer goes:
 * a held long-poll that set its headers on arrival would keep them, about 1.6 KB, for as long as it waits.
 */
export type HeaderList = readonly OutgoingHttpHeader[];

/** Answers with JSON, with `headers` (if any): `body` is encoded here, or sent as is when it is already bytes. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: HeaderList = []): void {
  // The body guard (http-guard.ts) may have answered already: a body passed its bound while the route worked.
  if (res.headersSent) return;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, [...headers, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', bytes.length]);
  res.end(bytes);
}

/**
 * Makes an answer from the store (`answer` reads, then writes) in the client's turn (see Turns), so that one
 * client's many requests cannot keep the server from serving others. Skips it if the request was answered
 * or dropped while it waited.
 */
export async function inReadTurn(ctx: AppContext, req: IncomingMessage, res: ServerResponse, answer: () => Promise<void>): Promise<void> {
  const end = await ctx.limits.readTurn(ctx.limits.clientIp(req));
  try {
    if (res.writableEnded || req.socket.destroyed) return;
    await answer();
  } finally {
    end();
  }
}
