// Hostile clients, over real HTTP and WebSocket: nobody speaks as someone else, a foreign page can neither
// open a socket nor post (CSWSH, CSRF), bytes that are not UTF-8 are refused, and every answer carries the
// security headers.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SESSION_COOKIE } from '../server/accounts/session-cookie';
import {
  autoCleanup,
  createSession,
  DEFAULT_TIMEOUT_MS,
  history,
  http,
  newClientId,
  ofType,
  postMessage,
  startTestServer,
  TestSocket,
  withTimeout,
} from './helpers';

autoCleanup();

interface UpgradeAnswer {
  /** 101 when the socket opened, else the HTTP status the server refused it with. */
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Tries a WebSocket upgrade with these headers; closes the socket at once if it opens. */
function tryUpgrade(wsUrl: string, headers: Record<string, string> = {}): Promise<UpgradeAnswer> {
  const ws = new WebSocket(wsUrl, { headers });
  return withTimeout(
    new Promise<UpgradeAnswer>((resolve, reject) => {
      ws.once('open', () => {
        ws.close();
        resolve({ status: 101, body: '', headers: {} });
      });
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
        res.on('error', reject);
      });
      ws.once('error', (error) => reject(error));
    }),
    DEFAULT_TIMEOUT_MS,
    `the upgrade to ${wsUrl}`,
  );
}

describe('identity', () => {
  it('refuses a payload that names an author, over WebSocket and HTTP; the stored author is the session nick', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url, 'alice');
    const socket = await TestSocket.open(wsUrl, cookie);
    const spoofId = newClientId();
    socket.send({ type: 'send', room: 'lobby', clientId: spoofId, text: 'I am bob', author: 'bob' });
    const refused = await socket.next(ofType('error', (f) => f.clientId === spoofId));
    expect(refused.code).toBe('invalid_frame');
    expect(refused.message).toMatch(/author/);

    const post = await postMessage<{ error: { code: string } }>(url, 'lobby', { clientId: newClientId(), text: 'I am bob', author: 'bob' }, cookie);
    expect(post.status).toBe(400);
    expect(post.body.error.code).toBe('invalid_request');
    // JSON.parse makes "__proto__" an own key (not the prototype), and the strict schema refuses it.
    const raw = `{"clientId": "${newClientId()}", "text": "x", "__proto__": {"author": "bob"}}`;
    const polluted = await http<{ error: { code: string } }>(url, 'POST', '/api/rooms/lobby/messages', { raw, cookie });
    expect(polluted.status).toBe(400);
    expect(polluted.body.error.code).toBe('invalid_request');

    const ack = await socket.sendMessage('lobby', 'hello, alice here');
    expect(ack.message.author).toBe('alice');
    const { messages } = await history(url, 'lobby');
    expect(messages.map((m) => [m.author, m.text])).toEqual([['alice', 'hello, alice here']]);
  });

  it('treats a forged session cookie as no session: unauthenticated over HTTP and WebSocket, nothing stored', async () => {
    const { url, wsUrl } = await startTestServer();
    const alice = await createSession(url, 'alice');
    const [, value = ''] = alice.split('=');
    const bobPayload = Buffer.from(JSON.stringify({ nick: 'bob' })).toString('base64url');
    const forgeries = [
      `${SESSION_COOKIE}=${randomBytes(32).toString('base64url')}`, // a well-formed id the server never gave
      `${SESSION_COOKIE}=${value.startsWith('x') ? 'y' : 'x'}${value.slice(1)}`, // alice's id, one character changed
      `${SESSION_COOKIE}=${bobPayload}`, // the old cookie's payload, naming bob
      `${SESSION_COOKIE}=bob`,
    ];
    for (const cookie of forgeries) {
      const answer = await postMessage<{ error: { code: string } }>(url, 'lobby', { clientId: newClientId(), text: 'as bob' }, cookie);
      expect(answer.status, cookie).toBe(401);
      expect(answer.body.error.code).toBe('unauthenticated');
      const socket = await TestSocket.open(wsUrl, cookie);
      await expect(socket.sendMessage('lobby', 'as bob')).rejects.toThrow(/unauthenticated/);
      await socket.close();
    }
    expect((await history(url, 'lobby')).messages).toEqual([]);
  });
});

