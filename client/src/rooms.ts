// The rooms this browser has visited, for the sidebar: each with the last seq read in it, kept in
// localStorage, and how many messages it has beyond that, and how many of those mention the user (asked
// from the server now and then). The user can take a room off the list; the default room is always on it.
// For an account the server keeps the read markers too (PUT /api/rooms/:room/read), so that every device lists
// the same rooms, counts the same unread messages and opens a room where the person stopped reading.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { DEFAULT_ROOM, isPrivateRoom, type ChatMessage, type RoomRead } from '../../server/protocol';
import type { SidebarPushes } from './use-room';
import { fetchHistory, fetchReadMarkers, forgetRead, markRead as sendReadMarker } from './api';
import { mentions } from './mentions';
import { isRoomName } from './routes';

const ROOMS_KEY = 'parley.rooms';
/** How often the sidebar asks how far the other rooms have gone, while nothing is pushed (long-poll). */
const REFRESH_MS = 10_000;
/**
 * And while the WebSocket pushes heads and read markers: only to catch what no push carries (a marker moved
 * through another server instance).
 */
const PUSHED_REFRESH_MS = 60_000;
/** The sidebar lists at most this many rooms (the most recently visited). */
const MAX_ROOMS = 30;
/** The unread messages of a room read to count its mentions: at most the newest this many. */
const MENTIONS_READ = 100;

interface Visited {
  /** Last seq read in the room. */
  read: number;
  /** When the room was last open, for ordering and trimming. */
  at: number;
}

function load(): Record<string, Visited> {
  try {
    const stored = JSON.parse(localStorage.getItem(ROOMS_KEY) ?? '{}') as Record<string, Visited>;
    return Object.fromEntries(Object.entries(stored).filter(([name, v]) => isRoomName(name) && typeof v?.read === 'number'));
  } catch {
    return {};
  }
}

function save(rooms: Record<string, Visited>): void {
  const kept = Object.entries(rooms)
    .sort(([, a], [, b]) => b.at - a.at)
    .slice(0, MAX_ROOMS);
  try {
    localStorage.setItem(ROOMS_KEY, JSON.stringify(Object.fromEntries(kept)));
  } catch {
    // Storage full or denied: the sidebar just forgets.
  }
}

/** Records that `room` is open and read up to `seq`; returns the visited rooms with it. */
export function markRead(room: string, seq: number | undefined): Record<string, Visited> {
  const rooms = load();
  // Private rooms and DMs are listed from the server (room-access.ts), under their titles, not here.
  if (isPrivateRoom(room)) return rooms;
  const previous = rooms[room];
  rooms[room] = { read: Math.max(previous?.read ?? 0, seq ?? 0), at: Date.now() };
  save(rooms);
  return rooms;
}

/**
 * Takes in the account's markers from the server (read on another device): a room listed there is listed
 * here, read as far as the furthest of the two. Returns the visited rooms with them.
 */
function mergeServerMarkers(markers: readonly RoomRead[]): Record<string, Visited> {
  const rooms = load();
  const now = Date.now();
  // The server lists the most recently read first: keep that order among the rooms new to this browser.
  markers.forEach(({ room, seq }, index) => {
    if (!isRoomName(room)) return;
    const previous = rooms[room];
    rooms[room] = { read: Math.max(previous?.read ?? 0, seq), at: previous?.at ?? now - index };
  });
  save(rooms);
  return rooms;
}

/** Takes `room` off the visited rooms; returns those left. */
function forget(room: string): Record<string, Visited> {
  const rooms = load();
  delete rooms[room];
  save(rooms);
  return rooms;
}

/** How long a moved read marker waits before it is sent, so that reading a busy room sends one a second, not one a message. */
const SEND_MARKER_AFTER_MS = 1000;

/** The read markers of an account waiting to be sent, by room: the latest seq read and its epoch. */
const unsentMarkers = new Map<string, { seq: number; epoch: string }>();
let markerTimer: ReturnType<typeof setTimeout> | undefined;

