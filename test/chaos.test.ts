// Chaos, through the page's own code: 20 browser clients, each a LiveRoom (client/src/live-room.ts: the room
// view, the outbox and the connection the page runs, as they are), chat in 2 rooms while the server process
// is SIGKILLed, stopped with SIGTERM and kept down while they send, and started again on the same data dir
// and port; connections are cut at random, devices go offline and come back, and some clients switch
// transport mid-run (their WebSocket blocked, then let through again). Only the environment is the test's:
// each client reaches the server with its own cookie, over node's fetch and the `ws` package, where a browser
// would use its own. Among the messages they edit their own, react to others' and delete some of theirs
// (issue 17). At the end every client must show exactly its room's log: 1..N, every entry sent once, nothing
// else, each message as the store says it now stands, with every outbox empty.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createServerApi } from '../client/src/api';
import type { ConnectionState, NetworkSignal, SocketLike } from '../client/src/connection';
import { LiveRoom } from '../client/src/live-room';
import { Outbox } from '../client/src/outbox';
import type { ChatMessage, HistoryResponse } from '../server/protocol';
import { ChildServer, freePort } from './child-server';
import { createSession, http } from './helpers';

const ROOMS = ['chaos-a', 'chaos-b'] as const;
const CLIENTS = 20;
/** Each client sends at least this many, and goes on until the restarts are over. */
const MESSAGES_PER_CLIENT = 40;
const SEND_INTERVAL_MS = 200;

/** How each client reaches the server over the run. */
type Kind =
  | 'websocket' // WebSocket gets through
  | 'long-poll' // WebSocket always blocked (a proxy that refuses it): long-poll and HTTP sends throughout
  | 'unblocked' // starts blocked, then WebSocket gets through mid-run: long-poll, then WebSocket
  | 'blocked'; // WebSocket until mid-run, then blocked and cut: falls back to long-poll
const KINDS: readonly Kind[] = ['websocket', 'long-poll', 'unblocked', 'blocked'];

/**
 * One client's network, as the test controls it: its cookie on every request, the WebSocket blocked or
 * not, connections it can cut, and whether the device is online.
 */
class ClientNetwork implements NetworkSignal {
  websocketBlocked: boolean;
  private cut = new AbortController();
  private readonly sockets = new Set<WebSocket>();
  private isOnline = true;
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly base: string,
    private readonly cookie: string,
    blocked: boolean,
  ) {
    this.websocketBlocked = blocked;
  }

  readonly fetch = (path: string, init: RequestInit): Promise<Response> => {
    if (!this.isOnline) return Promise.reject(new TypeError('fetch failed: offline'));
    const signal = init.signal ? AbortSignal.any([init.signal, this.cut.signal]) : this.cut.signal;
    return fetch(this.base + path, { ...init, signal, headers: { ...(init.headers as Record<string, string>), cookie: this.cookie } });
  };

  /** A socket to /ws, or, while blocked or offline, to a path the server refuses (closed before it opens). */
  readonly openSocket = (): SocketLike => {
    const path = this.websocketBlocked || !this.isOnline ? '/blocked' : '/ws';
    const socket = new WebSocket(this.base.replace(/^http/, 'ws') + path, { headers: { cookie: this.cookie } });
    socket.on('error', () => undefined); // a close follows; a browser's socket reports it the same way
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    return socket as unknown as SocketLike;
  };

  /** Cuts every connection the client has, as a flaky network would: the client sees them fail. */
  drop(): void {
    this.cut.abort();
    this.cut = new AbortController();
    for (const socket of this.sockets) socket.terminate();
  }

  online(): boolean {
    return this.isOnline;
  }

  watch(changed: () => void): () => void {
    this.watchers.add(changed);
    return () => this.watchers.delete(changed);
  }

  /** The device goes offline (its connections fail with it) or comes back, and says so as a browser does. */
  setOnline(online: boolean): void {
    this.isOnline = online;
    if (!online) this.drop();
    for (const changed of this.watchers) changed();
  }
}

