// The real server as a child process (the bundle test/server-bundle.ts builds from server/main.ts before the
// tests), for the suites that kill it (SIGKILL, SIGTERM, SIGINT) and start it again on the same port and data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { http, UNLIMITED, withTimeout } from './helpers';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where test/server-bundle.ts puts the server: beside dist/server.js, so that it finds dist/client as that does. */
export const SERVER_BUNDLE = fileURLToPath(new URL('../dist/test-server.js', import.meta.url));

export { freePort } from './free-port';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One run of the server process. */
export class ChildServer {
  readonly exited: Promise<Exit>;
  /** What the process wrote to stderr and stdout (LOG_LEVEL=warn keeps it short), for failure messages. */
  output = '';
  /** What the process wrote to stderr alone: where `npm start` says why it cannot start. */
  errors = '';
  private constructor(readonly process: ChildProcess) {
    process.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    process.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      this.errors += chunk.toString();
    });
    this.exited = new Promise((resolve) => process.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /**
   * Starts the server on 127.0.0.1:port with the embedded store in dataDir, without rate limits (every test
   * client comes from 127.0.0.1); resolves once /healthz answers.
   */
  static async start(port: number, dataDir: string, env: Record<string, string> = {}, timeoutMs = 15_000): Promise<ChildServer> {
    const server = ChildServer.spawn(port, dataDir, env);
    const child = server.process;
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!server.running) throw new Error(`the server exited before it answered /healthz:\n${server.output}`);
      const answer = await http(base, 'GET', '/healthz').catch(() => undefined);
      if (answer?.status === 200) return server;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the server did not answer /healthz within ${timeoutMs} ms:\n${server.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25)); // retry interval while it starts
    }
  }

  /**
   * Starts the server process as `start` does, without waiting for it to answer: for the runs that are
   * meant to fail. `options.uid`/`gid` run it as another user (spawn's own options).
   */
  static spawn(port: number, dataDir: string, env: Record<string, string> = {}, options: { uid?: number; gid?: number } = {}): ChildServer {
    const child = spawn(process.execPath, [SERVER_BUNDLE], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', STORE: 'embedded', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...UNLIMITED, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...options,
    });
    return new ChildServer(child);
  }

  /** Resolves once the process has written `text` (to stdout or stderr); rejects after `timeoutMs`. */
  async written(text: string, timeoutMs = 5000): Promise<void> {
    const streams = [this.process.stdout, this.process.stderr].filter((stream) => stream !== null);
    let release = () => {};
    const found = new Promise<void>((resolve) => {
      // Runs after the constructor's listeners, which append each chunk to `output`.
      const check = () => {
        if (this.output.includes(text)) resolve();
      };
      for (const stream of streams) stream.on('data', check);
      release = () => streams.forEach((stream) => stream.off('data', check));
      check();
    });
    try {
      await withTimeout(found, timeoutMs, `the server to write ${JSON.stringify(text)}`);
    } finally {
      release();
    }
  }

  /** Sends `signal` and resolves with how the process ended (rejects if it has not within `timeoutMs`). */
  async kill(signal: NodeJS.Signals, timeoutMs = 5000): Promise<Exit> {
    if (this.running) this.process.kill(signal);
    return withTimeout(this.exited, timeoutMs, `the server to exit after ${signal}`);
  }
}
