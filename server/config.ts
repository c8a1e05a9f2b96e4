// Every setting of the server, read from the environment in one place, typed and validated.
// A bad value stops the start with one line naming the variable.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { parseProxyEntry } from './client-address';
import { DEFAULT_MAX_REACTION_EMOJI, DEFAULT_MAX_REACTORS_PER_EMOJI, DEFAULT_MAX_TEXT_LENGTH, MAX_FILE_IDS } from './protocol';
import type { BucketRate } from './rate-limit';

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** "https://chat.example.com, http://localhost:5173" -> each one's origin; empty -> none. */
const originList = z
  .string()
  .transform((list) => list.split(',').map((item) => item.trim()).filter((item) => item.length > 0))
  .pipe(
    z.array(
      z
        .string()
        .regex(/^https?:\/\/[^/?#\s]+$/, 'each origin is scheme://host[:port], such as https://chat.example.com')
        .transform((origin) => new URL(origin).origin),
    ),
  );

/** "chat.example.com, Parley.internal" -> each name in lowercase; "*" stands for any name; empty -> none. */
const hostList = z
  .string()
  .transform((list) => list.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item.length > 0))
  .pipe(z.array(z.string().regex(/^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*)$/, 'each is a host name without scheme or port, such as chat.example.com, or * for any')));

/** "10.0.0.0/8, ::1, loopback" -> each entry; empty -> none. Each is an address, a network or `loopback`. */
const proxyList = z
  .string()
  .transform((list) => list.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item.length > 0))
  .pipe(
    z.array(
      z.string().superRefine((entry, check) => {
        const networks = parseProxyEntry(entry);
        if (typeof networks === 'string') check.addIssue({ code: 'custom', message: networks });
      }),
    ),
  );

