// The rooms this browser has visited, for the sidebar: each with the last seq read in it, kept in
// localStorage, and how many messages it has beyond that, and how many of those mention the user (asked
// from the server now and then). The user can take a room off the list; the default room is always on it.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { DEFAULT_ROOM, isPrivateRoom } from '../../server/protocol';
import { fetchHistory } from './api';
import { mentions } from './mentions';
import { isRoomName } from './routes';

const ROOMS_KEY = 'parley.rooms';
/** How often the sidebar asks how far the other rooms have gone. */
const REFRESH_MS = 10_000;
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
  const previous = rooms[room];
  rooms[room] = { read: Math.max(previous?.read ?? 0, seq ?? 0), at: Date.now() };
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
}

/**
 * The visited rooms (the open one and the default room always among them), with unread counts for the
 * others, refreshed every few seconds while the page is visible.
 */
export function useRoomList(current: string, currentSeq: number | undefined, me: string): RoomList {
  const [heads, setHeads] = useState<Record<string, RoomHead>>({});
  // Read from storage when the open room moves on, not on every render.
  const [visited, setVisited] = useState(load);

  // Private rooms and DMs are listed from the server (private-rooms.ts), not kept here.
  useEffect(() => setVisited(isPrivateRoom(current) ? load() : markRead(current, currentSeq)), [current, currentSeq]);

  useEffect(() => {
    let stopped = false;
    /** What the last refresh found, so that a room that has not moved is not read again. */
    let known: Record<string, RoomHead> = {};
    const refresh = async () => {
      if (document.visibilityState === 'hidden') return;
      const rooms = load();
      const others = Object.keys(rooms).filter((name) => name !== current);
      const found: Record<string, RoomHead> = {};
      await Promise.all(
        others.map(async (name) => {
          const head = await readHead(name, rooms[name]?.read ?? 0, me, known[name]);
          if (head) found[name] = head;
        }),
      );
      if (stopped) return;
      known = found;
      setHeads(found);
    };
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    const onVisible = () => void refresh();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [current, me]);

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
          unread: open ? 0 : Math.max(0, head.seq - read),
          mentions: open ? 0 : head.mentions.filter((seq) => seq > read).length,
          removable: name !== DEFAULT_ROOM,
        };
      });
  }, [current, visited, heads]);
  return { rooms, remove: (room) => setVisited(forget(room)) };
}

/** How far a room has gone: its last seq, and the seqs of the unread messages among the newest that mention the user. */
interface RoomHead {
  seq: number;
  mentions: number[];
}

/**
 * The room's head, and its unread mentions of `me`: the newest message first, then, when there are unread
 * ones the last look did not read, the newest of them (at most MENTIONS_READ). Undefined when it cannot be read.
 */
async function readHead(room: string, read: number, me: string, before: RoomHead | undefined): Promise<RoomHead | undefined> {
  const newest = await fetchHistory(room, undefined, 1).catch(() => undefined);
  if (!newest) return undefined;
  const seq = newest.messages.at(-1)?.seq ?? 0;
  if (seq <= read) return { seq, mentions: [] };
  if (before?.seq === seq) return before;
  const unread = await fetchHistory(room, undefined, Math.min(seq - read, MENTIONS_READ)).catch(() => undefined);
  const mentioning = (unread?.messages ?? []).filter((message) => message.seq > read && message.author !== me && mentions(message.text, me));
  return { seq, mentions: mentioning.map((message) => message.seq) };
}
