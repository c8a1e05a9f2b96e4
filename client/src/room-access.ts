// What the page knows of the open room's standing and of the person's private rooms: the room's title, your
// role and mute (GET /api/rooms/:room: the one place the room view reads whether you moderate, so that the
// message list can offer a moderator's actions), its members, and the private rooms and DMs for the sidebar.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { RoomInfo, RoomMember, RoomSummary } from '../../server/protocol';
import { ApiFailure, listMembers, listRooms, roomInfo } from './api';

/** How often the sidebar's private rooms, and the open room's standing, are asked again. */
const REFRESH_MS = 15_000;

export interface RoomAccessState {
  /** Undefined until the server answered. */
  info: RoomInfo | undefined;
  /** The room's members (private), or its people with a role, mute or ban (public). */
  members: RoomMember[];
  /** Ask again now (after a moderator's action, an invitation). */
  refresh: () => void;
}

/** The open room's standing and members, asked when it opens, every REFRESH_MS, and on `refresh`. */
export function useRoomAccess(room: string, nick: string): RoomAccessState {
  const [info, setInfo] = useState<RoomInfo>();
  const [members, setMembers] = useState<RoomMember[]>([]);
  const [asked, ask] = useState(0);
  const refresh = useCallback(() => ask((n) => n + 1), []);

  useEffect(() => {
    setInfo(undefined);
    setMembers([]);
  }, [room, nick]);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const answer = await roomInfo(room);
        if (stopped) return;
        setInfo(answer);
        const listed = await listMembers(room);
        if (!stopped) setMembers(listed.members);
      } catch (error) {
        // A room that cannot be read is the connection's to report (it leaves the room view); others retry.
        if (!(error instanceof ApiFailure)) throw error;
      }
    };
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [room, nick, asked]);

  return { info, members, refresh };
}

export interface PrivateRoomList {
  rooms: RoomSummary[];
  refresh: () => void;
  /** Takes a room off the list at once (left, removed, banned), before the server is asked again. */
  drop: (room: string) => void;
}

/** The person's private rooms and DMs (none for a guest), asked now, every REFRESH_MS, and on `refresh`. */
export function usePrivateRooms(guest: boolean, nick: string): PrivateRoomList {
  const [rooms, setRooms] = useState<RoomSummary[]>([]);
  const [asked, ask] = useState(0);
  const refresh = useCallback(() => ask((n) => n + 1), []);
  useEffect(() => {
    if (guest) {
      setRooms([]);
      return;
    }
    let stopped = false;
    const load = () => listRooms().then((answer) => !stopped && setRooms(answer.rooms), () => undefined);
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [guest, nick, asked]);
  const drop = useCallback((room: string) => setRooms((list) => list.filter((entry) => entry.room !== room)), []);
  return { rooms, refresh, drop };
}
