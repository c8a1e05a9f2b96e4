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
  /** Sends a message: text, files uploaded for it, or both; a reply to `replyTo` when given. */
  send(text: string, extras?: { replyTo?: number | undefined; files?: FileAttachment[] | undefined }): void;
  edit(target: number, text: string): void;
  /** Deletes a message (ours; anyone's for a moderator). */
  remove(target: number): void;
  react(target: number, emoji: string, on: boolean): void;
  /** The message `seq` as shown, if loaded. */
  message(seq: number): ChatMessage | undefined;
  /** The message `seq` from the server, for a reply's quote when it is not loaded. */
  fetchMessage(seq: number): Promise<ChatMessage | undefined>;
  /** Loads older pages until `seq` is loaded (bounded); whether it is. */
  reveal(seq: number): Promise<boolean>;
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
  /** The account joined a private room or a DM. */
  roomsChanged(): void;
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
        roomsChanged: () => pushed.current?.roomsChanged(),
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
    send: (text, extras) => void live.send(text, extras),
    edit: (target, text) => void live.edit(target, text),
    remove: (target) => void live.remove(target),
    react: (target, emoji, on) => void live.react(target, emoji, on),
    message: (seq) => live.message(seq),
    fetchMessage: (seq) => live.fetchMessage(seq),
    reveal: (seq) => live.reveal(seq),
    typing: () => live.typing(),
    retry: (clientId) => live.retry(clientId),
    discard: (clientId) => live.discard(clientId),
    loadOlder: () => live.loadOlder(),
    watch: (rooms) => live.watch(rooms),
  };
}
