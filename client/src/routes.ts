// The room is in the URL: /r/<room>, and / is the default room. A name in the URL that is not a room name is
// either a room's name spelled loosely (/r/Dev), shown as that room under its own URL, or no room at all
// (/r/has%20space), which gets a page that says so. A private room or a DM is /r/~ and its id.
import { DEFAULT_ROOM, isPrivateRoom, MAX_ROOM_LENGTH, ROOM_PATTERN } from '../../server/protocol';

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
  // A private room's id (/r/~…) is exact: the server says whether it is there for you.
  if (isPrivateRoom(name)) return roomRoute(name);
  // Differences nobody would mean as another room: letter case, full-width forms (ｄｅｖ), spaces around it.
  const loose = name.normalize('NFKC').trim().toLowerCase();
  if (isRoomName(loose)) return roomRoute(loose);
  const problem = ROOM_PATTERN.test(loose) ? 'too-long' : 'characters';
  const typed = toRoomName(name);
  return { kind: 'not-a-room', name, problem, suggestion: typed.ok ? typed.name : undefined };
}

export function pathForRoom(room: string): string {
  return room === DEFAULT_ROOM ? '/' : `/r/${encodeURIComponent(room)}`;
}

export function isRoomName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_ROOM_LENGTH && ROOM_PATTERN.test(name);
}

/** What the join field makes of what a user typed: a room name, or why there is none. */
export type TypedRoomName = { ok: true; name: string } | { ok: false; error: string };

/**
 * Turns what a user typed into a room name: "Team Chat!" is #team-chat, "Ünïcode Räum" #unicode-raum. Letters
 * of scripts with no ASCII spelling ("Чат", "会議") are refused rather than guessed: see asciiSpelling.
 */
export function toRoomName(typed: string): TypedRoomName {
  const spelled = asciiSpelling(typed);
  const unspelled = typed.trim().split(/\s+/).filter((word) => HAS_NON_ASCII_LETTER.test(asciiSpelling(word)));
  if (unspelled.length > 0) {
    return { ok: false, error: `Room names are written with a-z, 0-9, - and _: type “${unspelled.join(' ')}” in Latin letters.` };
  }
  const name = spelled
    .replace(/[^a-z0-9_]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, MAX_ROOM_LENGTH)
    .replace(/-+$/, '');
  if (!isRoomName(name)) return { ok: false, error: 'A room name needs a letter or a digit (a-z, 0-9).' };
  return { ok: true, name };
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

/** Latin letters that Unicode does not decompose into a plain letter and marks, with their usual ASCII spelling. */
const LATIN_LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ħ: 'h',
  ı: 'i',
  ŧ: 't',
  ŋ: 'ng',
};
const LATIN_LETTER = new RegExp(`[${Object.keys(LATIN_LETTERS).join('')}]`, 'g');
const HAS_NON_ASCII_LETTER = /(?![a-z0-9])[\p{L}\p{N}]/u;

/**
 * Lower case, compatibility forms unfolded (ｆｕｌｌ, ﬁ), accents dropped (ü -> u), and the Latin letters of
 * LATIN_LETTERS spelled out. Other scripts stay as they are: their romanization depends on the language (会議
 * is "kaigi" in Japanese, "huiyi" in Chinese) and even a table without CJK weighs two thirds of this client, so
 * the user, who knows what their group calls the room, spells it.
 */
function asciiSpelling(typed: string): string {
  return typed
    .trim()
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(LATIN_LETTER, (letter) => LATIN_LETTERS[letter] ?? letter);
}