describe('origin', () => {
  it('refuses a WebSocket upgrade from a foreign page with 403, and opens one from its own origin or none', async () => {
    const { url, wsUrl, server } = await startTestServer();
    const host = new URL(url).host;
    for (const origin of ['http://evil.example', `https://${host}.evil.example`, 'null', 'file://', `ftp://${host}`]) {
      const answer = await tryUpgrade(wsUrl, { origin });
      expect(answer.status, origin).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'forbidden_origin', retryable: false } });
    }
    expect((await tryUpgrade(wsUrl, { origin: url })).status).toBe(101);
    expect((await tryUpgrade(wsUrl)).status).toBe(101); // no Origin: not a browser
    // localhost and 127.0.0.1 are each their own origin: a page is allowed when its host is the Host it asked.
    const viaLocalhost = `ws://localhost:${server.port}/ws`;
    expect((await tryUpgrade(viaLocalhost, { origin: `http://localhost:${server.port}` })).status).toBe(101);
    expect((await tryUpgrade(viaLocalhost, { origin: url })).status).toBe(403);
  });

  it('refuses a POST from a foreign page with 403 forbidden_origin, storing nothing; same-origin and no-Origin POSTs work', async () => {
    const { url } = await startTestServer();
    const cookie = await createSession(url, 'alice');
    const post = (origin: string | undefined) =>
      http<{ error?: { code: string } }>(url, 'POST', '/api/rooms/lobby/messages', {
        json: { clientId: newClientId(), text: `from ${origin}` },
        cookie,
        headers: origin === undefined ? {} : { origin },
      });
    for (const origin of ['http://evil.example', 'null']) {
      const answer = await post(origin);
      expect(answer.status, origin).toBe(403);
      expect(answer.body.error?.code).toBe('forbidden_origin');
    }
    const foreignSession = await http(url, 'POST', '/api/session', { json: { nick: 'mallory' }, headers: { origin: 'http://evil.example' } });
    expect(foreignSession.status).toBe(403);
    expect(foreignSession.headers['set-cookie']).toBeUndefined();
    expect((await post(url)).status).toBe(201);
    expect((await post(undefined)).status).toBe(201);
    // Reading is not state-changing: a GET from anywhere is answered (the same-origin policy keeps its body from foreign pages).
    expect((await http(url, 'GET', '/api/rooms/lobby/messages', { headers: { origin: 'http://evil.example' } })).status).toBe(200);
    expect((await history(url, 'lobby')).messages.map((m) => m.text)).toEqual([`from ${url}`, 'from undefined']);
  });

  it('allows the origins listed in ALLOWED_ORIGINS, besides its own', async () => {
    const { url, wsUrl } = await startTestServer({ ALLOWED_ORIGINS: 'https://chat.example.com, http://localhost:5173' });
    expect((await tryUpgrade(wsUrl, { origin: 'https://chat.example.com' })).status).toBe(101);
    expect((await tryUpgrade(wsUrl, { origin: 'http://localhost:5173' })).status).toBe(101);
    expect((await tryUpgrade(wsUrl, { origin: 'http://chat.example.com' })).status).toBe(403);
    expect((await tryUpgrade(wsUrl, { origin: url })).status).toBe(101);
    const answer = await http(url, 'POST', '/api/session', { json: { nick: 'ada' }, headers: { origin: 'https://chat.example.com' } });
    expect(answer.status).toBe(200);
  });
});

describe('bytes that are not UTF-8', () => {
  it('closes a socket that sends a text frame of invalid UTF-8 with 1007, and keeps serving others', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await createSession(url, 'alice');
    const bad = await TestSocket.open(wsUrl, cookie);
    const good = await TestSocket.open(wsUrl, cookie);
    bad.sendRaw(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])); // {"\xc3("}: a broken two-byte sequence
    expect((await bad.closed).code).toBe(1007);
    await good.sendMessage('lobby', 'still here');
  });

  it('answers an HTTP body of invalid UTF-8 with 400 invalid_request, not a silent U+FFFD', async () => {
    const { url } = await startTestServer();
    const cookie = await createSession(url, 'alice');
    const body = Buffer.concat([Buffer.from(`{"clientId":"${newClientId()}","text":"a`), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const answer = await http<{ error: { code: string; message: string } }>(url, 'POST', '/api/rooms/lobby/messages', {
      raw: body,
      cookie,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_request', message: 'the request body must be UTF-8 JSON' });
    expect((await history(url, 'lobby')).messages).toEqual([]);
  });
});

describe('security headers', () => {
  it('sends a Content-Security-Policy without inline script, and the other standard headers', async () => {
    const { url } = await startTestServer();
    for (const path of ['/healthz', '/api/rooms/lobby/messages', '/nowhere', '/wait?room=lobby', '/wait?room=Not%20A%20Room']) {
      const { headers } = await http(url, 'GET', path);
      const csp = String(headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("img-src 'self' data:");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-powered-by']).toBeUndefined();
    }
  });
});
