// One room as the page sees it: its log, the outbox of messages on their way, the connection state,
// and the actions the user can take (send, retry, load older messages).
import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { ChatMessage, PeopleState } from '../../server/protocol';
import { ApiFailure, fetchHistory } from './api';
import { RoomConnection, type ConnectionState } from './connection';
import { newClientId, Outbox, type OutgoingMessage } from './outbox';
import { RoomView } from './room-view';

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
  /** The last seq the page holds. */
  lastSeq: number | undefined;
  send(text: string): void;
  /** The user typed something: tells the room, at most every few seconds. */
  typing(): void;
  retry(clientId: string): void;
  discard(clientId: string): void;
  loadOlder(): Promise<void>;
}

/** While the user types, the room hears "typing" at most this often (the server keeps it for 6 s). */
const TYPING_SIGNAL_MS = 3000;

export function useRoom(room: string, nick: string, onSessionLost: () => void): RoomModel {
  const view = useMemo(() => new RoomView(room), [room]);
  const outbox = useMemo(() => new Outbox(), []);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [people, setPeople] = useState<PeopleState | undefined>(undefined);
  const lastTypingSignal = useRef(0);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const connectionRef = useRef<RoomConnection | undefined>(undefined);
  const sessionLost = useRef(onSessionLost);
  sessionLost.current = onSessionLost;

  useEffect(() => {
    const conn = new RoomConnection(room, {
      position: () => ({ after: view.cursor, epoch: view.epoch }),
      snapshot: (messages, hasOlder, epoch) => {
        view.replace(messages, hasOlder, epoch);
        dropAcknowledged(outbox, messages);
        rerender(0);
      },
      messages: (messages) => {
        const added = view.merge(messages);
        if (added + dropAcknowledged(outbox, messages) > 0) rerender(0);
      },
      reset: () => {
        view.clear();
        rerender(0);
      },
      pendingSends: () => outbox.pending(room).map(({ clientId, text }) => ({ clientId, text })),
      acked: (clientId, message) => {
        outbox.remove(clientId);
        view.merge([message]);
        rerender(0);
      },
      refused: (clientId, error) => {
        outbox.fail(clientId, error);
        rerender(0);
      },
      unauthenticated: () => sessionLost.current(),
      state: setConnection,
      people: setPeople,
    });
    connectionRef.current = conn;
    conn.start();
    return () => conn.stop();
  }, [room, view, outbox]);

  return {
    messages: view.messages,
    outgoing: outbox.forRoom(room),
    hasOlder: view.hasOlder,
    loaded: view.cursor !== undefined,
    connection,
    loadingOlder,
    people,
    lastSeq: view.cursor,
    typing() {
      const now = Date.now();
      if (now - lastTypingSignal.current < TYPING_SIGNAL_MS) return;
      lastTypingSignal.current = now;
      connectionRef.current?.typing();
    },
    send(text: string) {
      lastTypingSignal.current = 0;
      outbox.add({ clientId: newClientId(), room, text, author: nick });
      rerender(0);
      connectionRef.current?.flush();
    },
    retry(clientId: string) {
      outbox.retry(clientId);
      rerender(0);
      connectionRef.current?.flush();
    },
    discard(clientId: string) {
      outbox.remove(clientId);
      rerender(0);
    },
    async loadOlder() {
      if (loadingOlder || !view.hasOlder) return;
      setLoadingOlder(true);
      try {
        const page = await fetchHistory(room, view.messages[0]?.seq);
        view.prepend(page.messages, page.hasOlder);
      } catch (error) {
        if (!(error instanceof ApiFailure)) throw error;
      } finally {
        setLoadingOlder(false);
      }
    },
  };
}

/** Messages the server delivered that are still in the outbox (their ack was lost) leave it now. */
function dropAcknowledged(outbox: Outbox, messages: readonly ChatMessage[]): number {
  let dropped = 0;
  for (const message of messages) if (outbox.remove(message.clientId)) dropped++;
  return dropped;
}
