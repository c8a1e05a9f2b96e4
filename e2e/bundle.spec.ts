// What `npm start` runs: the server bundle (dist/server.js, made by `npm run build`), as a process of its
// own, where the other specs start the TypeScript source in-process. A bundling mistake (a path resolved
// from the wrong place, a dependency left out) would show here and nowhere else.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { freePort } from '../test/free-port';
import { connectionStatus, expect, joinChat, sendMessage, storedMessage, test } from './fixtures';

const BUNDLE = fileURLToPath(new URL('../dist/server.js', import.meta.url));

test('the bundle npm start runs serves the chat over WebSocket and long-poll, and stops on SIGTERM', async ({ browser }) => {
  expect(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build first`).toBe(true);
  const dataDir = await mkdtemp(join(tmpdir(), 'parley-bundle-'));
  const port = await freePort();
  // Run from the data dir, so that a .env of the checkout cannot change what is tested.
  const child = spawn(process.execPath, [BUNDLE], {
    cwd: dataDir,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    const url = `http://127.0.0.1:${port}`;
    const health = () =>
      child.exitCode !== null ? Promise.resolve('exited') : fetch(`${url}/healthz`).then((r) => (r.ok ? 'up' : 'starting'), () => 'starting');
    await expect.poll(health, { timeout: 15_000 }).not.toBe('starting');
    expect(await health(), `the bundle did not start:\n${output}`).toBe('up');

    const adaContext = await browser.newContext();
    const benContext = await browser.newContext();
    // Ben's WebSocket is refused, as by a proxy that does not pass them: he is on long-poll.
    await benContext.routeWebSocket(/\/ws$/, (ws) => ws.close({ code: 4001, reason: 'blocked by proxy' }));
    const ada = await adaContext.newPage();
    const ben = await benContext.newPage();
    await joinChat(ada, url, 'Ada', 'launch');
    await joinChat(ben, url, 'Ben', 'launch');
    await expect(connectionStatus(ada)).toHaveAttribute('data-state', 'live-ws');
    await expect(connectionStatus(ben)).toHaveAttribute('data-state', 'live-poll', { timeout: 15_000 });

    await sendMessage(ada, 'from the bundle, over WebSocket');
    await expect(storedMessage(ben, 'from the bundle, over WebSocket')).toBeVisible();
    await sendMessage(ben, 'and back, over long-poll');
    await expect(storedMessage(ada, 'and back, over long-poll')).toBeVisible();
    await expect(ada.locator('#people-heading')).toHaveText('Here now (2)');
    await Promise.all([adaContext.close(), benContext.close()]);

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(output).toContain('Parley stopped');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});

/**
 * What a first visit downloads, gzip-compressed: the page's script and styles. The budget leaves room for
 * a little more, not for a second Markdown library or a framework: a change that passes it says why.
 * History: 25.9 kB before Markdown (marked), 47.5 kB with it, 58.0 kB with edits, reactions, replies,
 * files, private rooms, read markers and notifications (2026-12-02).
 */
const SCRIPT_BUDGET_BYTES = 64 * 1024;
const STYLES_BUDGET_BYTES = 8 * 1024;

test('the page downloads at most 64 KiB of script and 8 KiB of styles, gzip-compressed', () => {
  const assets = fileURLToPath(new URL('../dist/client/assets/', import.meta.url));
  const sizeOf = (ext: string) =>
    readdirSync(assets)
      .filter((name) => name.endsWith(ext))
      .reduce((total, name) => total + gzipSync(readFileSync(join(assets, name)), { level: 9 }).length, 0);
  const script = sizeOf('.js');
  const styles = sizeOf('.css');
  expect(script, `script: ${script} bytes gzip`).toBeGreaterThan(0);
  expect(script, `script: ${script} bytes gzip`).toBeLessThanOrEqual(SCRIPT_BUDGET_BYTES);
  expect(styles, `styles: ${styles} bytes gzip`).toBeLessThanOrEqual(STYLES_BUDGET_BYTES);
});
