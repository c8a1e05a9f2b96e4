// The page: the room named by the URL (after signing in, or picking a guest nickname, once), or why the
// URL names no room.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { SessionResponse } from '../../server/protocol';
import { createSession, getSession } from './api';
import { ChatRoom } from './components/chat-room';
import { NickForm } from './components/nick-form';
import { NotARoom } from './components/not-a-room';
import { RoomGone } from './components/room-gone';
import type { RoomClosedReason } from './connection';
import { useRoute } from './use-route';

/** A guest's nickname, so that a guest the server forgot (its data was reset) comes back under it. */
const NICK_KEY = 'parley.nick';

export function App() {
  const [session, setSession] = useState<SessionResponse | null | undefined>(undefined);
  const [guestsAllowed, setGuestsAllowed] = useState(true);
  const { route, goToRoom } = useRoute();
  const [problem, setProblem] = useState<string>();
  /** The guest asked to change the nickname: the form shows, and Cancel goes back to the room. */
  const [changingNick, setChangingNick] = useState(false);
  /** A search result in another room: that room opens at it. */
  const [openAt, setOpenAt] = useState<{ room: string; seq: number }>();
  /** The room the server says cannot be read, and why: its page replaces the room's view. */
  const [closed, setClosed] = useState<{ room: string; reason: RoomClosedReason }>();

  const restoreSession = useCallback(async () => {
    try {
      const answer = await getSession();
      let current: SessionResponse | undefined = answer.nick === null ? undefined : answer;
      if (answer.nick === null) setGuestsAllowed(answer.guestsAllowed);
      // The server forgot this guest (its data was reset): come back under the nickname this browser used.
      const remembered = localStorage.getItem(NICK_KEY);
      if (!current && remembered && answer.nick === null && answer.guestsAllowed) current = await createSession(remembered).catch(() => undefined);
      setSession(current ?? null);
      setProblem(undefined);
    } catch {
      setProblem('Cannot reach the server. Retrying…');
      setTimeout(() => void restoreSession(), 2000);
    }
  }, []);

  useEffect(() => void restoreSession(), [restoreSession]);

  // Going elsewhere forgets the closed room: its address may be readable again later (invited back).
  const openRoom = route.kind === 'room' ? route.room : undefined;
  useEffect(() => {
    if (closed && openRoom !== closed.room) setClosed(undefined);
  }, [openRoom, closed]);

  const joined = (next: SessionResponse) => {
    if (next.guest) localStorage.setItem(NICK_KEY, next.nick);
    else localStorage.removeItem(NICK_KEY);
    setSession(next);
    setChangingNick(false);
  };

  /** Signed out here, or this session ended elsewhere: back to the first screen, as nobody. */
  const signedOut = () => {
    localStorage.removeItem(NICK_KEY);
    setSession(undefined);
    void restoreSession();
  };

  if (route.kind === 'not-a-room') {
    // Leaving a dead end replaces it in the history: Back goes to where the bad link was, not to it again.
    return (
      <NotARoom name={route.name} problem={route.problem} suggestion={route.suggestion} onGo={(room) => goToRoom(room, { replace: true })} />
    );
  }
  const { room } = route;
  if (closed?.room === room) return <RoomGone reason={closed.reason} onGo={(next) => goToRoom(next, { replace: true })} />;
  if (session === undefined) {
    return <div class="splash">{problem ?? 'Loading…'}</div>;
  }
  if (session === null || changingNick) {
    return (
      <NickForm
        room={room}
        onJoined={joined}
        guestsAllowed={guestsAllowed}
        onCancel={session ? () => setChangingNick(false) : undefined}
      />
    );
  }
  return (
    <ChatRoom
      key={`${room}:${session.nick}`}
      room={room}
      session={session}
      onRoomChange={(next) => {
        setOpenAt(undefined);
        goToRoom(next);
      }}
      onChangeNick={() => setChangingNick(true)}
      onSignedOut={signedOut}
      onSessionLost={() => void restoreSession()}
      openAt={openAt?.room === room ? openAt.seq : undefined}
      onOpenAt={(next, seq) => {
        setOpenAt({ room: next, seq });
        goToRoom(next);
      }}
      onRoomClosed={(reason) => setClosed({ room, reason })}
    />
  );
}
