// An address that is no page: a browser that navigates there gets the client's HTML "page not found" with
// a way back to the lobby; the API and every client that does not ask for HTML keep the JSON error.
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startServer } from '../server/app';
import { loadConfig } from '../server/config';
import { ErrorCode, type ErrorResponse } from '../server/protocol';
import { autoCleanup, deferCleanup, http, tempDir } from './helpers';

autoCleanup();

/** What Chromium sends when a person opens an address. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/** A server whose client dir holds the real 404 page and a stand-in index.html (vitest runs before the build). */
async function serverWithClient(): Promise<string> {
  const clientDir = await tempDir();
  await copyFile(fileURLToPath(new URL('../client/404.html', import.meta.url)), join(clientDir, '404.html'));
  await writeFile(join(clientDir, 'index.html'), '<!doctype html><title>Parley</title><div id="app"></div>');
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORE: 'embedded', DATA_DIR: await tempDir(), LOG_LEVEL: 'silent' });
  const server = await startServer(config, { clientDir, logger: pino({ level: 'silent' }) });
  deferCleanup(() => server.close());
  return server.url;
}

const asBrowser = { headers: { accept: BROWSER_ACCEPT } };

describe('an address that is no page', () => {
  it('a browser gets the HTML 404 page with a link to the lobby, under the same security headers', async () => {
    const url = await serverWithClient();
    for (const path of ['/nope', '/r/dev/extra', '/favicon-that-is-not-here']) {
      const answer = await http(url, 'GET', path, asBrowser);
      expect(answer.status, path).toBe(404);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.text).toContain('Page not found');
      expect(answer.text).toMatch(/<a [^>]*href="\/"[^>]*>Go to the lobby<\/a>/);
      expect(answer.headers['content-security-policy']).toContain("script-src 'self'");
    }
    // Nothing the CSP would block: no inline script or style.
    const page = (await http(url, 'GET', '/nope', asBrowser)).text;
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=/i);
  });

  it('every room address still opens the client, which judges the name itself', async () => {
    const url = await serverWithClient();
    for (const path of ['/', '/r/dev', '/r/dev/', '/r/Dev', '/r/has%20space']) {
      const answer = await http(url, 'GET', path, asBrowser);
      expect(answer.status, path).toBe(200);
      expect(answer.text, path).toContain('<div id="app">');
    }
  });

  it('/r/ and /r, a room without a name, lead to the lobby', async () => {
    const url = await serverWithClient();
    for (const path of ['/r/', '/r']) {
      const answer = await http(url, 'GET', path, asBrowser);
      expect(answer.status, path).toBe(302);
      expect(answer.headers.location, path).toBe('/');
    }
  });

  it('the API, and clients that do not ask for HTML, keep the JSON error', async () => {
    const url = await serverWithClient();
    const cases: [string, string, Record<string, string>][] = [
      ['GET', '/api/nope', { accept: BROWSER_ACCEPT }],
      ['GET', '/nope', { accept: 'application/json' }],
      ['GET', '/nope', { accept: '*/*' }],
      ['GET', '/nope', {}],
      ['POST', '/nope', { accept: BROWSER_ACCEPT }],
    ];
    for (const [method, path, headers] of cases) {
      const answer = await http<ErrorResponse>(url, method, path, { headers });
      const what = `${method} ${path} (Accept: ${headers.accept ?? 'none'})`;
      expect(answer.status, what).toBe(404);
      expect(answer.headers['content-type'], what).toMatch(/^application\/json/);
      expect(answer.body.error.code, what).toBe(ErrorCode.notFound);
    }
  });
});
