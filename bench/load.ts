// The load: a worker process that opens the clients of one scenario against one server (Parley or the
// floor), measures from its own clock, and reports to bench/run.ts over IPC. Senders and readers live
// in this one process, so "send -> receipt" latency is read off a single clock.
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { percentile, type LoadCommand, type LoadReport, type Target, type ThroughputResult, type Transport } from './scenarios';

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

/** The id and send time a bench message carries in its text: "b|<id>|<ms>". */
const STAMP = /"text":"b\|(\d+)\|([\d.]+)"/g;
/** A message's seq in a /wait answer. */
const SEQ = /"seq":(\d+)/g;

/**
 * The bench's clock, ms: high-resolution and the same in every process of the machine (--split-load puts
 * senders and readers in two), so a send time read in one and a receipt time in the other subtract.
 */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function stamp(id: number): string {
  return `b|${id}|${now().toFixed(3)}`;
}

// ---- HTTP ---------------------------------------------------------------------------------------

/** A JSON request; `onSent` is called once the request has been written to the server. */
function httpJson<T>(url: string, method: string, body?: unknown, cookie?: string, onSent?: () => void): Promise<{ status: number; body: T; setCookie?: string[] }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, {
      method,
      agent,
      headers: {
        ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        ...(cookie ? { cookie } : {}),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T, ...(res.headers['set-cookie'] ? { setCookie: res.headers['set-cookie'] } : {}) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (onSent) req.once('finish', onSent);
    req.end(payload);
  });
}

async function sessionCookie(target: Target, nick: string): Promise<string> {
  const answer = await httpJson<unknown>(`${target.url}/api/session`, 'POST', { nick });
  const cookie = answer.setCookie?.[0]?.split(';')[0];
  if (answer.status !== 200 || !cookie) throw new Error(`session refused: ${answer.status}`);
  return cookie;
}

// ---- clients ------------------------------------------------------------------------------------

/** Counts, per reader, each bench id it received, and the latency of each delivery. */
class Tally {
  latencies: number[] = [];
  /** Long-poll answers the readers got (each a round trip): how many messages each carried is the batching. */
  answers = 0;
  lost = 0;
  duplicated = 0;
  /** Ids below this are warm-up: counted for loss, but their latency is not measured. */
  measuredFrom = 0;
  /** When each message's ack reached its sender, for those the scenario records. */
  readonly ackedAt = new Map<number, number>();
  /** Each measured receipt as a pair: id, time. */
  private readonly receipts: number[] = [];
  private readonly seen: { seen: Map<number, number>; wants: (id: number) => boolean }[] = [];

  /** A reader's tally; `wants` says which ids it should get (every one, unless it reads some rooms only). */
  reader(wants: (id: number) => boolean = () => true): Map<number, number> {
    const seen = new Map<number, number>();
    this.seen.push({ seen, wants });
    return seen;
  }

  /** Tallies every bench message in `frame` (a Parley frame may carry several stored together). */
  receive(seen: Map<number, number>, frame: string, now: number): void {
    for (const match of frame.matchAll(STAMP)) {
      const id = Number(match[1]);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (id >= this.measuredFrom) {
        this.latencies.push(now - Number(match[2]));
        this.receipts.push(id, now);
      }
    }
  }

  /** Every reader should hold every id in `ids` that it wants exactly once, and no other bench id twice. */
  check(ids: Iterable<number>): void {
    const expected = [...ids];
    for (const { seen, wants } of this.seen) {
      for (const id of expected) {
        if (wants(id) && !seen.has(id)) this.lost++;
      }
      for (const count of seen.values()) if (count > 1) this.duplicated += count - 1;
    }
  }

  /**
   * How far the readers trailed the acks: for each receipt, the time from the message's ack at its sender
   * to its receipt (negative when the reader had it first), as p50 and p99 in ms.
   */
  behindAck(): { behindAckP50: number; behindAckP99: number } {
    const behind: number[] = [];
    for (let i = 0; i < this.receipts.length; i += 2) {
      const ackedAt = this.ackedAt.get(this.receipts[i] as number);
      if (ackedAt !== undefined) behind.push((this.receipts[i + 1] as number) - ackedAt);
    }
    return { behindAckP50: percentile(behind, 50), behindAckP99: percentile(behind, 99) };
  }

  delivered(ids: Iterable<number>): boolean {
    const expected = [...ids];
    return this.seen.every(({ seen, wants }) => expected.every((id) => seen.has(id) || !wants(id)));
  }
}

function openSocket(url: string, cookie?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, ...(cookie ? { headers: { cookie } } : {}) });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function wsUrl(target: Target): string {
  return target.url.replace(/^http/, 'ws') + (target.kind === 'parley' ? '/ws' : '/');
}

