// Picking a nickname: the server remembers it in a signed cookie and stamps it on every message sent.
import { validate } from '../errors';
import type { SessionLookupResponse, SessionResponse } from '../protocol';
import { SessionRequest } from '../validation';
import type { HttpHandler } from './http';

/** POST /api/session: binds the nickname to this browser. */
export const createSession: HttpHandler = (ctx, req, res) => {
  const { nick } = validate(SessionRequest, req.body);
  res.setHeader('Set-Cookie', ctx.sessions.cookieFor({ nick }));
  res.json({ nick, maxTextLength: ctx.config.maxTextLength } satisfies SessionResponse);
};

/**
 * GET /api/session: who this browser is, `nick: null` before it picks a nickname. Not an error: every
 * first visit asks, and a 401 would be a red line in every newcomer's console.
 */
export const showSession: HttpHandler = (ctx, req, res) => {
  const session = ctx.sessions.fromCookieHeader(req.headers.cookie);
  res.json({ nick: session?.nick ?? null, maxTextLength: ctx.config.maxTextLength } satisfies SessionLookupResponse);
};
