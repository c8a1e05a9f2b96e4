// The room is in the URL: /r/<room>, and / is the default room. A name in the URL that is not a room name is
// either a room's name spelled loosely (/r/Dev), shown as that room under its own URL, or no room at all
// (/r/has%20space), which gets a page that says so.
import { DEFAULT_ROOM, MAX_ROOM_LENGTH, ROOM_PATTERN } from '../../server/protocol';

/**
 * What the address bar names: a room with its canonical path, or a name that cannot be a room, with why
 * (only its length, or its characters) and the room the join field would make of it.
 */
export type Route =
  | { kind: 'room'; room: string; path: string }
  | { kind: 'not-a-room'; name: string; problem: 'too-long' | 'characters'; suggestion: string | undefined };

export function routeForPath(pathname: string): Route {
  const segment = /^\/r\/(.+?)\/?$/.exec(pathname)?.[1];
  if (segment === undefined) return roomRoute(DEFAULT_ROOM);
  const name = decodeSegment(segment);
  // Differences nobody would mean as another room: letter case, full-width forms (ｄｅｖ), spaces around it.
  const loose = name.normalize('NFKC').trim().toLowerCase();
  if (isRoomName(loose)) return roomRoute(loose);
  const problem = ROOM_PATTERN.test(loose) ? 'too-long' : 'characters';
  return { kind: 'not-a-room', name, problem, suggestion: toRoomName(name) };
}

export function pathForRoom(room: string): string {
  return room === DEFAULT_ROOM ? '/' : `/r/${encodeURIComponent(room)}`;
}

export function isRoomName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_ROOM_LENGTH && ROOM_PATTERN.test(name);
}

/** Turns what a user typed ("Team Chat!") into a room name ("team-chat"), or undefined if nothing is left. */
export function toRoomName(typed: string): string | undefined {
  const name = typed
    .trim()
    .toLowerCase()
    .replace(/^#/, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, MAX_ROOM_LENGTH);
  return isRoomName(name) ? name : undefined;
}

/** A plain click on a link: the page handles it; a middle or modified click opens a tab as links do. */
export function opensInPlace(event: MouseEvent): boolean {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

function roomRoute(room: string): Route {
  return { kind: 'room', room, path: pathForRoom(room) };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A broken escape (%E0%A4) is shown as it was typed.
    return segment;
  }
}