/** Sends the waiting markers; one that fails waits for the next (markers only move forward, so none is lost). */
function sendMarkers(keepalive = false): void {
  clearTimeout(markerTimer);
  markerTimer = undefined;
  for (const [room, { seq, epoch }] of unsentMarkers) {
    unsentMarkers.delete(room);
    sendReadMarker(room, seq, epoch, keepalive).catch(() => {
      const newer = unsentMarkers.get(room);
      if (!newer || newer.seq < seq) unsentMarkers.set(room, { seq, epoch });
    });
  }
}

function queueMarker(room: string, seq: number, epoch: string): void {
  const waiting = unsentMarkers.get(room);
  if (waiting && waiting.epoch === epoch && waiting.seq >= seq) return;
  unsentMarkers.set(room, { seq, epoch });
  markerTimer ??= setTimeout(() => sendMarkers(), SEND_MARKER_AFTER_MS);
}

// A page closed within the second still leaves its marker behind.
if (typeof addEventListener === 'function') addEventListener('pagehide', () => sendMarkers(true));

export interface RoomEntry {
  name: string;
  /** Messages past the last one read; 0 for the open room. */
  unread: number;
  /** Of those, the ones that mention the user (among the newest MENTIONS_READ). */
  mentions: number;
  /** Whether the user may take it off the list (every room but the default one). */
  removable: boolean;
}

export interface RoomList {
  rooms: RoomEntry[];
  /** Takes a room off the list (the open one stays listed while it is open). */
  remove(room: string): void;
  /**
   * Where the person had stopped reading the open room when it opened (from this browser, or for an account
   * from any device): the "new messages" line goes after it. Undefined until known, and for a room never read.
   */
  readWhenOpened: number | undefined;
  /** Where the room's connection hands what the server pushes for the sidebar's counts. */
  pushes: Pick<SidebarPushes, 'heads' | 'read'>;
  /** Unread messages and mentions in each of the account's private rooms and DMs (listed apart: PrivateRooms). */
  privateUnread: Record<string, Unread>;
  /** How far each room other than the open one has gone, as last looked at (for notifications). */
  heads: Readonly<Record<string, RoomHead>>;
}

/** What a sidebar entry counts: messages past the last read, and of those the ones that mention the user. */
export interface Unread {
  unread: number;
  mentions: number;
}

/**
 * The visited rooms (the open one and the default room always among them), with unread counts for the
 * others, refreshed every few seconds while the page is visible. The open room is marked read up to
 * `currentSeq` while the page is visible (in `epoch` of its log), also on the server for an account.
 */