/** A WebSocket reader of `rooms`, live in each once this resolves (the floor does not answer a subscribe). */
async function socketReader(target: Target, rooms: string | readonly string[], onFrame: (frame: string) => void): Promise<WebSocket> {
  if (target.kind === 'socketio') throw new Error('the bench reads Socket.IO over its polling transport only');
  const socket = await openSocket(wsUrl(target));
  const names = typeof rooms === 'string' ? [rooms] : rooms;
  if (target.kind === 'parley') {
    await new Promise<void>((resolve) => {
      let waiting = names.length;
      const first = (data: WebSocket.RawData) => {
        if (data.toString().startsWith('{"type":"subscribed"') && --waiting === 0) {
          socket.off('message', first);
          resolve();
        }
      };
      socket.on('message', first);
      for (const room of names) socket.send(JSON.stringify({ type: 'subscribe', room, after: 0 }));
    });
  } else {
    for (const room of names) socket.send(JSON.stringify({ type: 'subscribe', room }));
  }
  socket.on('message', (data) => onFrame(data.toString()));
  return socket;
}

/**
 * A keep-alive HTTP/1.1 connection that sends requests one at a time and reads answers with a Content-Length
 * (all Parley's /wait answers have one, and all Engine.IO's polling answers). node's http client costs this
 * process about three times what each request costs the server, so with 1,000 long-poll readers in one
 * process the bench measured its own client; a browser spends its own CPU. This is just enough HTTP for
 * that and no more.
 */
class LeanHttpConnection {
  /** Whether the connection has ended (an error, or the server closed it: an idle keep-alive, say). */
  closed = false;
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: { resolve: (answer: { status: number; body: string }) => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly host: string, port: number) {
    this.socket = connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  /** GET `path`; `onSent` is called once the request is written. */
  get(path: string, onSent?: () => void): Promise<{ status: number; body: string }> {
    return this.request(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\n\r\n`, onSent);
  }

  /** POST `body` (text) to `path`. */
  post(path: string, body: string): Promise<{ status: number; body: string }> {
    return this.request(`POST ${path} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  close(): void {
    this.pending = undefined;
    this.closed = true;
    this.socket.destroy();
  }

  private request(text: string, onSent?: () => void): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the connection is closed'));
      this.pending = { resolve, reject };
      this.socket.write(text, 'utf8', onSent && (() => onSent()));
    });
  }

  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = this.buffered.toString('latin1', 0, headEnd);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? Number.NaN);
    if (Number.isNaN(length)) return this.fail(new Error(`an answer without Content-Length: ${head.split('\r\n')[0]}`));
    const end = headEnd + 4 + length;
    if (this.buffered.length < end) return;
    const body = this.buffered.toString('utf8', headEnd + 4, end);
    this.buffered = this.buffered.subarray(end);
    const pending = this.pending;
    this.pending = undefined;
    pending?.resolve({ status: Number(head.slice(9, 12)), body });
  }

  private fail(error: Error): void {
    this.closed = true;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}

/** A long-poll reader of `room`: GET /wait again and again from its cursor, until stopped. */
function pollReader(target: Target, room: string, onFrame: (frame: string) => void, holding?: () => void, onAnswer?: () => void) {
  const { hostname, port } = new URL(target.url);
  const connection = new LeanHttpConnection(hostname, Number(port));
  let stopped = false;
  let cursor = 0;
  let first = true;
  const done = (async () => {
    while (!stopped) {
      const onSent = first ? holding : undefined;
      first = false;
      const answer = await connection.get(`/wait?room=${room}&after=${cursor}`, onSent);
      if (stopped) return;
      if (answer.status !== 200) throw new Error(`/wait answered ${answer.status}`);
      onAnswer?.();
      // Just enough of the answer, as for Socket.IO's packets (tallied unparsed): the stamps, and the last
      // seq for the cursor (each message's own; the bench's texts hold no "seq").
      if (answer.body.includes('"messages":[{')) onFrame(answer.body);
      for (const match of answer.body.matchAll(SEQ)) cursor = Math.max(cursor, Number(match[1]));
    }
  })();
  return {
    stop: () => {
      stopped = true;
      connection.close();
    },
    done,
  };
}

// ---- Socket.IO clients --------------------------------------------------------------------------
// Engine.IO v4 as socket.io-client speaks it, just enough for the bench, for the reason LeanHttpConnection
// exists: 1,000 socket.io-client instances in this process would measure the client. An Engine.IO packet is
// a type digit and its data ('0' open, '1' close, '2' ping, '3' pong, '4' message); Socket.IO's packets ride
// in messages: '40' connects to the main namespace, '42["event",...]' is an event, '42N[...]' an event
// asking ack N, '43N[...]' that ack, '44' a refusal. A polling answer carries packets separated by \x1e.

const ENGINE_IO_PATH = '/socket.io/?EIO=4';

/** Reports a failure of a client outside any scenario's await (a refused poll, say) and ends the run. */
function fatal(error: unknown): void {
  void report({ type: 'error', message: String(error) }).finally(() => process.exit(1));
}

/**
 * A Socket.IO reader of `room` over the polling transport, as socket.io-client with transports: ['polling']:
 * a GET the server holds until it has packets, asked again after each answer; what the client says (the
 * namespace connect, the join, each pong) goes in POSTs on a second keep-alive connection, since the GET
 * holds the first. `joined` resolves once the server has acked the join: from then on it gets every message.
 */
