// `npm run bench`: Parley against the floor (a bare ws broadcast that stores nothing) and, for long-poll,
// Socket.IO 4's polling transport (a Socket.IO server that stores nothing), same load, same run. Each
// measurement gets a fresh server process and a separate load process on loopback; this process only
// starts them, samples the server's RSS, and prints the table. Results go to
// bench/results/latest.json and a chart to bench/results/growth.svg.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/free-port';
import { searchScenario, type SearchBenchResult } from './search';
import { percentile, type FanoutResult, type LoadCommand, type LoadReport, type RoomsResult, type StormResult, type Target, type Transport } from './scenarios';

const root = fileURLToPath(new URL('..', import.meta.url));

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'hold,fanout,throughput,paced,rooms,storm' },
    hold: { type: 'string' },
    'hold-longpoll': { type: 'string' },
    fanout: { type: 'string' },
    'fanout-longpoll': { type: 'string' },
    messages: { type: 'string' },
    senders: { type: 'string', default: '4' },
    readers: { type: 'string', default: '100' },
    seconds: { type: 'string' },
    rate: { type: 'string', default: '800' },
    'rooms-clients': { type: 'string' },
    'rooms-rate': { type: 'string' },
    storm: { type: 'string' },
    'search-messages': { type: 'string' },
    'storm-longpoll': { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string', default: join(root, 'bench', 'results') },
    profile: { type: 'boolean', default: false },
    'server-node-options': { type: 'string', default: '' },
    baseline: { type: 'string' },
    'split-load': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(`npm run bench [-- flags]
  --quick                    small sizes, a smoke run of every scenario (about 30 s)
  --only=hold,fanout,throughput,paced,rooms,storm   which scenarios; fanout-ws, fanout-longpoll,
                             throughput-ws and throughput-longpoll name one half of fanout or throughput
  --hold=1000,5000,10000     WebSocket clients held (Parley and the floor)
  --hold-longpoll=10000      long-poll waiters held (Parley)
  --fanout=1000,5000,10000   WebSocket readers of one room (Parley and the floor)
  --fanout-longpoll=1000     long-poll readers of one room (Parley and Socket.IO's polling transport)
  --messages=20              messages per fan-out run (default: 20, and 10 for 5,000 readers or more)
  --senders=4 --readers=100 --seconds=4   throughput: senders waiting for acks, readers listening (WebSocket:
                             Parley and the floor; long-poll readers: Parley and Socket.IO polling, whose
                             senders use its websocket transport)
  --split-load               throughput and paced: the readers in a load process of their own, apart from the
                             senders (as real readers are): no ack waits behind the readers' answers in one
                             event loop, so each server's ack path is measured alone
  --rate=800                 paced: the same senders and readers, sending rate msg/s in all on a schedule
  --rooms-clients=10000 --rooms-rate=100   many rooms: clients in clients/10 rooms of Zipf sizes, 3 each;
                             senders (10) send rooms-rate msg/s in all, to rooms drawn with the same weights
  --storm=10000              reconnect storm: WebSocket readers (rooms of 100) and 10 senders at 100 msg/s;
  --storm-longpoll=5000      the same storm with long-poll readers (0: none);
                             Parley is stopped with SIGTERM and started again on the same DATA_DIR
  --only=search              not in the default set (building its log takes minutes): search latency p50/p99
                             over a log of search-messages in 100 rooms (embedded store), the index's size on
                             disk, and a send's time and rate with and without the index, in the same run
  --search-messages=1000000  messages in the search scenario's log (--quick: 100000)
  --rounds=3                 throughput and paced: rounds of Parley and the reference taken in turn (the tail
                             moves from run to run; targets take the mean rate and the worst p99)
  --out=bench/results        where latest.json and growth.svg go
  --server-node-options='--max-semi-space-size=2'   node flags for the Parley process (GC tuning, say)
  --baseline=dist-base/server.js   throughput and paced also run this other build of Parley (a before/after
                             in the same run); build it with npm run build:server -- --outfile=... on the old code
  --profile                  run each Parley process, each reference server and each load worker under node --cpu-prof
                             (profiles in <out>/profiles, <out>/profiles/<reference>, <out>/profiles/load)
MONGODB_URI set: Parley uses MongoDB instead of the embedded store.`);
  process.exit(0);
}