export function useRoomList(
  current: string,
  currentSeq: number | undefined,
  epoch: string | undefined,
  me: string,
  account: boolean,
  /** Asks the room's connection to push the heads of these rooms. */
  watch: (rooms: readonly string[]) => void,
  /** The connection is a WebSocket: heads and read markers are pushed. */
  pushed: boolean,
  /** The account's private rooms and DMs: counted too; their markers live on the server only. */
  privateRooms: readonly string[] = [],
): RoomList {
  const [heads, setHeads] = useState<Record<string, RoomHead>>({});
  // Read from storage when the open room moves on, not on every render.
  const [visited, setVisited] = useState(load);
  /** An account's markers have come from the server once (or could not): the open room's is known. */
  const [markersIn, setMarkersIn] = useState(!account);
  const [readWhenOpened, setReadWhenOpened] = useState<{ room: string; seq: number | undefined }>();
  const opened = readWhenOpened?.room === current;
  /** How far the account read each private room (from the server's markers, and as it reads here). */
  const [privateRead, setPrivateRead] = useState<Record<string, number>>({});
  const privateReadRef = useRef(privateRead);
  privateReadRef.current = privateRead;
  const readOf = (name: string) => (isPrivateRoom(name) ? privateReadRef.current[name] : load()[name]?.read);
  /** Takes in markers from the server: public ones into this browser's list, private ones beside it. */
  const takeMarkers = (markers: readonly RoomRead[]) => {
    setVisited(mergeServerMarkers(markers));
    const own = markers.filter(({ room }) => isPrivateRoom(room));
    if (own.length > 0) setPrivateRead((before) => ({ ...before, ...Object.fromEntries(own.map(({ room, seq }) => [room, Math.max(before[room] ?? 0, seq)])) }));
  };

  // Where the room stood when it opened, taken before this visit marks anything read.
  useEffect(() => {
    if (markersIn && !opened) setReadWhenOpened({ room: current, seq: readOf(current) });
  }, [current, markersIn, opened]);

  // Read is what the person has seen: marked while the page is visible, and when it becomes visible again.
  const latest = useRef({ current, currentSeq, epoch });
  latest.current = { current, currentSeq, epoch };
  useEffect(() => {
    if (!opened) return;
    const mark = () => {
      const { current: room, currentSeq: seq, epoch: logEpoch } = latest.current;
      if (document.visibilityState === 'hidden') return;
      if (isPrivateRoom(room) && seq !== undefined) takeMarkers([{ room, seq }]);
      else setVisited(markRead(room, seq));
      if (account && seq !== undefined && logEpoch !== undefined) queueMarker(room, seq, logEpoch);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [opened, current, currentSeq, epoch, account]);

  /** What the last look found per room, so that a room that has not moved is not read again. */
  const known = useRef<Record<string, RoomHead>>({});
  /** Reads `name`'s head again (at `seq` when a push said where it is) and shows it. */
  const lookAt = async (name: string, seq?: number) => {
    const head = await readHead(name, readOf(name) ?? 0, me, known.current[name], fetchHistory, seq);
    if (!head) return;
    known.current = { ...known.current, [name]: head };
    setHeads(known.current);
  };
  const lookAtRef = useRef(lookAt);
  lookAtRef.current = lookAt;

  // Over a WebSocket the server pushes what moves (the `watch`ed rooms' heads, the account's read markers),
  // and the page looks again only now and then; over long-poll it looks every REFRESH_MS.
  useEffect(() => {
    let stopped = false;
    const refresh = async () => {
      if (document.visibilityState === 'hidden') return;
      if (account) {
        const answer = await fetchReadMarkers().catch(() => undefined);
        if (stopped) return;
        if (answer) takeMarkers(answer.markers);
        setMarkersIn(true);
      }
      const others = [...Object.keys(load()), ...privateRoomsRef.current].filter((name) => name !== current);
      await Promise.all(others.map((name) => lookAtRef.current(name)));
    };
    void refresh();
    const timer = setInterval(() => void refresh(), pushed ? PUSHED_REFRESH_MS : REFRESH_MS);
    const onVisible = () => void refresh();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [current, me, account, pushed]);

  const privateRoomsRef = useRef(privateRooms);
  privateRoomsRef.current = privateRooms;
  const privateKey = [...privateRooms].sort().join(' ');
  // A private room just listed (a new DM, an invitation) is looked at at once, not at the next refresh.
  useEffect(() => {
    for (const name of privateRoomsRef.current) if (name !== current && !known.current[name]) void lookAtRef.current(name);
  }, [privateKey, current]);

  const othersKey = [...new Set([DEFAULT_ROOM, ...Object.keys(visited), ...privateRooms])]
    .filter((name) => name !== current)
    .sort()
    .join(' ');
  const watchRef = useRef(watch);
  watchRef.current = watch;
  useEffect(() => watchRef.current(othersKey ? othersKey.split(' ') : []), [othersKey]);

  const pushes: Pick<SidebarPushes, 'heads' | 'read'> = {
    heads: (moved) => {
      for (const { room, seq } of moved) if (room !== current && known.current[room]?.seq !== seq) void lookAtRef.current(room, seq);
    },
    read: (read) => takeMarkers([read]),
  };

  const rooms = useMemo(() => {
    const names = new Set([DEFAULT_ROOM, ...(isPrivateRoom(current) ? [] : [current]), ...Object.keys(visited)]);
    return [...names]
      .sort((a, b) => a.localeCompare(b))
      .map((name) => {
        const head = heads[name];
        const read = visited[name]?.read ?? head?.seq ?? 0;
        const open = name === current || !head;
        return {
          name,
          unread: open ? 0 : unreadCount(head, read),
          mentions: open ? 0 : head.mentions.filter((seq) => seq > read).length,
          removable: name !== DEFAULT_ROOM,
        };
      });
  }, [current, visited, heads]);
  const remove = (room: string) => {
    setVisited(forget(room));
    unsentMarkers.delete(room);
    if (account) void forgetRead(room).catch(() => undefined);
  };
  const privateUnread = useMemo(() => {
    const counts: Record<string, Unread> = {};
    for (const name of privateRooms) {
      const head = heads[name];
      if (!head || name === current) continue;
      const read = privateRead[name] ?? 0;
      counts[name] = { unread: unreadCount(head, read), mentions: head.mentions.filter((seq) => seq > read).length };
    }
    return counts;
  }, [privateKey, current, heads, privateRead]);
  return { rooms, remove, readWhenOpened: opened ? readWhenOpened.seq : undefined, pushes, privateUnread, heads };
}

/**
 * How far a room has gone: its last seq, the seqs of the messages among the newest it read (from seq `from`
 * on; change entries, such as edits and reactions, are not messages), and of those that mention the user.
 */
export interface RoomHead {
  seq: number;
  from: number;
  messages: number[];
  mentions: number[];
  /** The newest unread message from someone else, and the newest that mentions the user: what a notification says. */
  newest?: Pick<ChatMessage, 'seq' | 'author' | 'text' | 'at'>;
  newestMention?: Pick<ChatMessage, 'seq' | 'author' | 'text' | 'at'>;
}

/** The messages after `read`: those counted among the newest read, and every entry before them, unseen. */
export function unreadCount(head: RoomHead, read: number): number {
  return head.messages.filter((seq) => seq > read).length + Math.max(0, head.from - 1 - read);
}

/**
 * The room's head, and its unread mentions of `me`: the newest message first, then, when there are unread
 * ones the last look did not read, the newest of them (at most MENTIONS_READ). Undefined when it cannot be read.
 */
export async function readHead(
  room: string,
  read: number,
  me: string,
  before: RoomHead | undefined,
  history: typeof fetchHistory = fetchHistory,
  /** Where a push said the room's head is: then the newest message is not read to learn it. */
  pushedSeq?: number,
): Promise<RoomHead | undefined> {
  const newest = pushedSeq === undefined ? await history(room, undefined, 1).catch(() => undefined) : undefined;
  if (pushedSeq === undefined && !newest) return undefined;
  const seq = pushedSeq ?? newest?.messages.at(-1)?.seq ?? 0;
  if (seq <= read) return { seq, from: seq + 1, messages: [], mentions: [] };
  if (before?.seq === seq) return before;
  const unread = await history(room, undefined, Math.min(seq - read, MENTIONS_READ)).catch(() => undefined);
  // A deleted message is not news either: it shows as "message deleted".
  const messages = (unread?.messages ?? []).filter((message) => message.seq > read && !message.change && !message.deleted);
  const fromOthers = messages.filter((message) => message.author !== me);
  const mentioning = fromOthers.filter((message) => mentions(message.text, me));
  const brief = (message: ChatMessage | undefined) => message && { seq: message.seq, author: message.author, text: message.text, at: message.at };
  const latest = brief(fromOthers.at(-1));
  const newestMention = brief(mentioning.at(-1));
  return {
    seq,
    from: unread?.messages[0]?.seq ?? seq + 1,
    messages: messages.map((message) => message.seq),
    mentions: mentioning.map((message) => message.seq),
    ...(latest ? { newest: latest } : {}),
    ...(newestMention ? { newestMention } : {}),
  };
}