interface ChaosClient {
  name: string;
  room: string;
  kind: Kind;
  network: ClientNetwork;
  live: LiveRoom;
  /** clientIds of the messages this client sent, in order. */
  sent: string[];
  /** Transports this client was live on, in order, without repeats: its switches. */
  transports: ConnectionState[];
  /** Seqs of its messages it deleted: it changes them no more. */
  deleting: Set<number>;
}

/** The whole log of a room, read back a page at a time. */
async function readLog(base: string, room: string): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: number | undefined;
  for (;;) {
    const { body } = await http<HistoryResponse>(base, 'GET', `/api/rooms/${room}/messages?limit=200${before ? `&before=${before}` : ''}`);
    pages.unshift(body.messages);
    if (!body.hasOlder || body.messages.length === 0) break;
    before = body.messages[0]?.seq;
  }
  return pages.flat();
}

/** The messages of a log (its change entries applied to them by the store), as a view shows them. */
const messagesOf = (log: readonly ChatMessage[]) => log.filter((entry) => !entry.change);

/** Reactions the clients use: few, so that they meet on the same emoji. */
const EMOJI = ['👍', '🎉', '❤️'];
/** Clients that delete some of their messages; nobody reacts to theirs, which could be gone by then (forbidden). */
const deletes = (i: number) => i % 5 === 0;

/**
 * What a client does on its turn: mostly a new message, sometimes an edit of one of its own, a reaction (on
 * or off) to someone else's, or a delete of its own. Returns the clientId of what it sent.
 */
function act(client: ChaosClient, deleters: ReadonlySet<string>, changes: Record<'edit' | 'reaction' | 'delete', number>): string {
  const shown = client.live.messages.filter((m) => !m.deleted);
  const own = shown.filter((m) => m.author === client.name && !client.deleting.has(m.seq));
  const others = shown.filter((m) => m.author !== client.name && !deleters.has(m.author));
  const pick = <T,>(list: readonly T[]): T | undefined => list[Math.floor(Math.random() * list.length)];
  const roll = Math.random();
  const mine = pick(own);
  const theirs = pick(others);
  if (roll < 0.15 && mine) {
    changes.edit++;
    return client.live.edit(mine.seq, `${client.name} edits ${mine.seq} (${client.sent.length + 1})`);
  }
  if (roll < 0.3 && theirs) {
    changes.reaction++;
    return client.live.react(theirs.seq, pick(EMOJI) ?? '👍', Math.random() < 0.7);
  }
  if (roll < 0.38 && mine && deleters.has(client.name)) {
    changes.delete++;
    client.deleting.add(mine.seq);
    return client.live.remove(mine.seq);
  }
  return client.live.send(`${client.name} says ${client.sent.length + 1}`);
}