const settings = {
  PORT: { schema: integer(0, 65535), default: '8888', help: 'TCP port to listen on (0 picks a free one)' },
  HOST: { schema: z.string().min(1), default: '127.0.0.1', help: 'address to listen on; 0.0.0.0 for every IPv4 interface, :: for every interface, IPv4 and IPv6' },
  STORE: {
    schema: z.enum(['auto', 'embedded', 'mongodb']),
    default: 'auto',
    help: 'auto: MongoDB if MONGODB_URI is set or something listens on 127.0.0.1:27017 (then it must be a working MongoDB), else embedded',
  },
  MONGODB_URI: { schema: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://').optional(), default: undefined, help: 'MongoDB connection string; when set, MongoDB must answer' },
  MONGODB_TIMEOUT_MS: { schema: integer(100, 600_000), default: '10000', help: 'how long a write may wait for a majority of the replica set, and a read may run, before the request fails with store_unavailable' },
  DATA_DIR: { schema: z.string().min(1), default: './data', help: 'where the embedded store lives' },
  LOG_LEVEL: { schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', help: 'pino log level' },
  LOG_FORMAT: { schema: z.enum(['auto', 'json', 'pretty']), default: 'auto', help: 'auto: human-readable lines in a terminal, JSON lines otherwise (systemd, Docker, files)' },
  GUESTS: { schema: z.enum(['on', 'off']), default: 'on', help: 'on: a visitor may chat as a guest under a nickname, shown as a guest; off: only signed-in accounts may send' },
  SESSION_IDLE_DAYS: { schema: integer(1, 3650), default: '30', help: 'a session unused this many days is over (each use moves the limit on)' },
  TRUSTED_PROXIES: {
    schema: proxyList,
    default: '',
    help: 'comma-separated addresses or networks (10.0.0.0/8, ::1, loopback) of the reverse proxies in front: a request from one counts, for the per-IP limits, as from the client its X-Forwarded-For names (the last address that is not a trusted proxy), and its connections are not capped per IP',
  },
  TRUST_PROXY: { schema: z.enum(['on', 'off']), default: 'off', help: 'on: believe X-Forwarded-Proto from the reverse proxy in front (https: Secure, __Host- session cookie); only with a proxy that sets it' },
  WAIT_TIMEOUT_MS: { schema: integer(100, 29_000), default: '25000', help: 'how long GET /wait holds before answering empty (under 30 s for proxies)' },
  LONGPOLL_BATCH_MS: {
    schema: integer(0, 1000),
    default: '25',
    help: "a room's waiting long-polls are answered at most once per this many ms: a quiet room's first message at once, a burst's gathered, each reader one round trip per this many ms instead of one per commit (0: every commit)",
  },
  MAX_TEXT_LENGTH: { schema: integer(1, 100_000), default: String(DEFAULT_MAX_TEXT_LENGTH), help: 'longest message text, in characters' },
  MAX_REACTION_EMOJI: { schema: integer(1, 1000), default: String(DEFAULT_MAX_REACTION_EMOJI), help: 'different emoji one message can carry as reactions' },
  MAX_REACTORS_PER_EMOJI: { schema: integer(1, 10_000), default: String(DEFAULT_MAX_REACTORS_PER_EMOJI), help: 'people who can react to one message with one emoji (all are listed)' },
  HISTORY_PAGE_SIZE: { schema: integer(1, 1000), default: '50', help: 'messages in a history page when the client does not say' },
  MAX_HISTORY_PAGE_SIZE: { schema: integer(1, 1000), default: '200', help: 'most messages a client may ask for in one history page' },
  MAX_REPLAY: { schema: integer(1, 100_000), default: '1000', help: 'most messages replayed to a cursor; further behind gets a reset' },
  MAX_FRAME_BYTES: { schema: integer(1024, 16 * 1024 * 1024), default: String(64 * 1024), help: 'largest WebSocket frame or HTTP body a client may send' },
  MAX_BUFFERED_BYTES: { schema: integer(1024, 1024 * 1024 * 1024), default: String(1024 * 1024), help: 'unsent bytes the server holds for one WebSocket (past it: closed as a slow reader) or one HTTP connection (answers are cut to fit)' },
  SLOW_READER_TIMEOUT_MS: { schema: integer(100, 600_000), default: '10000', help: 'a client that takes in nothing of what waits for it this long is cut (a WebSocket with 4008, an HTTP connection destroyed)' },
  HEARTBEAT_MS: { schema: integer(100, 600_000), default: '30000', help: 'WebSocket ping interval; a peer silent for two intervals is dropped' },
  ALLOWED_ORIGINS: { schema: originList, default: '', help: 'comma-separated origins whose pages may open sockets and POST, besides the server\'s own (an Origin whose host is the request\'s Host)' },
  SEND_BURST: { schema: integer(1, 1_000_000), default: '10', help: 'messages one session may send from one IP at once' },
  SEND_PER_SECOND: { schema: integer(1, 1_000_000), default: '5', help: 'messages per second one session may send from one IP, after the burst' },
  IP_SEND_BURST: { schema: integer(1, 1_000_000), default: '200', help: 'messages all sessions of one IP may send at once' },
  IP_SEND_PER_SECOND: { schema: integer(1, 1_000_000), default: '100', help: 'messages per second all sessions of one IP may send, after the burst' },
  NEW_ROOM_BURST: { schema: integer(1, 1_000_000), default: '10', help: 'rooms one session may create from one IP at once (a room exists once a message is stored in it)' },
  NEW_ROOMS_PER_MINUTE: { schema: integer(1, 1_000_000), default: '10', help: 'rooms per minute one session may create from one IP, after the burst' },
  IP_NEW_ROOM_BURST: { schema: integer(1, 1_000_000), default: '30', help: 'rooms all sessions of one IP may create at once' },
  IP_NEW_ROOMS_PER_MINUTE: { schema: integer(1, 1_000_000), default: '30', help: 'rooms per minute all sessions of one IP may create, after the burst' },
  PRESENCE_BURST: { schema: integer(1, 1_000_000), default: '30', help: 'typing signals and people requests one session may make from one IP at once' },
  PRESENCE_PER_SECOND: { schema: integer(1, 1_000_000), default: '5', help: 'typing signals and people requests per second one session may make from one IP, after the burst' },
  IP_PRESENCE_BURST: { schema: integer(1, 1_000_000), default: '300', help: 'typing signals and people requests all clients of one IP may make at once' },
  IP_PRESENCE_PER_SECOND: { schema: integer(1, 1_000_000), default: '100', help: 'typing signals and people requests per second all clients of one IP may make, after the burst' },
  IP_GUEST_BURST: { schema: integer(1, 1_000_000), default: '20', help: 'guest sessions and nickname changes all clients of one IP may make at once' },
  IP_GUESTS_PER_MINUTE: { schema: integer(1, 1_000_000), default: '10', help: 'guest sessions and nickname changes per minute all clients of one IP may make, after the burst' },
  SEARCH_BURST: { schema: integer(1, 1_000_000), default: '10', help: 'searches one session may make from one IP at once (search is the most expensive read)' },
  SEARCHES_PER_MINUTE: { schema: integer(1, 1_000_000), default: '30', help: 'searches per minute one session may make from one IP, after the burst' },
  IP_SEARCH_BURST: { schema: integer(1, 1_000_000), default: '50', help: 'searches all clients of one IP may make at once' },
  IP_SEARCHES_PER_MINUTE: { schema: integer(1, 1_000_000), default: '300', help: 'searches per minute all clients of one IP may make, after the burst' },
  SEARCH_PAGE_SIZE: { schema: integer(1, 50), default: '20', help: 'results in a page of search results when the client does not say (it may ask for up to 50)' },
  SEARCH_SCAN_LIMIT: { schema: integer(100, 10_000_000), default: '20000', help: 'index entries one search request looks at, at most, on the embedded store: past it the page ends early and says where to go on' },
  MAX_POLLED_ROOMS: { schema: integer(1, 10_000_000), default: '10000', help: 'rooms whose presence is kept for long-poll readers alone (no WebSocket follows them); past it, the least recently polled is forgotten' },
  SOCKET_FRAME_BURST: { schema: integer(1, 1_000_000), default: '100', help: 'frames one WebSocket may send at once; past its budget the server stops reading it until the budget refills' },
  SOCKET_FRAMES_PER_SECOND: { schema: integer(1, 1_000_000), default: '20', help: 'frames per second one WebSocket may send, after the burst' },
  SOCKET_BYTES_PER_SECOND: { schema: integer(1024, 1024 * 1024 * 1024), default: String(256 * 1024), help: 'bytes per second one WebSocket may send (and at once), at least MAX_FRAME_BYTES; past it the server stops reading it for a while' },
  CONNECT_BURST: { schema: integer(1, 1_000_000), default: '100', help: 'WebSocket connections one IP may open at once' },
  CONNECT_PER_SECOND: { schema: integer(1, 1_000_000), default: '20', help: 'WebSocket connections per second one IP may open, after the burst' },
  MAX_CONNECTIONS: { schema: integer(1, 10_000_000), default: '20000', help: 'open WebSockets the server holds in all' },
  MAX_CONNECTIONS_PER_IP: { schema: integer(1, 10_000_000), default: '500', help: 'open WebSockets one IP may hold (a whole office behind one NAT shares it)' },
  MAX_LONGPOLLS_PER_IP: { schema: integer(1, 10_000_000), default: '500', help: 'GET /wait requests one IP may have held at once' },
  MAX_ROOMS_PER_SOCKET: { schema: integer(1, 10_000), default: '50', help: 'rooms one WebSocket may follow at once' },
  FIRST_FRAME_TIMEOUT_MS: { schema: integer(50, 600_000), default: '10000', help: 'a WebSocket that sends no frame this long after opening is closed' },
  SOCKET_IDLE_MS: { schema: integer(50, 86_400_000), default: '120000', help: 'a WebSocket that follows no room and sends no frame this long is closed' },
  MAX_TCP_CONNECTIONS_PER_IP: { schema: integer(1, 10_000_000), default: '1000', help: 'TCP connections one IP may hold open, of every kind (WebSockets, long-polls, plain HTTP); one past it is closed at once' },
  HEADERS_TIMEOUT_MS: { schema: integer(100, 600_000), default: '10000', help: 'a connection that has not sent a request\'s whole head this long after opening (or after its previous request) is closed' },
  REQUEST_TIMEOUT_MS: { schema: integer(100, 3_600_000), default: '30000', help: 'a request whose head and body have not all arrived this long after it began is closed (a held /wait, answered later, is not cut)' },
  KEEP_ALIVE_TIMEOUT_MS: { schema: integer(100, 600_000), default: '5000', help: 'an idle keep-alive connection is closed this long (and a second) after its last answer; behind a proxy that keeps connections to Parley, above the proxy\'s own idle timeout' },
  ALLOWED_HOSTS: { schema: hostList, default: '', help: 'comma-separated host names this server answers for, besides localhost and IP addresses (* for any): the guard against DNS rebinding' },
  ADMINS: {
    schema: z
      .string()
      .transform((list) => list.split(',').map((item) => item.trim()).filter((item) => item.length > 0))
      .pipe(z.array(z.string().max(32, 'each is a username (at most 32 characters)'))),
    default: '',
    help: 'comma-separated usernames of the server\'s admins, who moderate every room (accounts only: a guest under such a name is not an admin)',
  },
  MAX_ROOM_MEMBERS: { schema: integer(2, 1_000_000), default: '1000', help: 'members one private room may have; also the most people with a role, mute or ban in one public room' },
  MAX_PRIVATE_ROOMS_PER_PERSON: { schema: integer(1, 1_000_000), default: '500', help: 'private rooms and direct messages one account may belong to' },
  PRIVATE_ROOMS_PER_MINUTE: { schema: integer(1, 1_000_000), default: '10', help: 'private rooms one account may create per minute (and at once)' },
  INVITES_PER_MINUTE: { schema: integer(1, 1_000_000), default: '30', help: 'people one account may invite to private rooms per minute (and at once)' },
  DMS_PER_MINUTE: { schema: integer(1, 1_000_000), default: '10', help: 'direct messages one account may open per minute (and at once)' },
  MODERATIONS_PER_MINUTE: { schema: integer(1, 1_000_000), default: '60', help: 'mutes, bans and role changes one account may make per minute (and at once)' },
  MAX_FILE_BYTES: { schema: integer(1, 1024 * 1024 * 1024), default: String(10 * 1024 * 1024), help: 'largest file one may upload, in bytes (refused with 413 from its Content-Length, or cut off once a body without one passes it); an upload must also arrive within REQUEST_TIMEOUT_MS' },
  MAX_FILES_PER_MESSAGE: { schema: integer(1, MAX_FILE_IDS), default: '10', help: 'files one message may carry' },
  MAX_USER_FILE_BYTES: { schema: integer(1, Number.MAX_SAFE_INTEGER), default: String(500 * 1024 * 1024), help: 'bytes of files one person (an account, or a guest) may hold in all; deleting messages frees theirs' },
  MAX_GUEST_FILE_BYTES_PER_IP: {
    schema: integer(0, Number.MAX_SAFE_INTEGER).optional(),
    default: undefined,
    help: 'bytes of files all guests of one IP may hold together, sent or waiting, also those of guests since gone (default: MAX_USER_FILE_BYTES, what one account holds; 0: guests may not upload). Accounts keep their own MAX_USER_FILE_BYTES each. Behind a reverse proxy every guest has the proxy\'s address',
  },
  MAX_PENDING_FILES: { schema: integer(1, 10_000), default: '20', help: 'uploads one person may have waiting to be sent with a message' },
  UPLOAD_TTL_MINUTES: { schema: integer(1, 7 * 24 * 60), default: '60', help: 'an upload not sent with a message this long is removed' },
  METRICS_TOKEN: { schema: z.string().regex(/^\S{16,}$/, 'must be at least 16 characters, without spaces').optional(), default: undefined, help: 'when set, GET /metrics needs Authorization: Bearer <this token>' },
  METRICS_PORT: { schema: integer(0, 65535).optional(), default: undefined, help: 'when set, /metrics is served on this port (of METRICS_HOST) only, and no longer on PORT' },
  METRICS_HOST: { schema: z.string().min(1), default: '127.0.0.1', help: 'address the METRICS_PORT listener listens on' },
} as const;

type Settings = typeof settings;
type Raw = { [K in keyof Settings]: z.infer<Settings[K]['schema']> };

export interface Config {
  port: number;
  host: string;
  store: 'auto' | 'embedded' | 'mongodb';
  mongodbUri: string | undefined;
  /** How long a MongoDB write may wait for a majority, and a read may run. */
  mongodbTimeoutMs: number;
  dataDir: string;
  logLevel: Raw['LOG_LEVEL'];
  logFormat: Raw['LOG_FORMAT'];
  /** Whether visitors may chat as guests (GUESTS). */
  guests: boolean;
  sessionIdleMs: number;
  /** Whether X-Forwarded-Proto is believed (TRUST_PROXY). */
  trustProxy: boolean;
  /** TRUSTED_PROXIES: whose X-Forwarded-For names the client the per-IP limits count. */
  trustedProxies: readonly string[];
  waitTimeoutMs: number;
  /** LONGPOLL_BATCH_MS: the least time between two answers to a room's waiting long-polls. */
  longPollBatchMs: number;
  maxTextLength: number;
  /** Different emoji per message (MAX_REACTION_EMOJI). */
  maxReactionEmoji: number;
  /** People per emoji per message (MAX_REACTORS_PER_EMOJI). */
  maxReactorsPerEmoji: number;
  historyPageSize: number;
  maxHistoryPageSize: number;
  maxReplay: number;
  maxFrameBytes: number;
  maxBufferedBytes: number;
  slowReaderTimeoutMs: number;
  heartbeatMs: number;
  /** Origins allowed besides the server's own; see server/origin.ts. */
  allowedOrigins: string[];
  sendRate: BucketRate;
  ipSendRate: BucketRate;
  connectRate: BucketRate;
  newRoomRate: BucketRate;
  ipNewRoomRate: BucketRate;
  presenceRate: BucketRate;
  /** Guest sessions and nickname changes per IP. */
  ipGuestRate: BucketRate;
  ipPresenceRate: BucketRate;
  maxPolledRooms: number;
  /** Searches per session and IP, and per IP. */
  searchRate: BucketRate;
  ipSearchRate: BucketRate;
  searchPageSize: number;
  searchScanLimit: number;
  /** What one WebSocket may send: frames, and bytes (burst and rate alike: SOCKET_BYTES_PER_SECOND). */
  socketFrameRate: BucketRate;
  socketByteRate: BucketRate;
  maxConnections: number;
  maxConnectionsPerIp: number;
  maxLongPollsPerIp: number;
  maxRoomsPerSocket: number;
  firstFrameTimeoutMs: number;
  socketIdleMs: number;
  maxTcpConnectionsPerIp: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Host names served besides localhost and IP addresses; see server/hosts.ts. */
  allowedHosts: string[];
  /** Usernames of the server's admins (ADMINS): they moderate every room. */
  admins: string[];
  maxRoomMembers: number;
  maxPrivateRoomsPerPerson: number;
  privateRoomRate: BucketRate;
  inviteRate: BucketRate;
  dmRate: BucketRate;
  moderationRate: BucketRate;
  /** Uploads: the largest file, files per message, bytes one person holds, uploads waiting for a send, and how long they wait. */
  maxFileBytes: number;
  maxFilesPerMessage: number;
  maxUserFileBytes: number;
  /** Bytes the files of all guests of one IP may hold together (MAX_GUEST_FILE_BYTES_PER_IP, else MAX_USER_FILE_BYTES). */
  maxGuestFileBytesPerIp: number;
  maxPendingFiles: number;
  uploadTtlMs: number;
  /** The bearer token GET /metrics needs; undefined: none. */
  metricsToken: string | undefined;
  /** Where /metrics is served alone; undefined: on the chat's own port. */
  metricsListen: { host: string; port: number } | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the config from an environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings)) {
    const given = env[name] === '' ? undefined : env[name];
    const parsed = setting.schema.safeParse(given ?? setting.default);
    if (!parsed.success) {
      const reason = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(`${name}=${JSON.stringify(given)} is not valid: ${reason} (${setting.help})`);
    }
    raw[name] = parsed.data;
  }
  const r = raw as Raw;
  // A message of MAX_TEXT_LENGTH characters must fit in a frame even when JSON escapes every one of them
  // (\u0000 is 6 bytes), or an allowed message would close the socket instead of being stored.
  const neededFrame = r.MAX_TEXT_LENGTH * 6 + 1024;
  if (r.MAX_FRAME_BYTES < neededFrame) {
    throw new ConfigError(`MAX_FRAME_BYTES=${r.MAX_FRAME_BYTES} is too small for MAX_TEXT_LENGTH=${r.MAX_TEXT_LENGTH}: it needs at least ${neededFrame}`);
  }
  // A replay goes out in parts of half MAX_BUFFERED_BYTES, and each part must hold at least one message.
  const neededBuffer = 2 * neededFrame;
  if (r.MAX_BUFFERED_BYTES < neededBuffer) {
    throw new ConfigError(`MAX_BUFFERED_BYTES=${r.MAX_BUFFERED_BYTES} is too small for MAX_TEXT_LENGTH=${r.MAX_TEXT_LENGTH}: it needs at least ${neededBuffer}`);
  }
  // A socket's byte budget must hold its largest frame, or such a frame would stop its reading for good.
  if (r.SOCKET_BYTES_PER_SECOND < r.MAX_FRAME_BYTES) {
    throw new ConfigError(`SOCKET_BYTES_PER_SECOND=${r.SOCKET_BYTES_PER_SECOND} is smaller than MAX_FRAME_BYTES=${r.MAX_FRAME_BYTES}: a socket could never send its largest frame`);
  }
  if (r.HISTORY_PAGE_SIZE > r.MAX_HISTORY_PAGE_SIZE) {
    throw new ConfigError(`HISTORY_PAGE_SIZE=${r.HISTORY_PAGE_SIZE} is larger than MAX_HISTORY_PAGE_SIZE=${r.MAX_HISTORY_PAGE_SIZE}`);
  }
  // node refuses a head timeout longer than the whole request's.
  if (r.HEADERS_TIMEOUT_MS > r.REQUEST_TIMEOUT_MS) {
    throw new ConfigError(`HEADERS_TIMEOUT_MS=${r.HEADERS_TIMEOUT_MS} is longer than REQUEST_TIMEOUT_MS=${r.REQUEST_TIMEOUT_MS}`);
  }  if (r.LONGPOLL_BATCH_MS >= r.WAIT_TIMEOUT_MS) {
    // A request held for the room's next answer would reach its deadline first, and be answered empty.
    throw new ConfigError(`LONGPOLL_BATCH_MS=${r.LONGPOLL_BATCH_MS} is not shorter than WAIT_TIMEOUT_MS=${r.WAIT_TIMEOUT_MS}`);
  }

  if (r.METRICS_PORT !== undefined && r.METRICS_PORT !== 0 && r.METRICS_PORT === r.PORT) {
    throw new ConfigError(`METRICS_PORT=${r.METRICS_PORT} is the chat's PORT: give /metrics a port of its own, or leave METRICS_PORT unset`);
  }
  return {
    port: r.PORT,
    host: r.HOST,
    store: r.STORE,
    mongodbUri: r.MONGODB_URI,
    mongodbTimeoutMs: r.MONGODB_TIMEOUT_MS,
    dataDir: r.DATA_DIR,
    logLevel: r.LOG_LEVEL,
    logFormat: r.LOG_FORMAT,
    guests: r.GUESTS === 'on',
    sessionIdleMs: r.SESSION_IDLE_DAYS * 24 * 60 * 60 * 1000,
    trustProxy: r.TRUST_PROXY === 'on',
    trustedProxies: r.TRUSTED_PROXIES,
    waitTimeoutMs: r.WAIT_TIMEOUT_MS,
    longPollBatchMs: r.LONGPOLL_BATCH_MS,
    maxTextLength: r.MAX_TEXT_LENGTH,
    maxReactionEmoji: r.MAX_REACTION_EMOJI,
    maxReactorsPerEmoji: r.MAX_REACTORS_PER_EMOJI,
    historyPageSize: r.HISTORY_PAGE_SIZE,
    maxHistoryPageSize: r.MAX_HISTORY_PAGE_SIZE,
    maxReplay: r.MAX_REPLAY,
    maxFrameBytes: r.MAX_FRAME_BYTES,
    maxBufferedBytes: r.MAX_BUFFERED_BYTES,
    slowReaderTimeoutMs: r.SLOW_READER_TIMEOUT_MS,
    heartbeatMs: r.HEARTBEAT_MS,
    allowedOrigins: r.ALLOWED_ORIGINS,
    sendRate: { burst: r.SEND_BURST, perSecond: r.SEND_PER_SECOND },
    ipSendRate: { burst: r.IP_SEND_BURST, perSecond: r.IP_SEND_PER_SECOND },
    connectRate: { burst: r.CONNECT_BURST, perSecond: r.CONNECT_PER_SECOND },
    newRoomRate: { burst: r.NEW_ROOM_BURST, perSecond: r.NEW_ROOMS_PER_MINUTE / 60 },
    ipNewRoomRate: { burst: r.IP_NEW_ROOM_BURST, perSecond: r.IP_NEW_ROOMS_PER_MINUTE / 60 },
    presenceRate: { burst: r.PRESENCE_BURST, perSecond: r.PRESENCE_PER_SECOND },
    ipPresenceRate: { burst: r.IP_PRESENCE_BURST, perSecond: r.IP_PRESENCE_PER_SECOND },
    ipGuestRate: { burst: r.IP_GUEST_BURST, perSecond: r.IP_GUESTS_PER_MINUTE / 60 },
    maxPolledRooms: r.MAX_POLLED_ROOMS,
    searchRate: { burst: r.SEARCH_BURST, perSecond: r.SEARCHES_PER_MINUTE / 60 },
    ipSearchRate: { burst: r.IP_SEARCH_BURST, perSecond: r.IP_SEARCHES_PER_MINUTE / 60 },
    searchPageSize: r.SEARCH_PAGE_SIZE,
    searchScanLimit: r.SEARCH_SCAN_LIMIT,
    socketFrameRate: { burst: r.SOCKET_FRAME_BURST, perSecond: r.SOCKET_FRAMES_PER_SECOND },
    socketByteRate: { burst: r.SOCKET_BYTES_PER_SECOND, perSecond: r.SOCKET_BYTES_PER_SECOND },
    maxConnections: r.MAX_CONNECTIONS,
    maxConnectionsPerIp: r.MAX_CONNECTIONS_PER_IP,
    maxLongPollsPerIp: r.MAX_LONGPOLLS_PER_IP,
    maxRoomsPerSocket: r.MAX_ROOMS_PER_SOCKET,
    firstFrameTimeoutMs: r.FIRST_FRAME_TIMEOUT_MS,
    socketIdleMs: r.SOCKET_IDLE_MS,
    maxTcpConnectionsPerIp: r.MAX_TCP_CONNECTIONS_PER_IP,
    headersTimeoutMs: r.HEADERS_TIMEOUT_MS,
    requestTimeoutMs: r.REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: r.KEEP_ALIVE_TIMEOUT_MS,
    allowedHosts: r.ALLOWED_HOSTS,
    admins: r.ADMINS,
    maxRoomMembers: r.MAX_ROOM_MEMBERS,
    maxPrivateRoomsPerPerson: r.MAX_PRIVATE_ROOMS_PER_PERSON,
    privateRoomRate: perMinute(r.PRIVATE_ROOMS_PER_MINUTE),
    inviteRate: perMinute(r.INVITES_PER_MINUTE),
    dmRate: perMinute(r.DMS_PER_MINUTE),
    moderationRate: perMinute(r.MODERATIONS_PER_MINUTE),
    maxFileBytes: r.MAX_FILE_BYTES,
    maxFilesPerMessage: r.MAX_FILES_PER_MESSAGE,
    maxUserFileBytes: r.MAX_USER_FILE_BYTES,
    maxGuestFileBytesPerIp: r.MAX_GUEST_FILE_BYTES_PER_IP ?? r.MAX_USER_FILE_BYTES,
    maxPendingFiles: r.MAX_PENDING_FILES,
    uploadTtlMs: r.UPLOAD_TTL_MINUTES * 60_000,
    metricsToken: r.METRICS_TOKEN,
    metricsListen: r.METRICS_PORT === undefined ? undefined : { host: r.METRICS_HOST, port: r.METRICS_PORT },
  };
}

/** A budget of `count` at once, refilled at `count` a minute. */
function perMinute(count: number): BucketRate {
  return { burst: count, perSecond: count / 60 };
}

/** The --help text: every variable, its default and what it does. */
export function configHelp(): string {
  const lines = Object.entries(settings).map(
    ([name, s]) => `  ${name.padEnd(22)} ${s.help}${s.default ? ` (default ${s.default})` : ''}`,
  );
  return ['Parley reads its settings from the environment (and from a .env file in the working directory, which the', 'environment overrides):', ...lines].join('\n');
}

/**
 * Reads `path` (KEY=value lines) into process.env when the file exists, without overriding variables the
 * environment already sets. Returns whether there was a file.
 */
export function loadDotEnv(path = '.env'): boolean {
  if (!existsSync(path)) return false;
  try {
    process.loadEnvFile(path);
  } catch (error) {
    throw new ConfigError(`${path} could not be read: ${(error as Error).message}`);
  }
  return true;
}
