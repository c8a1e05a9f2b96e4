// One room for a Preact component: the LiveRoom (log, outbox, connection) of the room, re-rendering the
// component whenever what it shows changes.
import { useEffect, useMemo, useReducer, useRef } from 'preact/hooks';
import type { ChatMessage, FileAttachment, PeopleState, RoomHead, RoomRead } from '../../server/protocol';
import type { ConnectionState, RoomClosedReason } from './connection';
import { LiveRoom } from './live-room';
import { Outbox, type OutgoingMessage } from './outbox';

export interface RoomModel {
  messages: readonly ChatMessage[];
  /** This room's messages not yet acknowledged, oldest first. */
  outgoing: OutgoingMessage[];
  hasOlder: boolean;
  loaded: boolean;
  connection: ConnectionState;
  loadingOlder: boolean;
  /** Who is in the room now, and who of them is typing; undefined until the server has said. */
  people: PeopleState | undefined;
  /** The last seq the room's stream delivered. */
  lastSeq: number | undefined;
  /** The epoch of the room's log (undefined until the first page). */
  epoch: string | undefined;
  /** Sends text, files uploaded for it, or both. */
  send(text: string, files?: FileAttachment[]): void;
  /** The user typed something: tells the room, at most every few seconds. */
  typing(): void;
  retry(clientId: string): void;
  discard(clientId: string): void;
  loadOlder(): Promise<void>;
  /** Asks for the heads of these other rooms to be pushed (over WebSocket) to `pushed`. */
  watch(rooms: readonly string[]): void;
}

/** What the server pushes for the sidebar, over the room's WebSocket. */
export interface SidebarPushes {
  heads(heads: RoomHead[]): void;
  read(read: RoomRead): void;
}

export function useRoom(
  room: string,
  nick: string,
  onSessionLost: () => void,
  pushes?: SidebarPushes,
  onRoomClosed: (reason: RoomClosedReason) => void = () => undefined,
): RoomModel {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const sessionLost = useRef(onSessionLost);
  sessionLost.current = onSessionLost;
  const pushed = useRef(pushes);
  pushed.current = pushes;
  const roomClosed = useRef(onRoomClosed);
  roomClosed.current = onRoomClosed;
  const live = useMemo(
    () =>
      new LiveRoom(room, nick, new Outbox(), {
        changed: () => rerender(0),
        sessionLost: () => sessionLost.current(),
        roomClosed: (reason) => roomClosed.current(reason),
        heads: (heads) => pushed.current?.heads(heads),
        read: (read) => pushed.current?.read(read),
      }),
    [room, nick],
  );

  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);

  return {
    messages: live.messages,
    outgoing: live.outgoing,
    hasOlder: live.hasOlder,
    loaded: live.loaded,
    connection: live.state,
    loadingOlder: live.loadingOlder,
    people: live.people,
    lastSeq: live.cursor,
    epoch: live.epoch,
    send: (text, files) => void live.send(text, files),
    typing: () => live.typing(),
    retry: (clientId) => live.retry(clientId),
    discard: (clientId) => live.discard(clientId),
    loadOlder: () => live.loadOlder(),
    watch: (rooms) => live.watch(rooms),
  };
}