const list = (value: string | undefined, fallback: number[]) => (value ? value.split(',').map(Number) : fallback);
const quick = flags.quick;
const sizes = {
  hold: list(flags.hold, quick ? [500, 1000] : [1000, 5000, 10000]),
  holdLongpoll: list(flags['hold-longpoll'], quick ? [1000] : [10000]),
  fanout: list(flags.fanout, quick ? [200, 1000] : [1000, 5000, 10000]),
  fanoutLongpoll: list(flags['fanout-longpoll'], quick ? [200] : [1000]),
  messages: flags.messages === undefined ? undefined : Number(flags.messages),
  senders: Number(flags.senders),
  readers: Number(flags.readers),
  seconds: Number(flags.seconds ?? (quick ? 2 : 4)),
  rate: Number(flags.rate),
  rounds: Number(flags.rounds ?? (quick ? 1 : 3)),
  roomsClients: Number(flags['rooms-clients'] ?? (quick ? 2000 : 10000)),
  roomsRate: Number(flags['rooms-rate'] ?? (quick ? 50 : 100)),
  storm: Number(flags.storm ?? (quick ? 1000 : 10000)),
  searchMessages: Number(flags['search-messages'] ?? (quick ? 100_000 : 1_000_000)),
  stormLongpoll: Number(flags['storm-longpoll'] ?? (quick ? 500 : 5000)),
};
const only = new Set(flags.only.split(','));
/** Whether `scenario` (fanout, throughput) runs with `transport`: named whole, or that half of it. */
const runs = (scenario: string, transport: Transport) => only.has(scenario) || only.has(`${scenario}-${transport}`);

/** Messages per fan-out run: each gives a latency per reader, so big rooms need fewer for a steady p99. */
function messagesFor(readers: number): number {
  return sizes.messages ?? (quick || readers >= 5000 ? 10 : 20);
}
const serverNodeOptions = flags['server-node-options'].split(' ').filter(Boolean);

// ---- servers ------------------------------------------------------------------------------------

interface RunningServer {
  target: Target;
  process: ChildProcess;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
}

/**
 * Parley from `bundle`: dist/server.js (what `npm start` runs), or the --baseline build. A restart passes
 * the port and DATA_DIR of the process before it; the data dir is removed on stop unless `keepData`.
 */
