// Which web pages may open a socket or change state here: the guard against cross-site WebSocket hijacking
// (CSWSH) and cross-site request forgery (CSRF), after OWASP's WebSocket and CSRF cheat sheets.
//
// A browser always sends Origin on a WebSocket upgrade and on a cross-site POST, and a page cannot forge it.
// So: the server's own origin is allowed (an Origin whose host:port is the request's Host: this works on
// localhost and 127.0.0.1 alike, and behind a proxy that passes Host on), as are those in ALLOWED_ORIGINS.
// "null" (a sandboxed frame, a file:// page) and any other origin are refused. A request without Origin
// is not a browser's cross-site request (curl, a bot, the tests): it is allowed, and still needs a session
// to send; the session cookie is SameSite=Lax, so a cross-site page's POSTs do not carry it anyway.

/** Whether a request with this Origin and Host header may open a socket or POST. */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  let page: URL;
  try {
    page = new URL(origin);
  } catch {
    return false; // "null" and anything else that is not an origin
  }
  if (page.protocol !== 'http:' && page.protocol !== 'https:') return false;
  if (allowed.includes(page.origin)) return true;
  return host !== undefined && sameHost(page, host);
}

/** The page's host:port is the request's Host (its port read in the page's scheme, so :443 and none agree). */
function sameHost(page: URL, host: string): boolean {
  try {
    return new URL(`${page.protocol}//${host}`).host === page.host;
  } catch {
    return false;
  }
}