function socketIoPollReader(target: Target, room: string, onFrame: (frame: string) => void, onAnswer?: () => void) {
  const { hostname, port } = new URL(target.url);
  const polling = new LeanHttpConnection(hostname, Number(port));
  let posting: LeanHttpConnection | undefined;
  let path = `${ENGINE_IO_PATH}&transport=polling`;
  let stopped = false;
  let onJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (onJoined = resolve));
  // Engine.IO refuses a POST while another one of the session is in flight: one at a time, in order.
  let posted = Promise.resolve();
  const post = (payload: string) => {
    posted = posted
      .then(async () => {
        if (stopped) return;
        // The server closes an idle keep-alive connection (after 5 s): then a new one, as a browser would.
        if (!posting || posting.closed) posting = new LeanHttpConnection(hostname, Number(port));
        const answer = await posting.post(path, payload);
        if (answer.status !== 200) throw new Error(`Socket.IO POST answered ${answer.status}`);
      })
      .catch(fatal);
  };
  const done = (async () => {
    while (!stopped) {
      const answer = await polling.get(path);
      if (stopped) return;
      if (answer.status !== 200) throw new Error(`Socket.IO poll answered ${answer.status}: ${answer.body}`);
      onAnswer?.();
      for (const packet of answer.body.split('\x1e')) {
        if (packet.startsWith('42')) onFrame(packet);
        else if (packet === '2') post('3');
        else if (packet.startsWith('0{')) {
          path = `${ENGINE_IO_PATH}&transport=polling&sid=${(JSON.parse(packet.slice(1)) as { sid: string }).sid}`;
          post('40');
        } else if (packet.startsWith('40')) post(`420["join",${JSON.stringify(room)}]`);
        else if (packet.startsWith('430')) onJoined();
        else if (packet === '1' || packet.startsWith('44')) throw new Error(`Socket.IO ended the session: ${packet}`);
      }
    }
  })();
  done.catch(fatal);
  return {
    joined,
    stop: () => {
      stopped = true;
      polling.close();
      posting?.close();
    },
    done,
  };
}

interface Sender {
  socket: WebSocket;
  /** Sends message `id` (to `to`, else the sender's room); resolves when the server has it. */
  send(id: number, to?: string): Promise<void>;
}

/** A Socket.IO sender over the websocket transport: each message a 'send' event asking an ack. */
async function socketIoSender(target: Target, room: string, nick: string): Promise<Sender> {
  // Listening from the start: the server's open packet can come in the same read as the upgrade, and be
  // handed out before the code after an `await` of 'open' runs.
  const socket = new WebSocket(`${target.url.replace(/^http/, 'ws')}${ENGINE_IO_PATH}&transport=websocket`, { perMessageDeflate: false });
  const waiting = new Map<number, () => void>();
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data) => {
      const packet = data.toString();
      if (packet.startsWith('43')) {
        const ackId = Number(/^43(\d+)/.exec(packet)?.[1]);
        waiting.get(ackId)?.();
        waiting.delete(ackId);
      } else if (packet === '2') socket.send('3');
      else if (packet.startsWith('0{')) socket.send('40');
      else if (packet.startsWith('40')) resolve();
      else if (packet.startsWith('44')) reject(new Error(`Socket.IO refused the connection: ${packet}`));
    });
  });
  let counter = 0;
  return {
    socket,
    send(id: number, to = room): Promise<void> {
      const ackId = counter++;
      const message = { room: to, clientId: `${nick}-${ackId}-xxxxxxxx`, text: stamp(id) };
      return new Promise((resolve) => {
        waiting.set(ackId, resolve);
        socket.send(`42${ackId}["send",${JSON.stringify(message)}]`);
      });
    },
  };
}

/** A sender that waits for each ack (Parley, Socket.IO) or for its own frame back (the floor). */
async function sender(target: Target, room: string, nick: string): Promise<Sender> {
  if (target.kind === 'socketio') return socketIoSender(target, room, nick);
  const cookie = target.kind === 'parley' ? await sessionCookie(target, nick) : undefined;
  const socket = await openSocket(wsUrl(target), cookie);
  const waiting = new Map<string, () => void>();
  socket.on('message', (data) => {
    const text = data.toString();
    const kind = target.kind === 'parley' ? '"type":"ack"' : '"type":"send"';
    if (!text.includes(kind)) return;
    const clientId = /"clientId":"([^"]+)"/.exec(text)?.[1];
    const resolve = clientId ? waiting.get(clientId) : undefined;
    if (clientId && resolve) {
      waiting.delete(clientId);
      resolve();
    }
  });
  let counter = 0;
  return {
    socket,
    send(id: number, to = room): Promise<void> {
      const clientId = `${nick}-${counter++}-xxxxxxxx`;
      return new Promise((resolve) => {
        waiting.set(clientId, resolve);
        socket.send(JSON.stringify({ type: 'send', room: to, clientId, text: stamp(id) }));
      });
    },
  };
}