async function startParley(bundle = 'dist/server.js', options: { port?: number; dataDir?: string; keepData?: boolean } = {}): Promise<RunningServer & { port: number; dataDir: string }> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const profile = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(flags.out, 'profiles')}`] : [];
  // What `npm start` runs: the server bundle (built by main() before the first scenario).
  const child = spawn(process.execPath, [...profile, ...serverNodeOptions, bundle], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      STORE: process.env.MONGODB_URI ? 'mongodb' : 'embedded',
      LOG_LEVEL: 'warn',
      WAIT_TIMEOUT_MS: '29000',
      // The load comes from one address: lift the per-IP and per-session guards a public server keeps.
      MAX_CONNECTIONS: '1000000',
      MAX_CONNECTIONS_PER_IP: '1000000',
      CONNECT_BURST: '1000000',
      CONNECT_PER_SECOND: '1000000',
      MAX_LONGPOLLS_PER_IP: '1000000',
      MAX_TCP_CONNECTIONS_PER_IP: '1000000',
      SEND_BURST: '1000000',
      SEND_PER_SECOND: '1000000',
      IP_SEND_BURST: '1000000',
      IP_SEND_PER_SECOND: '1000000',
      NEW_ROOM_BURST: '1000000',
      IP_NEW_ROOM_BURST: '1000000',
      SOCKET_FRAME_BURST: '1000000',
      SOCKET_FRAMES_PER_SECOND: '1000000',
      SOCKET_BYTES_PER_SECOND: String(1024 * 1024 * 1024),
      SEARCH_BURST: '1000000',
      SEARCHES_PER_MINUTE: '1000000',
      IP_SEARCH_BURST: '1000000',
      IP_SEARCHES_PER_MINUTE: '1000000',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error('Parley exited at start');
    const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 200) throw new Error('Parley did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stop = stopper(child);
  return {
    target: { kind: 'parley', url },
    process: child,
    port,
    dataDir,
    stop: async () => {
      await stop();
      if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A reference server (bench/floor-server.ts, bench/socketio-server.ts): it reports its port once listening. */
async function startReference(kind: 'floor' | 'socketio'): Promise<RunningServer> {
  const profile = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(flags.out, 'profiles', kind)}`] : [];
  const child = fork(join(root, 'bench', `${kind}-server.ts`), [], { execArgv: [...profile, '--import', 'tsx'], env: { ...process.env, PORT: '0' }, stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return { target: { kind, url: `http://127.0.0.1:${port}` }, process: child, stop: stopper(child) };
}

function startServer(kind: Target['kind']): Promise<RunningServer> {
  return kind === 'parley' ? startParley() : startReference(kind);
}

function rssKb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

/** Runs one load worker; `onHolding` is called while it holds its clients open. */
function runLoad(command: LoadCommand, onHolding?: () => Promise<void>): Promise<Partial<FanoutResult & RoomsResult & StormResult>> {
  return new Promise((resolve, reject) => {
    const profile = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(flags.out, 'profiles', 'load')}`] : [];
    const worker = fork(join(root, 'bench', 'load.ts'), [], { execArgv: [...profile, '--import', 'tsx'], stdio: 'inherit' });
    worker.on('message', (report: LoadReport) => {
      if (report.type === 'progress') process.stdout.write(`\r    ${report.line}            `);
      else if (report.type === 'holding') void onHolding?.().then(() => worker.send({ type: 'release' }));
      else if (report.type === 'result') resolve(report.result);
      else reject(new Error(report.message));
    });
    // A worker that ends without a result (a crash, an unhandled error) fails the run instead of hanging it.
    worker.once('exit', (code, signal) => reject(new Error(`load worker exited (${signal ?? code}) without a result`)));
    worker.send(command);
  });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- scenarios ----------------------------------------------------------------------------------

interface HoldRow { server: Target['kind']; transport: Transport; clients: number; rssBeforeMb: number; rssHoldingMb: number; kbPerClient: number; pageLoadMs?: number }
interface FanoutRow { server: Target['kind']; transport: Transport; readers: number; messages: number; deliveries: number; ackP99: number; p50: number; p99: number; max: number; lost: number; duplicated: number; load1: number }
/** Throughput and paced runs: acks and deliveries (send to receipt at each reader), in ms. */
/** What a throughput or paced row measured: Parley, the floor, or the --baseline build of Parley. */
type Measured = Target['kind'] | 'baseline';

interface ThroughputRow {
  server: Measured;
  transport: Transport;
  senders: number;
  readers: number;
  /** Paced only: the offered rate, msg/s. */
  rate?: number;
  ackedPerSecond: number;
  deliveriesPerSecond: number;
  /** Long-poll: messages each answer carried, on average (its batching: each answer is a round trip). */
  messagesPerAnswer: number;
  ackP50: number;
  ackP99: number;
  deliveryP50: number;
  deliveryP99: number;
  deliveryMax: number;
  /** From a message's ack at its sender to its receipt at each reader: how far readers trail the acks. */
  behindAckP50: number;
  behindAckP99: number;
  /** The server's CPU time per acked message, ms (connecting the clients included): the cost of each, less blurred by a busy machine than the rate. */
  cpuMsPerMessage: number;
  lost: number;
  duplicated: number;
  /** The machine's 1-minute load average when the run began: the other work it shared the cores with. */
  load1: number;
}

/** A page load while the server holds its clients: GET / and the script it names. */
async function pageLoadMs(url: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const html = await (await fetch(`${url}/`)).text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    if (script) await (await fetch(`${url}${script}`)).arrayBuffer();
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

async function hold(kind: Target['kind'], transport: Transport, clients: number): Promise<HoldRow> {
  const server = await startServer(kind);
  try {
    await settle(300);
    const before = rssKb(server.process.pid);
    let holding = before;
    let pageLoad: number | undefined;
    await runLoad({ scenario: 'hold', target: server.target, transport, count: clients }, async () => {
      await settle(500);
      holding = rssKb(server.process.pid);
      if (kind === 'parley') pageLoad = await pageLoadMs(server.target.url);
    });
    return {
      server: kind,
      transport,
      clients,
      rssBeforeMb: before / 1024,
      rssHoldingMb: holding / 1024,
      kbPerClient: (holding - before) / clients,
      ...(pageLoad === undefined ? {} : { pageLoadMs: pageLoad }),
    };
  } finally {
    await server.stop();
  }
}

const maximum = (values: readonly number[]) => (values.length === 0 ? Number.NaN : values.reduce((most, value) => Math.max(most, value), -Infinity));

async function fanout(kind: Target['kind'], transport: Transport, readers: number): Promise<FanoutRow> {
  const load1 = loadavg()[0] as number;
  const server = await startServer(kind);
  try {
    // A pause after each message has reached every reader (see load.ts fanout), longer for more readers.
    const intervalMs = Math.max(50, readers / 100);
    const messages = messagesFor(readers);
    const result = await runLoad({ scenario: 'fanout', target: server.target, transport, readers, messages, intervalMs });
    const latencies = result.latencies ?? [];
    return {
      server: kind,
      transport,
      readers,
      messages,
      deliveries: latencies.length,
      ackP99: percentile(result.ackLatencies ?? [], 99),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: maximum(latencies),
      lost: result.lost ?? 0,
      duplicated: result.duplicated ?? 0,
      load1,
    };
  } finally {
    await server.stop();
  }
}

/** Throughput (senders as fast as acks allow) or, given a rate, paced (senders on a schedule). */
async function throughput(kind: Measured, transport: Transport, rate?: number): Promise<ThroughputRow> {
  const load1 = loadavg()[0] as number;
  const server = kind === 'baseline' ? await startParley(flags.baseline) : await startServer(kind);
  try {
    const common = { target: server.target, transport, senders: sizes.senders, readers: sizes.readers, seconds: sizes.seconds, split: flags['split-load'] };
    const cpuBefore = cpuMs(server.process.pid);
    const result = await runLoad(rate === undefined ? { scenario: 'throughput', ...common } : { scenario: 'paced', ...common, rate });
    const cpuSpent = cpuMs(server.process.pid) - cpuBefore;
    const elapsed = result.elapsed ?? 1;
    const acks = result.ackLatencies ?? [];
    const deliveries = result.latencies ?? [];
    return {
      server: kind,
      transport,
      senders: sizes.senders,
      readers: sizes.readers,
      ...(rate === undefined ? {} : { rate }),
      ackedPerSecond: (result.acked ?? 0) / elapsed,
      deliveriesPerSecond: (result.deliveries ?? 0) / elapsed,
      messagesPerAnswer: transport === 'longpoll' ? (result.deliveries ?? 0) / (result.answers || Number.NaN) : Number.NaN,
      ackP50: percentile(acks, 50),
      ackP99: percentile(acks, 99),
      deliveryP50: percentile(deliveries, 50),
      deliveryP99: percentile(deliveries, 99),
      deliveryMax: maximum(deliveries),
      behindAckP50: result.behindAckP50 ?? Number.NaN,
      behindAckP99: result.behindAckP99 ?? Number.NaN,
      cpuMsPerMessage: cpuSpent / (result.acked ?? Number.NaN),
      lost: result.lost ?? 0,
      duplicated: result.duplicated ?? 0,
      load1,
    };
  } finally {
    await server.stop();
  }
}

interface RoomsRow {
  server: Target['kind'];
  clients: number;
  rooms: number;
  /** Members of the biggest room. */
  biggest: number;
  ackedPerSecond: number;
  deliveriesPerSecond: number;
  ackP99: number;
  deliveryP50: number;
  deliveryP99: number;
  deliveryMax: number;
  kbPerClient: number;
  lost: number;
  duplicated: number;
  load1: number;
}

/** Many rooms: clients spread over rooms of Zipf sizes, 3 each, and paced sends spread the same way. */
async function manyRooms(kind: Target['kind']): Promise<RoomsRow> {
  const load1 = loadavg()[0] as number;
  const server = await startServer(kind);
  try {
    await settle(300);
    const before = rssKb(server.process.pid);
    let holding = before;
    const clients = sizes.roomsClients;
    const rooms = Math.max(1, Math.round(clients / 10));
    const result = await runLoad({ scenario: 'rooms', target: server.target, clients, rooms, roomsPerClient: 3, senders: 10, rate: sizes.roomsRate, seconds: sizes.seconds }, async () => {
      await settle(500);
      holding = rssKb(server.process.pid);
    });
    const elapsed = result.elapsed ?? 1;
    const deliveries = result.latencies ?? [];
    return {
      server: kind,
      clients,
      rooms,
      biggest: result.biggest ?? 0,
      ackedPerSecond: (result.acked ?? 0) / elapsed,
      deliveriesPerSecond: (result.deliveries ?? 0) / elapsed,
      ackP99: percentile(result.ackLatencies ?? [], 99),
      deliveryP50: percentile(deliveries, 50),
      deliveryP99: percentile(deliveries, 99),
      deliveryMax: maximum(deliveries),
      kbPerClient: (holding - before) / clients,
      lost: result.lost ?? 0,
      duplicated: result.duplicated ?? 0,
      load1,
    };
  } finally {
    await server.stop();
  }
}

interface StormRow {
  transport: Transport;
  clients: number;
  /** From SIGTERM until the old process exited (its graceful shutdown), then until the new one answered /healthz. */
  stopMs: number;
  startMs: number;
  /** From then until every client held every message sent before. */
  catchUpMs: number;
  sentBeforeListening: number;
  reconnects: number;
  /** The new process over the catch-up: its peak RSS and its CPU (100 = one core). */
  peakRssMb: number;
  cpuPercent: number;
  acked: number;
  resets: number;
  errors: number;
  /** Whether every client held every acked message before the bench gave up waiting (lost counts what it did not). */
  complete: boolean;
  lost: number;
  duplicated: number;
  load1: number;
}

/** The process's CPU time so far, in ms (utime + stime from /proc, in clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * The reconnect storm: clients reading and senders sending, then Parley stopped with SIGTERM and started on
 * the same DATA_DIR and port; the clients reconnect with the page's backoff and resume from their cursors.
 */
async function reconnectStorm(transport: Transport, clients: number): Promise<StormRow> {
  const load1 = loadavg()[0] as number;
  const first = await startParley(undefined, { keepData: true });
  let server: RunningServer = first;
  let stopMs = 0;
  let startMs = 0;
  const samples: { at: number; cpu: number; rss: number }[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const result = await runLoad({ scenario: 'storm', target: first.target, transport, clients, senders: 10, rate: 100, seconds: sizes.seconds + 2 }, async () => {
      const stopping = performance.now();
      await first.stop();
      const starting = performance.now();
      stopMs = starting - stopping;
      server = await startParley(undefined, { port: first.port, dataDir: first.dataDir });
      startMs = performance.now() - starting;
      const pid = server.process.pid;
      const listening = performance.now();
      sampler = setInterval(() => samples.push({ at: performance.now() - listening, cpu: cpuMs(pid), rss: rssKb(pid) }), 100);
    });
    clearInterval(sampler);
    const catchUpMs = result.catchUpMs ?? Number.NaN;
    const window = samples.filter((sample) => sample.at <= catchUpMs + 100);
    const [start, end] = [window[0], window.at(-1)];
    return {
      transport,
      clients,
      stopMs,
      startMs,
      catchUpMs,
      sentBeforeListening: result.sentBeforeListening ?? 0,
      reconnects: result.reconnects ?? 0,
      peakRssMb: Math.max(0, ...window.map((sample) => sample.rss)) / 1024,
      cpuPercent: start && end && end.at > start.at ? (100 * (end.cpu - start.cpu)) / (end.at - start.at) : Number.NaN,
      acked: result.acked ?? 0,
      resets: result.resets ?? 0,
      errors: result.errors ?? 0,
      complete: result.complete ?? false,
      lost: result.lost ?? 0,
      duplicated: result.duplicated ?? 0,
      load1,
    };
  } finally {
    clearInterval(sampler);
    await server.stop();
  }
}

// ---- report -------------------------------------------------------------------------------------

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const headers = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: unknown) => (typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1)) : String(value ?? ''));
  const body = rows.map((row) => headers.map((h) => cell(row[h])));
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] as number)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

function growthSvg(holdRows: HoldRow[], fanoutRows: FanoutRow[]): string {
  const series = [
    { title: 'KB per held WebSocket', rows: holdRows.filter((r) => r.transport === 'ws'), x: (r: HoldRow | FanoutRow) => ('clients' in r ? r.clients : 0), y: (r: HoldRow | FanoutRow) => ('kbPerClient' in r ? r.kbPerClient : 0) },
    { title: 'fan-out p99 (ms), WebSocket readers', rows: fanoutRows.filter((r) => r.transport === 'ws'), x: (r: HoldRow | FanoutRow) => ('readers' in r ? r.readers : 0), y: (r: HoldRow | FanoutRow) => ('p99' in r ? r.p99 : 0) },
  ];
  const width = 420;
  const height = 240;
  const panels = series.map((s, index) => {
    const xs = [...new Set(s.rows.map(s.x))].sort((a, b) => a - b);
    const maxY = Math.max(1, ...s.rows.map(s.y)) * 1.15;
    const px = (x: number) => 50 + (xs.length > 1 ? (xs.indexOf(x) / (xs.length - 1)) * (width - 80) : (width - 80) / 2);
    const py = (y: number) => height - 30 - (y / maxY) * (height - 60);
    const lines = (['parley', 'floor'] as const).map((kind) => {
      const points = s.rows.filter((r) => r.server === kind).sort((a, b) => s.x(a) - s.x(b));
      const color = kind === 'parley' ? '#2f6fde' : '#999';
      return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((r) => `${px(s.x(r))},${py(s.y(r))}`).join(' ')}"/>` +
        points.map((r) => `<circle cx="${px(s.x(r))}" cy="${py(s.y(r))}" r="3" fill="${color}"/><text x="${px(s.x(r)) + 5}" y="${py(s.y(r)) - 5}" font-size="10">${s.y(r).toFixed(1)}</text>`).join('');
    });
    const ticks = xs.map((x) => `<text x="${px(x)}" y="${height - 12}" font-size="10" text-anchor="middle">${x}</text>`).join('');
    return `<g transform="translate(${index * width},0)"><text x="20" y="18" font-size="12" font-weight="bold">${s.title}</text>${ticks}${lines.join('')}</g>`;
  });
  const legend = `<text x="20" y="${height + 14}" font-size="11" fill="#2f6fde">— Parley</text><text x="100" y="${height + 14}" font-size="11" fill="#999">— floor (bare ws, nothing stored)</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width * 2}" height="${height + 24}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${panels.join('')}${legend}</svg>\n`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const store = process.env.MONGODB_URI ? 'MongoDB' : 'embedded store';
  console.log(`Parley bench: Parley (${store}) against the floor (bare ws broadcast, nothing stored) and, for long-poll, Socket.IO 4 polling (nothing stored), ${quick ? 'quick sizes' : 'default sizes'}`);
  // Parley runs as `npm start` runs it: built first, client and server bundle.
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('npm run build failed');
  const holdRows: HoldRow[] = [];
  const fanoutRows: FanoutRow[] = [];
  const throughputRows: ThroughputRow[] = [];
  const pacedRows: ThroughputRow[] = [];
  const roomsRows: RoomsRow[] = [];
  const stormRows: StormRow[] = [];
  const step = (label: string) => process.stdout.write(`\r  ${label} (at ${((Date.now() - started) / 1000).toFixed(0)} s)${' '.repeat(30)}\n`);

  if (only.has('hold')) {
    for (const clients of sizes.hold) {
      for (const kind of ['floor', 'parley'] as const) {
        step(`hold: ${kind}, ${clients} WebSocket clients`);
        holdRows.push(await hold(kind, 'ws', clients));
      }
    }
    for (const clients of sizes.holdLongpoll) {
      step(`hold: parley, ${clients} long-poll waiters`);
      holdRows.push(await hold('parley', 'longpoll', clients));
    }
  }
  if (runs('fanout', 'ws')) {
    for (const readers of sizes.fanout) {
      for (const kind of ['floor', 'parley'] as const) {
        step(`fan-out: ${kind}, ${readers} WebSocket readers`);
        fanoutRows.push(await fanout(kind, 'ws', readers));
      }
    }
  }
  if (runs('fanout', 'longpoll')) {
    for (const readers of sizes.fanoutLongpoll) {
      for (const kind of ['socketio', 'parley'] as const) {
        step(`fan-out: ${kind}, ${readers} long-poll readers`);
        fanoutRows.push(await fanout(kind, 'longpoll', readers));
      }
    }
  }
  const measured: Measured[] = flags.baseline ? ['floor', 'parley', 'baseline'] : ['floor', 'parley'];
  if (runs('throughput', 'ws')) {
    for (let round = 1; round <= sizes.rounds; round++) {
      for (const kind of measured) {
        step(`throughput: ${kind}, WebSocket, round ${round} of ${sizes.rounds}`);
        throughputRows.push(await throughput(kind, 'ws'));
      }
    }
  }
  if (runs('throughput', 'longpoll')) {
    for (let round = 1; round <= sizes.rounds; round++) {
      for (const kind of flags.baseline ? (['socketio', 'parley', 'baseline'] as const) : (['socketio', 'parley'] as const)) {
        step(`throughput: ${kind}, long-poll readers (sends over WebSocket), round ${round} of ${sizes.rounds}`);
        throughputRows.push(await throughput(kind, 'longpoll'));
      }
    }
  }
  if (only.has('paced')) {
    for (let round = 1; round <= sizes.rounds; round++) {
      for (const kind of measured) {
        step(`paced: ${kind}, WebSocket, ${sizes.rate} msg/s, round ${round} of ${sizes.rounds}`);
        pacedRows.push(await throughput(kind, 'ws', sizes.rate));
      }
    }
  }
  if (only.has('rooms')) {
    for (const kind of ['floor', 'parley'] as const) {
      step(`many rooms: ${kind}, ${sizes.roomsClients} WebSocket clients in ${Math.round(sizes.roomsClients / 10)} rooms, ${sizes.roomsRate} msg/s`);
      roomsRows.push(await manyRooms(kind));
    }
  }
  let searchResult: SearchBenchResult | undefined;
  if (only.has('search')) {
    if (process.env.MONGODB_URI) throw new Error('the search scenario measures the embedded store: unset MONGODB_URI');
    searchResult = await searchScenario({
      messages: sizes.searchMessages,
      rooms: 100,
      step,
      startServer: async (dataDir) => {
        const server = await startParley(undefined, { dataDir, keepData: true });
        return { url: server.target.url, stop: server.stop };
      },
    });
  }
  if (only.has('storm')) {
    step(`reconnect storm: parley, ${sizes.storm} WebSocket clients, SIGTERM and restart on the same DATA_DIR`);
    stormRows.push(await reconnectStorm('ws', sizes.storm));
    if (sizes.stormLongpoll > 0) {
      step(`reconnect storm: parley, ${sizes.stormLongpoll} long-poll clients, SIGTERM and restart on the same DATA_DIR`);
      stormRows.push(await reconnectStorm('longpoll', sizes.stormLongpoll));
    }
  }

  console.log('\nHold (server RSS per held client; page load = GET / and its script while holding)');
  console.log(table(holdRows.map((r) => ({ ...r }))));
  console.log('\nFan-out (latency from send to receipt, ms)');
  console.log(table(fanoutRows.map((r) => ({ ...r }))));
  console.log('\nThroughput (each sender waits for its ack before the next send; delivery = send to receipt at each reader, ms)');
  console.log(table(throughputRows.map((r) => ({ ...r }))));
  console.log(`\nPaced (${sizes.senders} senders, ${sizes.rate} msg/s in all on a schedule, whatever the acks do; ms)`);
  console.log(table(pacedRows.map((r) => ({ ...r }))));

  console.log(`\nMany rooms (each client in 3 rooms of Zipf sizes; 10 senders, ${sizes.roomsRate} msg/s in all to rooms drawn the same way; ms)`);
  console.log(table(roomsRows.map((r) => ({ ...r }))));

  console.log('\nReconnect storm (clients in rooms of 100, 10 senders at 100 msg/s; the server restarted under them)');
  console.log(table(stormRows.map((r) => ({ ...r }))));

  if (searchResult) {
    console.log('\nSearch: the cost of the index on a send (embedded store; the same store without its index writes, in turns)');
    console.log(table(searchResult.sendCost.map((r) => ({ ...r }))));
    console.log('\nSearch: the log built for it, and its size on disk');
    console.log(table([{ ...searchResult.build }]));
    console.log('\nSearch: latency over HTTP, one search at a time (ms)');
    console.log(table(searchResult.latency.map((r) => ({ ...r }))));
  }

  const checks = targets(holdRows, fanoutRows, throughputRows, pacedRows, roomsRows);
  for (const row of stormRows) {
    checks.push({ ok: row.catchUpMs < 10_000 && row.lost === 0 && row.duplicated === 0 && row.resets === 0, text: `reconnect storm, ${row.clients} ${row.transport === 'ws' ? 'WebSocket' : 'long-poll'} clients: every client caught up ${(row.catchUpMs / 1000).toFixed(1)} s after the server listened again, lost ${row.lost}, duplicated ${row.duplicated}, resets ${row.resets} (target < 10 s, 0, 0, 0)` });
  }
  console.log('\nTargets (ratios against the floor, or Socket.IO for long-poll, in this run)');
  for (const check of checks) console.log(`  ${check.ok ? 'PASS' : 'FAIL'}  ${check.text}`);

  mkdirSync(flags.out, { recursive: true });
  const results = { date: new Date().toISOString(), store, quick, sizes, hold: holdRows, fanout: fanoutRows, throughput: throughputRows, paced: pacedRows, rooms: roomsRows, storm: stormRows, search: searchResult, targets: checks };
  writeFileSync(join(flags.out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(flags.out, 'growth.svg'), growthSvg(holdRows, fanoutRows));
  console.log(`\nWrote ${join(flags.out, 'latest.json')} and growth.svg in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const lossy = [...fanoutRows, ...throughputRows, ...pacedRows, ...roomsRows, ...stormRows].filter((r) => r.lost > 0 || r.duplicated > 0);
  if (lossy.length > 0) {
    console.error(`LOST OR DUPLICATED deliveries in ${lossy.length} runs`);
    process.exitCode = 1;
  }
}

/**
 * A server's rounds of one scenario: the mean acked rate, and the worst delivery p99 with every round's
 * (the tail moves from run to run, and a target met once is not met).
 */
function rounds(rows: ThroughputRow[], kind: Measured): { ackedPerSecond: number; worstP99: number; p99s: string } | undefined {
  const mine = rows.filter((r) => r.server === kind);
  if (mine.length === 0) return undefined;
  const p99s = mine.map((r) => r.deliveryP99);
  return {
    ackedPerSecond: mine.reduce((sum, r) => sum + r.ackedPerSecond, 0) / mine.length,
    worstP99: Math.max(...p99s),
    p99s: p99s.map((p) => p.toFixed(1)).join(', '),
  };
}

function targets(holdRows: HoldRow[], fanoutRows: FanoutRow[], throughputRows: ThroughputRow[], pacedRows: ThroughputRow[], roomsRows: RoomsRow[]): { ok: boolean; text: string }[] {
  const checks: { ok: boolean; text: string }[] = [];
  const largest = <T extends { server: string; transport: string }>(rows: T[], size: (r: T) => number, kind: string, transport: string) =>
    rows.filter((r) => r.server === kind && r.transport === transport).sort((a, b) => size(b) - size(a))[0];
  const heldParley = largest(holdRows, (r) => r.clients, 'parley', 'ws');
  const heldFloor = heldParley && holdRows.find((r) => r.server === 'floor' && r.clients === heldParley.clients);
  if (heldParley && heldFloor) {
    const ratio = heldParley.kbPerClient / heldFloor.kbPerClient;
    checks.push({ ok: ratio <= 1.3, text: `hold ${heldParley.clients} WebSockets: ${heldParley.kbPerClient.toFixed(1)} KB each vs floor ${heldFloor.kbPerClient.toFixed(1)} KB = ${ratio.toFixed(2)}x (target <= 1.3x)` });
    if (heldParley.pageLoadMs !== undefined) checks.push({ ok: heldParley.pageLoadMs < 100, text: `page load while holding ${heldParley.clients}: ${heldParley.pageLoadMs.toFixed(1)} ms (target < 100 ms)` });
  }
  const heldPoll = largest(holdRows, (r) => r.clients, 'parley', 'longpoll');
  if (heldPoll) checks.push({ ok: heldPoll.kbPerClient <= 10, text: `hold ${heldPoll.clients} long-poll waiters: ${heldPoll.kbPerClient.toFixed(1)} KB each (target <= 10 KB)` });
  const fan1k = fanoutRows.find((r) => r.server === 'parley' && r.transport === 'ws' && r.readers === 1000);
  const fan1kFloor = fanoutRows.find((r) => r.server === 'floor' && r.readers === 1000);
  if (fan1k && fan1kFloor) {
    const ratio = fan1k.p99 / fan1kFloor.p99;
    checks.push({ ok: ratio <= 1.2, text: `fan-out to 1000 WebSocket readers: p99 ${fan1k.p99.toFixed(1)} ms vs floor ${fan1kFloor.p99.toFixed(1)} ms = ${ratio.toFixed(2)}x (target <= 1.2x)` });
  }
  const fanPoll = fanoutRows.find((r) => r.server === 'parley' && r.transport === 'longpoll' && r.readers === 1000);
  const fanPollSocketIo = fanoutRows.find((r) => r.server === 'socketio' && r.transport === 'longpoll' && r.readers === 1000);
  const socketIoP99 = fanPollSocketIo ? ` (Socket.IO polling ${fanPollSocketIo.p99.toFixed(1)} ms)` : '';
  if (fanPoll) checks.push({ ok: fanPoll.p99 < 100, text: `fan-out to 1000 long-poll readers: p99 ${fanPoll.p99.toFixed(1)} ms${socketIoP99} (target < 100 ms)` });
  const tpParley = rounds(throughputRows.filter((r) => r.transport === 'ws'), 'parley');
  const tpFloor = rounds(throughputRows, 'floor');
  if (tpParley && tpFloor) {
    const ratio = tpParley.ackedPerSecond / tpFloor.ackedPerSecond;
    checks.push({ ok: ratio >= 0.85, text: `throughput over WebSocket, every message stored: ${tpParley.ackedPerSecond.toFixed(0)} acked/s vs floor ${tpFloor.ackedPerSecond.toFixed(0)} = ${ratio.toFixed(2)}x (target >= 0.85x)` });
  }
  if (tpParley) checks.push({ ok: tpParley.worstP99 < 50, text: `delivery at Parley's own maximum (${tpParley.ackedPerSecond.toFixed(0)} acked/s over WebSocket): p99 ${tpParley.worstP99.toFixed(1)} ms (${tpParley.p99s}) (target < 50 ms)` });
  const pacedParley = rounds(pacedRows, 'parley');
  const pacedFloor = rounds(pacedRows, 'floor');
  if (pacedParley && pacedFloor) {
    const ratio = pacedParley.worstP99 / pacedFloor.worstP99;
    // A server that did not keep up measured its queue, not its fan-out: then the comparison says nothing.
    const kept = pacedRows.filter((r) => r.server !== 'baseline').every((r) => r.ackedPerSecond >= 0.95 * sizes.rate);
    checks.push({ ok: ratio <= 1.2 && kept, text: `paced at ${sizes.rate} msg/s over WebSocket${kept ? '' : ' (NOT SUSTAINED by every run: see acked/s)'}: delivery p99 worst of ${sizes.rounds} rounds ${pacedParley.worstP99.toFixed(1)} ms (${pacedParley.p99s}) vs floor ${pacedFloor.worstP99.toFixed(1)} ms (${pacedFloor.p99s}) = ${ratio.toFixed(2)}x (target <= 1.2x)` });
  }
  const roomsParley = roomsRows.find((r) => r.server === 'parley');
  const roomsFloor = roomsRows.find((r) => r.server === 'floor');
  if (roomsParley && roomsFloor) {
    const ratio = roomsParley.deliveryP99 / roomsFloor.deliveryP99;
    checks.push({ ok: ratio <= 1.2, text: `many rooms (${roomsParley.clients} clients, ${roomsParley.rooms} rooms): delivery p99 ${roomsParley.deliveryP99.toFixed(1)} ms vs floor ${roomsFloor.deliveryP99.toFixed(1)} ms = ${ratio.toFixed(2)}x; ${roomsParley.kbPerClient.toFixed(1)} KB per client vs ${roomsFloor.kbPerClient.toFixed(1)} (target <= 1.2x)` });
  }
  const pollRows = throughputRows.filter((r) => r.transport === 'longpoll');
  const tpPollParley = rounds(pollRows, 'parley');
  const tpPollSocketIo = rounds(pollRows, 'socketio');
  if (tpPollParley) checks.push({ ok: tpPollParley.ackedPerSecond >= 3 * 103, text: `throughput with long-poll readers: ${tpPollParley.ackedPerSecond.toFixed(0)} acked/s (target >= 3x Tornado's 103 = 309)` });
  if (tpPollParley && tpPollSocketIo) {
    const ratio = tpPollParley.ackedPerSecond / tpPollSocketIo.ackedPerSecond;
    checks.push({ ok: ratio >= 1, text: `throughput with ${sizes.readers} long-poll readers, ${sizes.senders} senders, every message stored: ${tpPollParley.ackedPerSecond.toFixed(0)} acked/s vs Socket.IO polling ${tpPollSocketIo.ackedPerSecond.toFixed(0)} (nothing stored) = ${ratio.toFixed(2)}x, mean of ${sizes.rounds} rounds (target >= 1x)` });
  }
  for (const kind of ['parley', 'floor'] as const) {
    const rows = holdRows.filter((r) => r.server === kind && r.transport === 'ws').sort((a, b) => a.clients - b.clients);
    const first = rows[0];
    const last = rows.at(-1);
    if (first && last && rows.length > 1) {
      const growth = (last.rssHoldingMb - last.rssBeforeMb) / (first.rssHoldingMb - first.rssBeforeMb) / (last.clients / first.clients);
      checks.push({ ok: growth <= 1.15, text: `${kind} RSS growth ${first.clients} -> ${last.clients} clients: ${growth.toFixed(2)}x linear (target: no faster than linear)` });
    }
  }
  for (const kind of ['parley', 'floor'] as const) {
    const rows = fanoutRows.filter((r) => r.server === kind && r.transport === 'ws').sort((a, b) => a.readers - b.readers);
    const first = rows[0];
    const last = rows.at(-1);
    if (first && last && rows.length > 1) {
      const growth = last.p99 / first.p99 / (last.readers / first.readers);
      checks.push({ ok: growth <= 1.15, text: `${kind} fan-out p99 growth ${first.readers} -> ${last.readers} readers: ${growth.toFixed(2)}x linear (target: no faster than linear)` });
    }
  }
  return checks;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
