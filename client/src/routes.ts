// The room is in the URL: /r/<room>, and / is the default room.
import { DEFAULT_ROOM, MAX_ROOM_LENGTH, ROOM_PATTERN } from '../../server/protocol';

export function roomFromPath(pathname: string): string {
  const match = /^\/r\/([^/]+)\/?$/.exec(pathname);
  const room = match?.[1] ? decodeURIComponent(match[1]).toLowerCase() : DEFAULT_ROOM;
  return isRoomName(room) ? room : DEFAULT_ROOM;
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