/** Opens `count` clients, `parallel` at a time, reporting progress. */
async function ramp<T>(count: number, open: (i: number) => Promise<T>, label: string, parallel = 200): Promise<T[]> {
  const opened: T[] = new Array(count);
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      opened[i] = await open(i);
      if (++done % 1000 === 0) progress(`${label}: ${done}/${count}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, lane));
  return opened;
}

/** Sends a report to the orchestrator; resolves once it is on its way (exiting before would drop it). */
function report(message: LoadReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

function progress(line: string): void {
  process.send?.({ type: 'progress', line } satisfies LoadReport);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

// ---- scenarios ----------------------------------------------------------------------------------

/** Holds `count` readers open until the orchestrator has measured the server, then closes them. */
async function hold(command: Extract<LoadCommand, { scenario: 'hold' }>): Promise<void> {
  const { target, count, transport } = command;
  const room = `hold-${process.pid}`;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  process.on('message', (message: { type?: string }) => message.type === 'release' && release());
  if (transport === 'ws') {
    const sockets = await ramp(count, () => (target.kind === 'parley' ? socketReader(target, room, () => undefined) : openSocket(wsUrl(target))), 'connecting');
    process.send?.({ type: 'holding' } satisfies LoadReport);
    await released;
    for (const socket of sockets) socket.terminate();
  } else {
    const pollers = await ramp(count, () => new Promise<ReturnType<typeof pollReader>>((resolve, reject) => {
      const poller = pollReader(target, room, () => undefined, () => resolve(poller));
      // A refused wait (a 429, say) fails the run rather than leaving it waiting for a waiter that never was.
      poller.done.catch(reject);
    }), 'waiting');
    // Let the requests reach the server before it is measured.
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.send?.({ type: 'holding' } satisfies LoadReport);
    await released;
    for (const poller of pollers) poller.stop();
  }
  await report({ type: 'result', result: {} });
}

/** Fan-out messages sent and delivered before the measured ones (see fanout). */
const WARM_UP_MESSAGES = 5;

/** Opens `count` readers of `room` over `transport`, each tallied, and lets the last requests settle. */
async function openReaders(target: Target, room: string, count: number, transport: Transport, tally: Tally) {
  const pollers: ReturnType<typeof pollReader>[] = [];
  const sockets = await ramp(count, async () => {
    const seen = tally.reader();
    const onFrame = (frame: string) => tally.receive(seen, frame, now());
    if (transport === 'ws') return socketReader(target, room, onFrame);
    const onAnswer = () => tally.answers++;
    if (target.kind === 'socketio') {
      // Socket.IO keeps nothing: a reader not yet in the room would miss what is sent, so wait for its join.
      const reader = socketIoPollReader(target, room, onFrame, onAnswer);
      await reader.joined;
      pollers.push(reader);
      return undefined;
    }
    // Parley's reader asks from cursor 0: whatever was sent before its first wait, it gets.
    pollers.push(pollReader(target, room, onFrame, undefined, onAnswer));
    return undefined;
  }, 'readers');
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { sockets, pollers };
}

/** What the readers of a throughput or paced run saw, once every acked message reached them (20 s at most). */
type ReadOutcome = Pick<ThroughputResult, 'latencies' | 'deliveries' | 'behindAckP50' | 'behindAckP99' | 'lost' | 'duplicated' | 'answers' | 'complete'>;

/** The readers of one room, tallied: in this process, or in a process of their own (--split-load). */
interface Readers {
  /** Messages from `id` on are measured; those before are warm-up, counted for loss only. */
  measureFrom(id: number): Promise<void>;
  /** Message `id` was acked to its sender at `at` (this process's clock, see now()). */
  acked(id: number, at: number): void;
  /** Waits until every message of `acked` reached every reader (20 s at most), and tallies. */
  settle(acked: readonly number[]): Promise<ReadOutcome>;
  close(): void;
}

async function readersHere(target: Target, room: string, count: number, transport: Transport): Promise<Readers> {
  const tally = new Tally();
  const { sockets, pollers } = await openReaders(target, room, count, transport, tally);
  return {
    measureFrom: async (id) => {
      tally.measuredFrom = id;
    },
    acked: (id, at) => tally.ackedAt.set(id, at),
    settle: async (acked) => {
      const complete = await until(() => tally.delivered(acked), 20_000);
      tally.check(acked);
      return { latencies: tally.latencies, deliveries: tally.latencies.length, ...tally.behindAck(), lost: tally.lost, duplicated: tally.duplicated, answers: tally.answers, complete };
    },
    close: () => {
      for (const socket of sockets) socket?.terminate();
      for (const poller of pollers) poller.stop();
    },
  };
}

/** Messages between a load worker and the process holding its readers apart (--split-load). */
type ApartMessage =
  | { type: 'open'; target: Target; room: string; count: number; transport: Transport }
  | { type: 'opened' }
  | { type: 'measureFrom'; id: number }
  | { type: 'measuring' }
  | { type: 'settle'; acked: number[]; ackedAt: [number, number][] }
  | { type: 'settled'; outcome: ReadOutcome };

/**
 * The readers in a process of their own, as real readers are not in their senders' process: a sender's ack
 * then never waits behind the readers' answers in one event loop, and each server's ack path is measured alone.
 */
async function readersApart(target: Target, room: string, count: number, transport: Transport): Promise<Readers> {
  const child = fork(fileURLToPath(import.meta.url), ['--readers'], { execArgv: process.execArgv, stdio: 'inherit' });
  child.once('exit', (code, signal) => fatal(new Error(`the readers' process exited (${signal ?? code})`)));
  const ask = <T extends ApartMessage['type']>(message: ApartMessage, answer: T) =>
    new Promise<Extract<ApartMessage, { type: T }>>((resolve) => {
      const listen = (reply: ApartMessage) => {
        if (reply.type !== answer) return;
        child.off('message', listen);
        resolve(reply as Extract<ApartMessage, { type: T }>);
      };
      child.on('message', listen);
      child.send(message);
    });
  await ask({ type: 'open', target, room, count, transport }, 'opened');
  const ackedAt: [number, number][] = [];
  return {
    measureFrom: async (id) => {
      await ask({ type: 'measureFrom', id }, 'measuring');
    },
    acked: (id, at) => ackedAt.push([id, at]),
    settle: async (acked) => (await ask({ type: 'settle', acked: [...acked], ackedAt }, 'settled')).outcome,
    close: () => {
      child.removeAllListeners('exit');
      child.kill();
    },
  };
}

/** The process holding a load worker's readers (readersApart): opens them, then answers its worker. */
function holdReaders(): void {
  let readers: Readers | undefined;
  const answer = (message: ApartMessage) => process.send?.(message);
  process.on('message', (message: ApartMessage) => {
    if (message.type === 'open') {
      void readersHere(message.target, message.room, message.count, message.transport).then((opened) => {
        readers = opened;
        answer({ type: 'opened' });
      }, fatal);
    } else if (message.type === 'measureFrom') {
      void readers?.measureFrom(message.id).then(() => answer({ type: 'measuring' }));
    } else if (message.type === 'settle' && readers) {
      for (const [id, at] of message.ackedAt) readers.acked(id, at);
      void readers.settle(message.acked).then((outcome) => answer({ type: 'settled', outcome }), fatal);
    }
  });
}

/**
 * One sender, `messages` messages to `readers` readers of one room, each sent once the one before has
 * reached every reader, then `intervalMs` later: latency, not a queue built by sending faster than the
 * readers can take, is what this measures (throughput measures the queue).
 */
async function fanout(command: Extract<LoadCommand, { scenario: 'fanout' }>): Promise<void> {
  const { target, readers, messages, intervalMs, transport } = command;
  const room = `fanout-${process.pid}`;
  const tally = new Tally();
  const { sockets, pollers } = await openReaders(target, room, readers, transport, tally);
  const send = await sender(target, room, 'fanout');
  // The floor echoes to the sender: it is not a reader, so its copies are not tallied.
  let complete = true;
  let ackLatencies: number[] = [];
  const deliver = async (id: number) => {
    const sentAt = now();
    void send.send(id).then(() => ackLatencies.push(now() - sentAt));
    complete = (await until(() => tally.delivered([id]), 20_000)) && complete;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  };
  // A few messages first, not measured, so that both servers are measured warm (JIT-compiled paths,
  // sized buffers) rather than on their first message.
  for (let i = 1; i <= WARM_UP_MESSAGES; i++) await deliver(messages + i);
  tally.latencies = [];
  ackLatencies = [];
  const ids: number[] = [];
  for (let id = 1; id <= messages; id++) {
    ids.push(id);
    await deliver(id);
  }
  tally.check(ids);
  for (const socket of sockets) socket?.terminate();
  send.socket.terminate();
  for (const poller of pollers) poller.stop();
  await report({ type: 'result', result: { latencies: tally.latencies, ackLatencies, lost: tally.lost, duplicated: tally.duplicated, complete } });
}

/** `senders` senders, each sending as soon as its previous message is acked, for `seconds`. */
async function throughput(command: Extract<LoadCommand, { scenario: 'throughput' }>): Promise<void> {
  const { target, senders, readers, seconds, transport } = command;
  const room = `throughput-${process.pid}`;
  const reading = await (command.split ? readersApart : readersHere)(target, room, readers, transport);
  const sending = await Promise.all(Array.from({ length: senders }, (_, i) => sender(target, room, `sender${i}`)));
  const acked: number[] = [];
  const ackLatencies: number[] = [];
  let nextId = 1;
  const started = now();
  const stopAt = started + seconds * 1000;
  await Promise.all(
    sending.map(async (s) => {
      while (now() < stopAt) {
        const id = nextId++;
        const sentAt = now();
        await s.send(id);
        const ackedAt = now();
        reading.acked(id, ackedAt);
        ackLatencies.push(ackedAt - sentAt);
        acked.push(id);
      }
    }),
  );
  const elapsed = (now() - started) / 1000;
  const outcome = await reading.settle(acked);
  reading.close();
  for (const s of sending) s.socket.terminate();
  await report({ type: 'result', result: { acked: acked.length, elapsed, ackLatencies, ...outcome } });
}

/** Paced messages sent before the measured ones, so that both servers are measured warm (see fanout). */
const PACED_WARM_UP_SECONDS = 0.5;

/**
 * `senders` senders sending `rate` messages a second between them on a fixed schedule, whatever the acks
 * do (an offered load, not a closed loop): at a rate both servers sustain, the delivery latency compares
 * their fan-out, not how far each lets senders run ahead of it. Sends due while the load was busy go at once.
 */
async function paced(command: Extract<LoadCommand, { scenario: 'paced' }>): Promise<void> {
  const { target, senders, readers, seconds, transport, rate } = command;
  const room = `paced-${process.pid}`;
  const reading = await (command.split ? readersApart : readersHere)(target, room, readers, transport);
  const sending = await Promise.all(Array.from({ length: senders }, (_, i) => sender(target, room, `sender${i}`)));
  const acked: number[] = [];
  const ackLatencies: number[] = [];
  const warmUp = Math.round(PACED_WARM_UP_SECONDS * rate);
  const total = warmUp + Math.round(seconds * rate);
  const measuredFrom = warmUp + 1;
  await reading.measureFrom(measuredFrom);
  let sent = 0;
  let lastAckAt = 0;
  const started = now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000));
      while (sent < due) {
        const id = ++sent;
        const sentAt = now();
        void (sending[id % senders] as Awaited<ReturnType<typeof sender>>).send(id).then(() => {
          lastAckAt = now();
          reading.acked(id, lastAckAt);
          if (id >= measuredFrom) ackLatencies.push(lastAckAt - sentAt);
          acked.push(id);
        });
      }
      if (sent === total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const allAcked = await until(() => acked.length === total, 20_000);
  // Until the last ack: a server that falls behind the schedule shows an acked rate below the offered one.
  const elapsed = (lastAckAt - started) / 1000;
  const outcome = await reading.settle(acked);
  reading.close();
  for (const s of sending) s.socket.terminate();
  await report({ type: 'result', result: { acked: acked.length, elapsed, ackLatencies, ...outcome, complete: allAcked && outcome.complete } });
}

