// Picking a nickname: the server remembers it in a signed cookie and stamps it on every message sent.
import { ApiError, validate } from '../errors';
import { ErrorCode, type SessionResponse } from '../protocol';
import { SessionRequest } from '../validation';
import type { HttpHandler } from './http';

/** POST /api/session: binds the nickname to this browser. */
export const createSession: HttpHandler = (ctx, req, res) => {
  const { nick } = validate(SessionRequest, req.body);
  res.setHeader('Set-Cookie', ctx.sessions.cookieFor({ nick }));
  res.json({ nick, maxTextLength: ctx.config.maxTextLength } satisfies SessionResponse);
};

/** GET /api/session: who this browser is, or 401 when it has not picked a nickname yet. */
export const showSession: HttpHandler = (ctx, req, res) => {
  const session = ctx.sessions.fromCookieHeader(req.headers.cookie);
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'no session yet: pick a nickname (POST /api/session)');
  res.json({ nick: session.nick, maxTextLength: ctx.config.maxTextLength } satisfies SessionResponse);
};
