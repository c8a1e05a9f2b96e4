// Sessions: the nickname a visitor picked, kept in a signed, httpOnly cookie. The server stamps every
// message's author from here, never from what the client sends.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';

export const SESSION_COOKIE = 'parley_session';
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

export interface Session {
  nick: string;
}

export class SessionSigner {
  constructor(private readonly secret: Buffer) {}

  /** The Set-Cookie header value that binds `nick` to this browser. */
  cookieFor(session: Session): string {
    const payload = Buffer.from(JSON.stringify({ nick: session.nick })).toString('base64url');
    return serializeCookie(SESSION_COOKIE, `${payload}.${this.sign(payload)}`, {
      httpOnly: true,
      sameSite: 'lax',
      path: '/',
      maxAge: ONE_YEAR_SECONDS,
    });
  }

  /** The session carried by a Cookie header, or undefined when absent or forged. */
  fromCookieHeader(header: string | undefined): Session | undefined {
    if (!header) return undefined;
    const value = parseCookies(header)[SESSION_COOKIE];
    if (!value) return undefined;
    const dot = value.lastIndexOf('.');
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(payload), 'base64url');
    if (dot < 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const parsed: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null && 'nick' in parsed && typeof parsed.nick === 'string') {
        return { nick: parsed.nick };
      }
    } catch {
      // A correctly signed but unreadable payload cannot happen unless the secret leaked; treat as no session.
    }
    return undefined;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

/** The configured secret, or one kept in `dataDir` so that sessions survive a restart. */
export function loadSessionSecret(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return Buffer.from(configured);
  const file = join(dataDir, 'session-secret');
  try {
    const kept = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (kept.length >= 32) return kept;
  } catch {
    // No secret yet: make one below.
  }
  // Missing, empty or truncated: a new secret (visitors pick their nickname again once).
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('hex'), { mode: 0o600 });
  return secret;
}