describe('chaos, with the page’s own client', () => {
  let server: ChildServer | undefined;
  let dataDir: string | undefined;
  const clients: ChaosClient[] = [];

  afterAll(async () => {
    for (const client of clients) client.live.stop();
    if (server?.running) await server.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('20 LiveRooms on WebSocket, long-poll and switching between them, through SIGKILL and SIGTERM restarts with sends while down, cut connections and offline spells: every view equals its room’s log', async () => {
    const started = Date.now();
    dataDir = await mkdtemp(join(tmpdir(), 'parley-chaos-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = await ChildServer.start(port, dataDir);

    for (let i = 0; i < CLIENTS; i++) {
      const kind = KINDS[i % KINDS.length] as Kind;
      const name = `${kind}${i}`;
      const room = ROOMS[Math.floor(i / KINDS.length) % ROOMS.length] as string;
      const network = new ClientNetwork(base, await createSession(base, name), kind === 'long-poll' || kind === 'unblocked');
      const client: ChaosClient = { name, room, kind, network, sent: [], transports: [], deleting: new Set(), live: undefined as unknown as LiveRoom };
      client.live = new LiveRoom(
        room,
        name,
        new Outbox(undefined),
        {
          changed: () => {
            const state = client.live.state;
            if ((state === 'live-ws' || state === 'live-poll') && client.transports.at(-1) !== state) client.transports.push(state);
          },
          sessionLost: () => {
            throw new Error(`${name}: the server forgot its session`);
          },
          roomClosed: (reason) => {
            throw new Error(`${name}: the server closed its public room (${reason})`);
          },
        },
        // The page's timings, but for the backoff's ceiling: 30 s would outlast this run.
        { api: createServerApi(network.fetch), openSocket: network.openSocket, network, maxBackoffMs: 1000 },
      );
      clients.push(client);
    }
    const deleters = new Set(clients.filter((_, i) => deletes(i)).map((c) => c.name));
    const changes = { edit: 0, reaction: 0, delete: 0 };
    for (const client of clients) client.live.start();
    await vi.waitUntil(() => clients.every((c) => c.live.loaded), { timeout: 10_000, interval: 20 });

    // Every client sends at a steady pace, whether or not the server is up (the outbox keeps what is
    // unsent), until the restarts are over and it has sent MESSAGES_PER_CLIENT at least.
    let sentCount = 0;
    let restartsOver = false;
    const allSent = Promise.all(
      clients.map(
        (client, i) =>
          new Promise<void>((resolve) => {
            const tick = () => {
              client.sent.push(act(client, deleters, changes));
              sentCount++;
              if (restartsOver && client.sent.length >= MESSAGES_PER_CLIENT) resolve();
              else setTimeout(tick, SEND_INTERVAL_MS * (0.5 + Math.random()));
            };
            setTimeout(tick, (i * SEND_INTERVAL_MS) / clients.length);
          }),
      ),
    );
    const sentSince = async (count: number, mark = sentCount) => vi.waitUntil(() => sentCount >= mark + count, { timeout: 30_000, interval: 10 });

    // While they send: a connection cut every 300 ms, and a device offline for 0.5-2 s every 1.5 s.
    let drops = 0;
    let offlineSpells = 0;
    const pick = () => clients[Math.floor(Math.random() * clients.length)] as ChaosClient;
    const dropping = setInterval(() => {
      pick().network.drop();
      drops++;
    }, 300);
    const goingOffline = setInterval(() => {
      const client = pick();
      if (!client.network.online()) return;
      client.network.setOnline(false);
      setTimeout(() => {
        client.network.setOnline(true);
        offlineSpells++;
      }, 500 + Math.random() * 1500);
    }, 1500);

    // Five restarts, 150 messages apart: SIGKILL, or SIGTERM and then down for a while as the clients send.
    // After the second, the WebSocket of some clients gets through at last, and that of others is blocked.
    const restarts: string[] = [];
    const plan: { signal: NodeJS.Signals; downMs: number }[] = [
      { signal: 'SIGKILL', downMs: 0 },
      { signal: 'SIGTERM', downMs: 1000 },
      { signal: 'SIGKILL', downMs: 300 },
      { signal: 'SIGTERM', downMs: 1000 },
      { signal: 'SIGTERM', downMs: 0 },
    ];
    for (const [r, { signal, downMs }] of plan.entries()) {
      await sentSince(150);
      const exit = await server.kill(signal);
      if (signal === 'SIGKILL') expect(exit.signal).toBe('SIGKILL');
      else expect(exit.code, server.output).toBe(0);
      const downAt = sentCount;
      await sentSince(1, downAt); // a message sent while the server is down, at least
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs)); // the outage itself, as planned
      server = await ChildServer.start(port, dataDir);
      restarts.push(`${signal} (${sentCount - downAt} sent while down)`);
      if (r === 1) {
        for (const client of clients) {
          if (client.kind === 'unblocked') client.network.websocketBlocked = false;
          if (client.kind === 'blocked') {
            client.network.websocketBlocked = true;
            client.network.drop();
          }
        }
      }
    }
    await sentSince(100);
    restartsOver = true;
    await allSent;
    clearInterval(dropping);
    clearInterval(goingOffline);
    await vi.waitUntil(() => clients.every((c) => c.network.online()), { timeout: 5000, interval: 20 });

    // Settle: every outbox empty, and every client's stream at its room's head.
    const heads = new Map<string, number>();
    const behind = () => clients.filter((c) => c.live.outgoing.length > 0 || c.live.cursor !== heads.get(c.room));
    await vi.waitFor(
      async () => {
        for (const room of ROOMS) heads.set(room, (await readLog(base, room)).at(-1)?.seq ?? 0);
        const late = behind();
        if (late.length > 0) {
          throw new Error(`not settled: ${late.map((c) => `${c.name} outbox ${c.live.outgoing.length} cursor ${c.live.cursor}/${heads.get(c.room)}`).join(', ')}\n${server?.output}`);
        }
      },
      { timeout: 20_000, interval: 100 },
    );

    // The proof, room by room: the log holds each message sent once, and every client shows exactly the log.
    let lost = 0;
    let duplicated = 0;
    const wrongViews: string[] = [];
    const stored: Record<string, number> = {};
    for (const room of ROOMS) {
      const log = await readLog(base, room);
      const members = clients.filter((c) => c.room === room);
      const sentHere = new Set(members.flatMap((c) => c.sent));
      const storedIds = log.map((m) => m.clientId);
      stored[room] = log.length;
      duplicated += storedIds.length - new Set(storedIds).size;
      lost += [...sentHere].filter((id) => !storedIds.includes(id)).length;
      expect(log.map((m) => m.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
      expect(new Set(storedIds)).toEqual(sentHere);
      const messages = messagesOf(log);
      for (const client of members) {
        const shown = new Set(client.live.messages.map((m) => m.seq));
        const missing = messages.filter((m) => !shown.has(m.seq)).map((m) => m.seq);
        const extra = client.live.messages.length - (messages.length - missing.length);
        if (missing.length > 0 || extra > 0) {
          wrongViews.push(`${client.name} (${client.kind}): ${missing.length} of ${log.length} missing (seqs ${missing.slice(0, 8).join(',')}…), ${extra} extra`);
        }
      }
    }
    expect(wrongViews, 'clients whose view is not the log').toEqual([]);
    // Each message as the store says it now stands: text, edited, deleted, reactions, as the client applied them.
    for (const client of clients) expect(client.live.messages, client.name).toEqual(messagesOf(await readLog(base, client.room)));
    const finalLogs = await Promise.all(ROOMS.map((room) => readLog(base, room)));
    const edited = finalLogs.flat().filter((m) => m.editedAt !== undefined).length;
    const deleted = finalLogs.flat().filter((m) => m.deleted !== undefined).length;
    const reacted = finalLogs.flat().filter((m) => m.reactions !== undefined).length;
    expect(Math.min(changes.edit, changes.reaction, changes.delete), 'every kind of change was made').toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    // The switches happened: a client that was unblocked ended on WebSocket after long-poll, and vice versa.
    for (const client of clients.filter((c) => c.kind === 'unblocked')) expect(client.transports, client.name).toContain('live-ws');
    for (const client of clients.filter((c) => c.kind === 'blocked')) expect(client.transports, client.name).toContain('live-poll');

    const storedTotal = Object.values(stored).reduce((a, b) => a + b, 0);
    const switches = clients.reduce((sum, c) => sum + Math.max(0, c.transports.length - 1), 0);
    console.log(
      `chaos (page client): ${sentCount} messages sent by ${clients.length} LiveRooms, ${storedTotal} stored ` +
        `(room a ${stored[ROOMS[0]]}, room b ${stored[ROOMS[1]]}); restarts: ${restarts.join(', ')}; ${drops} connection drops, ` +
        `${offlineSpells} offline spells, ${switches} transport switches; changes sent: ${changes.edit} edits, ${changes.reaction} reactions, ` +
        `${changes.delete} deletes (messages now edited ${edited}, deleted ${deleted}, with reactions ${reacted}); lost ${lost}, duplicated ${duplicated}, ` +
        `views equal to the log ${clients.length - wrongViews.length}/${clients.length}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }, 90_000);
});
