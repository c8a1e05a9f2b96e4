// `npm start` when the server cannot start: the person starting it gets one line saying why and what to
// change, as for a bad setting, and exit code 1; never a stack trace.
import { readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartupError } from '../server/startup-error';
import { ChildServer, freePort, type Exit } from './child-server';
import { autoCleanup, createSession, history, http, postMessage, startTestServer, tempDir, withTimeout } from './helpers';

autoCleanup();

const running: ChildServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) if (server.running) await server.kill('SIGKILL');
});

/** Runs the server process until it exits by itself; resolves with its exit and what it wrote to stderr. */
async function runUntilExit(port: number, dataDir: string, env: Record<string, string> = {}, options: { uid?: number; gid?: number } = {}): Promise<Exit & { stderr: string }> {
  const server = ChildServer.spawn(port, dataDir, env, options);
  running.push(server);
  const exit = await withTimeout(server.exited, 30_000, 'the server to give up starting');
  return { ...exit, stderr: server.errors };
}

function listenOn(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const holder = createServer();
    holder.once('error', reject);
    holder.listen(port, host, () => resolve(holder));
  });
}

/** Where binding a port below 1024 is refused to this test's server process, and as which user to run it. */
function unprivilegedUser(): { uid?: number; gid?: number } | undefined {
  if (process.platform !== 'linux') return undefined;
  // Linux lets anyone bind from this port up; 1024 unless lowered.
  const firstUnprivileged = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  if (firstUnprivileged <= 80) return undefined;
  // As root the server would be allowed: it runs as `nobody` instead.
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
}

describe('a server that cannot start says why in one line', { timeout: 60_000 }, () => {
  it('port in use: names host and port, exit 1, no stack', async () => {
    const port = await freePort();
    const holder = await listenOn(port, '127.0.0.1');
    try {
      const { code, stderr } = await runUntilExit(port, await tempDir());
      expect(stderr).toBe(`parley: 127.0.0.1:${port} is already in use (another Parley? set PORT)\n`);
      expect(code).toBe(1);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('an address this machine does not have: names HOST, exit 1, no stack', async () => {
    // 192.0.2.1 is reserved for documentation (RFC 5737): no interface has it, and binding sends nothing.
    const { code, stderr } = await runUntilExit(await freePort(), await tempDir(), { HOST: '192.0.2.1' });
    expect(stderr).toMatch(/^parley: cannot listen on 192\.0\.2\.1:\d+: 192\.0\.2\.1 is not an address of this machine \(set HOST[^\n]*\)\n$/);
    expect(code).toBe(1);
  });

  it.skipIf(unprivilegedUser() === undefined)('a port below 1024 without the privilege: says so, exit 1, no stack', async () => {
    const dataDir = await tempDir();
    await chmod(dataDir, 0o777);
    const { code, stderr } = await runUntilExit(80, dataDir, {}, unprivilegedUser());
    expect(stderr).toMatch(/^parley: cannot listen on 127\.0\.0\.1:80: ports below 1024 need[^\n]*set PORT[^\n]*\n$/);
    expect(code).toBe(1);
  });
});

// Two processes writing one embedded store would each number the messages of a room on their own, and
// their readers would see different histories: a second one must not start.
describe('one Parley at a time on a DATA_DIR', { timeout: 60_000 }, () => {
  it('refuses a second process with one line naming the first one\'s pid; the first serves on', async () => {
    const dataDir = await tempDir();
    const first = await ChildServer.start(await freePort(), dataDir);
    running.push(first);
    const { code, stderr } = await runUntilExit(await freePort(), dataDir);
    expect(stderr).toBe(`parley: DATA_DIR ${dataDir} is in use by another Parley (pid ${first.process.pid}); stop it or choose another DATA_DIR\n`);
    expect(code).toBe(1);
    expect(first.running).toBe(true);
  });

  it('starts on the DATA_DIR of a server that was SIGKILLed, with its messages', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const killed = await ChildServer.start(port, dataDir);
    running.push(killed);
    const cookie = await createSession(base);
    expect((await postMessage(base, 'lobby', { clientId: 'before-kill-1', text: 'kept' }, cookie)).status).toBe(201);
    expect((await killed.kill('SIGKILL')).signal).toBe('SIGKILL');

    const next = await ChildServer.start(port, dataDir);
    running.push(next);
    expect((await history(base, 'lobby')).messages.map((m) => m.text)).toEqual(['kept']);
  });

  it('in one process: a second start on the DATA_DIR is refused until the first server is closed', async () => {
    const first = await startTestServer();
    const second = startTestServer({}, first.dataDir);
    await expect(second).rejects.toBeInstanceOf(StartupError);
    await expect(second).rejects.toThrow(`DATA_DIR ${first.dataDir} is in use by another Parley (pid ${process.pid})`);
    await first.close();
    const again = await startTestServer({}, first.dataDir);
    expect((await http(again.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('takes over a lock file that names no running process: this one\'s own pid (a restarted container), or none', async () => {
    for (const leftover of [`${process.pid}\n`, 'not a pid\n']) {
      const dataDir = await tempDir();
      await writeFile(join(dataDir, 'parley.lock'), leftover);
      const started = await startTestServer({}, dataDir);
      expect((await http(started.url, 'GET', '/healthz')).status).toBe(200);
      await started.close();
    }
  });

  it('a start that cannot listen lets go of the DATA_DIR', async () => {
    const port = await freePort();
    const holder = await listenOn(port, '127.0.0.1');
    const dataDir = await tempDir();
    try {
      await expect(startTestServer({ PORT: String(port) }, dataDir)).rejects.toThrow(`127.0.0.1:${port} is already in use`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    const started = await startTestServer({}, dataDir);
    expect((await http(started.url, 'GET', '/healthz')).status).toBe(200);
  });
});