/** A seeded generator of numbers in [0, 1) (mulberry32), so that both servers get the same rooms and sends. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws room indexes with Zipf weights (room i weighs 1 / (i + 1)): a few big rooms, many small ones. */
function zipf(rooms: number, random: () => number): () => number {
  const cumulative: number[] = [];
  let sum = 0;
  for (let i = 0; i < rooms; i++) cumulative.push((sum += 1 / (i + 1)));
  return () => {
    const target = random() * sum;
    let low = 0;
    let high = rooms - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] as number) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

/**
 * `clients` WebSocket clients, each in `roomsPerClient` of `rooms` rooms drawn with Zipf weights; once the
 * orchestrator has measured the server holding them, `senders` send `rate` messages a second between them
 * on a schedule, each to a room drawn with the same weights. Every client should get each message of its
 * rooms once.
 */
async function manyRooms(command: Extract<LoadCommand, { scenario: 'rooms' }>): Promise<void> {
  const { target, clients, rooms, roomsPerClient, senders, rate, seconds } = command;
  const random = seededRandom(19);
  const drawRoom = zipf(rooms, random);
  const roomName = (index: number) => `z${index}-${process.pid}`;
  const tally = new Tally();
  const roomOf = new Map<number, number>();
  const members = new Array<number>(rooms).fill(0);
  const sockets = await ramp(clients, () => {
    const mine = new Set<number>();
    while (mine.size < Math.min(roomsPerClient, rooms)) mine.add(drawRoom());
    for (const room of mine) members[room] = (members[room] ?? 0) + 1;
    const seen = tally.reader((id) => mine.has(roomOf.get(id) as number));
    return socketReader(target, [...mine].map(roomName), (frame) => tally.receive(seen, frame, now()));
  }, 'clients', 100);
  await new Promise((resolve) => setTimeout(resolve, 300));
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  process.on('message', (message: { type?: string }) => message.type === 'release' && release());
  process.send?.({ type: 'holding' } satisfies LoadReport);
  await released;

  const sending = await Promise.all(Array.from({ length: senders }, (_, i) => sender(target, roomName(0), `sender${i}`)));
  const acked: number[] = [];
  const ackLatencies: number[] = [];
  const total = Math.round(seconds * rate);
  let sent = 0;
  let lastAckAt = 0;
  const started = now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((now() - started) * rate) / 1000));
      while (sent < due) {
        const id = ++sent;
        const room = drawRoom();
        roomOf.set(id, room);
        const sentAt = now();
        void (sending[id % senders] as Awaited<ReturnType<typeof sender>>).send(id, roomName(room)).then(() => {
          lastAckAt = now();
          ackLatencies.push(lastAckAt - sentAt);
          acked.push(id);
        });
      }
      if (sent === total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const complete = (await until(() => acked.length === total, 20_000)) && (await until(() => tally.delivered(acked), 20_000));
  const elapsed = (lastAckAt - started) / 1000;
  tally.check(acked);
  for (const socket of sockets) socket.terminate();
  for (const s of sending) s.socket.terminate();
  await report({
    type: 'result',
    result: { acked: acked.length, elapsed, ackLatencies, latencies: tally.latencies, deliveries: tally.latencies.length, lost: tally.lost, duplicated: tally.duplicated, complete, biggest: Math.max(...members) },
  });
}

