// The session cookie: it carries the session id and nothing else. HttpOnly and SameSite=Lax always; over
// HTTPS also Secure, under the `__Host-` prefix (which the browser keeps to this exact host, over HTTPS,
// on every path: a page on a sibling domain or on plain HTTP cannot set it). HTTPS is the connection's own
// TLS, or, with TRUST_PROXY, what the proxy in front says in X-Forwarded-Proto.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';

/** The cookie's name over plain HTTP. */
export const SESSION_COOKIE = 'parley_session';
/** Its name over HTTPS. */
export const SECURE_SESSION_COOKIE = '__Host-parley_session';
/** A session id: 32 random bytes in base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** Whether the browser reached us over HTTPS. */
export function overHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  if (!trustProxy) return false;
  // A chain of proxies lists one scheme each, the browser's first.
  const forwarded = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

/** The well-formed session id the request's cookie carries, or undefined. */
export function readSessionId(req: IncomingMessage, trustProxy: boolean): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  const value = parseCookies(header)[overHttps(req, trustProxy) ? SECURE_SESSION_COOKIE : SESSION_COOKIE];
  return value !== undefined && SESSION_ID.test(value) ? value : undefined;
}

/** The Set-Cookie value that gives this browser session `id` for `maxAgeSeconds` (renewed as it is used). */
export function sessionCookie(id: string, req: IncomingMessage, trustProxy: boolean, maxAgeSeconds: number): string {
  const secure = overHttps(req, trustProxy);
  return serializeCookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, id, { httpOnly: true, sameSite: 'lax', path: '/', secure, maxAge: maxAgeSeconds });
}

/** The Set-Cookie value that makes the browser forget its session cookie. */
export function clearedSessionCookie(req: IncomingMessage, trustProxy: boolean): string {
  const secure = overHttps(req, trustProxy);
  return serializeCookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', path: '/', secure, maxAge: 0 });
}
