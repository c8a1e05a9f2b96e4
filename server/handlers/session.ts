// Who this browser is: a guest under a nickname, or an account signed in with a password; signing up,
// signing out, and the signed-in person's list of sessions, any of which they may end.
import { ApiError, validate } from '../errors';
import { ErrorCode, type SessionListResponse, type SessionLookupResponse, type SessionResponse } from '../protocol';
import type { Request } from 'express';
import type { Accounts, Session } from '../accounts/accounts';
import { GuestRequest, PasswordRequest } from '../validation';
import type { HttpHandler } from './http';

/** GET /api/session: who this browser is, `nick: null` when nobody. Renews the cookie of a live session. */
export const showSession: HttpHandler = async (ctx, req, res) => {
  const session = await ctx.accounts.sessionOf(req);
  res.setHeader('Cache-Control', 'no-store');
  if (!session) {
    res.json({ nick: null, maxTextLength: ctx.config.maxTextLength, guestsAllowed: ctx.accounts.guestsAllowed } satisfies SessionLookupResponse);
    return;
  }
  res.setHeader('Set-Cookie', ctx.accounts.cookieFor(req, undefined));
  res.json(sessionAnswer(session, ctx.config.maxTextLength));
};

/** POST /api/session: `{nick}` starts a guest session (or changes a guest's nickname), `{username, password}` signs in. */
export const startSession: HttpHandler = async (ctx, req, res) => {
  const body: unknown = req.body;
  let started;
  if (typeof body === 'object' && body !== null && 'username' in body) {
    const { username, password } = validate(PasswordRequest, body);
    started = await ctx.accounts.signIn(username, password, req, ctx.limits.clientIp(req));
  } else {
    ctx.limits.takeGuest(ctx.limits.clientIp(req));
    started = await ctx.accounts.startGuest(validate(GuestRequest, body).nick, req, await ctx.accounts.sessionOf(req));
  }
  res.setHeader('Set-Cookie', started.cookie);
  res.json(sessionAnswer(started.session, ctx.config.maxTextLength));
};

/** DELETE /api/session: signs out (a guest's nickname is free again); its sockets and long-polls close. 204 either way. */
export const endSession: HttpHandler = async (ctx, req, res) => {
  await ctx.accounts.signOut(req);
  res.setHeader('Set-Cookie', ctx.accounts.clearedCookie(req));
  res.status(204).end();
};

/** POST /api/accounts: a new account, signed in at once (201). */
export const signUp: HttpHandler = async (ctx, req, res) => {
  const { username, password } = validate(PasswordRequest, req.body);
  const started = await ctx.accounts.signUp(username, password, req, ctx.limits.clientIp(req));
  res.setHeader('Set-Cookie', started.cookie);
  res.status(201).json(sessionAnswer(started.session, ctx.config.maxTextLength));
};

/** GET /api/sessions: the signed-in person's live sessions. */
export const listSessions: HttpHandler = async (ctx, req, res) => {
  const session = await signedIn(ctx.accounts, req);
  const records = await ctx.accounts.sessionsOf(session);
  res.setHeader('Cache-Control', 'no-store');
  res.json({
    sessions: records.map(({ hash, createdAt, lastSeenAt, agent }) => ({ id: hash, current: hash === session.id, createdAt, lastSeenAt, agent })),
  } satisfies SessionListResponse);
};

/** DELETE /api/sessions/:id: ends one of the signed-in person's sessions, closing its sockets and long-polls (204). */
export const revokeSession: HttpHandler = async (ctx, req, res) => {
  const session = await signedIn(ctx.accounts, req);
  const id = String(req.params.id);
  if (!(await ctx.accounts.revoke(session, id))) throw new ApiError(ErrorCode.notFound, 'you have no such session');
  if (id === session.id) res.setHeader('Set-Cookie', ctx.accounts.clearedCookie(req));
  res.status(204).end();
};

async function signedIn(accounts: Accounts, req: Request): Promise<Session> {
  const session = await accounts.sessionOf(req);
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'sign in first');
  return session;
}

function sessionAnswer(session: Session, maxTextLength: number): SessionResponse {
  return { nick: session.nick, guest: session.guest, maxTextLength };
}