/**
 * How long the page waits for a socket to open before it gives up and tries again (client/src/connection.ts):
 * a connection whose SYN the kernel dropped (a full listen backlog) would otherwise wait for TCP's retries.
 */
const OPEN_TIMEOUT_MS = 5000;

/** The client's reconnect delay after `failures` failed attempts in a row (client/src/connection.ts). */
function reconnectDelay(failures: number): number {
  // A live socket that dropped (a restart, say) tries again at once, with a little jitter.
  if (failures <= 1) return 100 + Math.random() * 400;
  const ceiling = Math.min(30_000, 500 * 2 ** (failures - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

/** A WebSocket reader of one room that, like the page, reconnects with backoff and resumes from its cursor. */
class ResumingReader {
  attempts = 0;
  resets = 0;
  /** Error frames it got (a refused subscribe leaves it reading nothing): 0 expected. */
  errors = 0;
  private cursor = 0;
  private epoch: string | undefined;
  private failures = 0;
  private socket: WebSocket | undefined;
  private stopped = false;

  constructor(
    private readonly target: Target,
    private readonly room: string,
    private readonly onFrame: (frame: string) => void,
  ) {}

  /** Connects and subscribes; resolves once the first replay is in. */
  start(): Promise<void> {
    return new Promise((resolve) => this.connect(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.socket?.terminate();
  }

  private connect(onSubscribed?: () => void): void {
    this.attempts++;
    const socket = new WebSocket(wsUrl(this.target), { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS });
    this.socket = socket;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', room: this.room, after: this.cursor, ...(this.epoch ? { epoch: this.epoch } : {}) })));
    socket.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"subscribed"') || text.startsWith('{"type":"messages"')) {
        const frame = JSON.parse(text) as { type: string; epoch?: string; messages: { seq: number }[] };
        this.cursor = frame.messages.at(-1)?.seq ?? this.cursor;
        if (frame.type === 'subscribed') {
          this.epoch = frame.epoch;
          this.failures = 0;
          onSubscribed?.();
        }
        this.onFrame(text);
      } else if (text.startsWith('{"type":"reset"')) {
        this.resets++;
      } else if (text.startsWith('{"type":"error"')) {
        this.errors++;
      }
    });
    // A refused connection gives an error, then a close: the close schedules the next try.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.stopped || this.socket !== socket) return;
      this.failures++;
      setTimeout(() => this.connect(onSubscribed), reconnectDelay(this.failures));
    });
  }
}

/**
 * A long-poll reader of one room that, like the page, asks again from its cursor at once after each answer,
 * and after a failure (the server away, the connection closed) waits the page's backoff and asks on a new
 * connection.
 */
class ResumingPoller {
  attempts = 0;
  resets = 0;
  errors = 0;
  private cursor = 0;
  private epoch: string | undefined;
  private failures = 0;
  private connection: LeanHttpConnection | undefined;
  private stopped = false;

  constructor(
    private readonly target: Target,
    private readonly room: string,
    private readonly onFrame: (frame: string) => void,
  ) {}

  /** Starts polling; resolves once its first request is on its way (held by the server in a quiet room). */
  start(): Promise<void> {
    return new Promise((resolve) => void this.poll(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.connection?.close();
  }

  private async poll(onFirst: () => void): Promise<void> {
    const { hostname, port } = new URL(this.target.url);
    let first: (() => void) | undefined = onFirst;
    while (!this.stopped) {
      try {
        if (!this.connection) {
          this.attempts++;
          this.connection = new LeanHttpConnection(hostname, Number(port));
        }
        const epoch = this.epoch ? `&epoch=${this.epoch}` : '';
        // Reading once its first request is written: a quiet room holds it until something comes (up to 29 s).
        const answer = await this.connection.get(`/wait?room=${this.room}&after=${this.cursor}${epoch}`, () => {
          first?.();
          first = undefined;
        });
        if (answer.status !== 200) {
          // A 503 while the server shuts down, say: like the page, wait and ask again.
          if (answer.status !== 503) this.errors++;
          throw new Error(`/wait answered ${answer.status}`);
        }
        const body = JSON.parse(answer.body) as { type: string; epoch: string; messages?: { seq: number }[] };
        if (body.type === 'reset') {
          this.resets++;
          this.cursor = 0;
          this.epoch = undefined;
          continue;
        }
        this.epoch = body.epoch;
        this.failures = 0;
        this.cursor = body.messages?.at(-1)?.seq ?? this.cursor;
        if (body.messages?.length) this.onFrame(answer.body);
      } catch {
        if (this.stopped) return;
        this.connection?.close();
        this.connection = undefined;
        this.failures++;
        await new Promise((resolve) => setTimeout(resolve, reconnectDelay(this.failures)));
      }
    }
  }
}

/** A sender that, like the page's outbox, keeps each message until acked and sends it again after a reconnect. */
class ResendingSender {
  private readonly pending = new Map<string, { frame: string; acked: () => void }>();
  private socket: WebSocket | undefined;
  private failures = 0;
  private counter = 0;
  private stopped = false;

  constructor(
    private readonly target: Target,
    private readonly nick: string,
    private readonly cookie: string,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve) => this.connect(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.socket?.terminate();
  }

  /** Sends message `id` to `room`; resolves on its ack, however many reconnects that takes. */
  send(id: number, room: string): Promise<void> {
    const clientId = `${this.nick}-${this.counter++}-xxxxxxxx`;
    const frame = JSON.stringify({ type: 'send', room, clientId, text: stamp(id) });
    return new Promise((acked) => {
      this.pending.set(clientId, { frame, acked });
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame);
    });
  }

  private connect(onOpen?: () => void): void {
    const socket = new WebSocket(wsUrl(this.target), { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS, headers: { cookie: this.cookie } });
    this.socket = socket;
    socket.on('open', () => {
      this.failures = 0;
      for (const { frame } of this.pending.values()) socket.send(frame);
      onOpen?.();
    });
    socket.on('message', (data) => {
      const text = data.toString();
      const clientId = /"clientId":"([^"]+)"/.exec(text)?.[1];
      const pending = clientId === undefined ? undefined : this.pending.get(clientId);
      if (!clientId || !pending) return;
      if (text.startsWith('{"type":"ack"')) {
        this.pending.delete(clientId);
        pending.acked();
      } else if (text.startsWith('{"type":"error"') && text.includes('"retryable":true')) {
        // Refused while the server shuts down: the socket closes next, and the reconnect sends it again.
        const retryAfter = Number(/"retryAfterMs":(\d+)/.exec(text)?.[1] ?? 500);
        setTimeout(() => this.socket === socket && socket.readyState === WebSocket.OPEN && this.pending.has(clientId) && socket.send(pending.frame), retryAfter);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.stopped || this.socket !== socket) return;
      this.failures++;
      setTimeout(() => this.connect(), reconnectDelay(this.failures));
    });
  }
}

/**
 * The reconnect storm: `clients` readers (rooms of 100) and `senders` paced senders, then the orchestrator
 * restarts the server (SIGTERM, then again on the same DATA_DIR) while the senders keep sending. Measures
 * the time from the server listening again until every reader holds every message sent before that.
 */
async function storm(command: Extract<LoadCommand, { scenario: 'storm' }>): Promise<void> {
  const { target, transport, clients, senders, rate, seconds } = command;
  const rooms = Math.max(1, Math.round(clients / 100));
  const roomName = (index: number) => `storm${index}-${process.pid}`;
  const tally = new Tally();
  const roomOf = new Map<number, number>();
  const readers = await ramp(clients, async (i) => {
    const seen = tally.reader((id) => roomOf.get(id) === i % rooms);
    const onFrame = (frame: string) => tally.receive(seen, frame, now());
    const reader = transport === 'ws' ? new ResumingReader(target, roomName(i % rooms), onFrame) : new ResumingPoller(target, roomName(i % rooms), onFrame);
    await reader.start();
    return reader;
  }, 'clients', 100);
  const sending = await Promise.all(
    Array.from({ length: senders }, async (_, i) => {
      const s = new ResendingSender(target, `sender${i}`, await sessionCookie(target, `sender${i}`));
      await s.start();
      return s;
    }),
  );
  const acked: number[] = [];
  let sent = 0;
  let stopSending = false;
  const started = now();
  const tick = setInterval(() => {
    const due = Math.floor(((now() - started) * rate) / 1000);
    while (!stopSending && sent < due) {
      const id = ++sent;
      roomOf.set(id, id % rooms);
      void (sending[id % senders] as ResendingSender).send(id, roomName(id % rooms)).then(() => acked.push(id));
    }
  }, 1);
  // A second of sending, then the restart: the orchestrator answers once the server listens again.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const listening = new Promise<void>((resolve) => process.on('message', (message: { type?: string }) => message.type === 'release' && resolve()));
  process.send?.({ type: 'holding' } satisfies LoadReport);
  await listening;
  const listeningAt = now();
  const before = Array.from({ length: sent }, (_, i) => i + 1);
  const caughtUp = await until(() => tally.delivered(before), 60_000);
  const catchUpMs = now() - listeningAt;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, seconds * 1000 - catchUpMs)));
  stopSending = true;
  clearInterval(tick);
  const complete = caughtUp && (await until(() => acked.length === sent, 30_000)) && (await until(() => tally.delivered(acked), 30_000));
  tally.check(acked);
  for (const reader of readers) reader.stop();
  for (const s of sending) s.stop();
  await report({
    type: 'result',
    result: {
      acked: acked.length,
      elapsed: (now() - started) / 1000,
      ackLatencies: [],
      latencies: tally.latencies,
      deliveries: tally.latencies.length,
      lost: tally.lost,
      duplicated: tally.duplicated,
      complete,
      catchUpMs,
      sentBeforeListening: before.length,
      reconnects: readers.reduce((sum, r) => sum + r.attempts - 1, 0),
      resets: readers.reduce((sum, r) => sum + r.resets, 0),
      errors: readers.reduce((sum, r) => sum + r.errors, 0),
    },
  });
}

function run(command: LoadCommand): Promise<void> {
  switch (command.scenario) {
    case 'hold':
      return hold(command);
    case 'fanout':
      return fanout(command);
    case 'throughput':
      return throughput(command);
    case 'paced':
      return paced(command);
    case 'rooms':
      return manyRooms(command);
    case 'storm':
      return storm(command);
  }
}

if (process.argv.includes('--readers')) holdReaders();
else process.once('message', (command: LoadCommand) => {
  run(command).then(
    () => process.exit(0),
    (error: unknown) => report({ type: 'error', message: String(error) }).finally(() => process.exit(1)),
  );
});
