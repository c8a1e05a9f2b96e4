// The page: pick a nickname once, then the room named by the URL.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { SessionResponse } from '../../server/protocol';
import { createSession, getSession } from './api';
import { ChatRoom } from './components/chat-room';
import { NickForm } from './components/nick-form';
import { pathForRoom, roomFromPath } from './routes';

const NICK_KEY = 'parley.nick';

export function App() {
  const [session, setSession] = useState<SessionResponse | null | undefined>(undefined);
  const [room, setRoom] = useState(() => roomFromPath(location.pathname));
  const [problem, setProblem] = useState<string>();
  /** The user asked to change the nickname: the form shows, and Cancel goes back to the room. */
  const [changingNick, setChangingNick] = useState(false);

  const restoreSession = useCallback(async () => {
    try {
      let current = await getSession();
      // The server forgot us (its data was reset): sign in again with the nickname this browser used.
      const remembered = localStorage.getItem(NICK_KEY);
      if (!current && remembered) current = await createSession(remembered).catch(() => undefined);
      setSession(current ?? null);
      setProblem(undefined);
    } catch {
      setProblem('Cannot reach the server. Retrying…');
      setTimeout(() => void restoreSession(), 2000);
    }
  }, []);

  useEffect(() => {
    void restoreSession();
    const onPop = () => setRoom(roomFromPath(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, [restoreSession]);

  const joined = (next: SessionResponse) => {
    localStorage.setItem(NICK_KEY, next.nick);
    setSession(next);
    setChangingNick(false);
  };

  const goToRoom = (next: string) => {
    if (next === room) return;
    history.pushState(null, '', pathForRoom(next));
    setRoom(next);
  };

  if (session === undefined) {
    return <div class="splash">{problem ?? 'Loading…'}</div>;
  }
  if (session === null || changingNick) {
    return <NickForm room={room} onJoined={joined} onCancel={session ? () => setChangingNick(false) : undefined} />;
  }
  return (
    <ChatRoom
      key={`${room}:${session.nick}`}
      room={room}
      session={session}
      onRoomChange={goToRoom}
      onChangeNick={() => setChangingNick(true)}
      onSessionLost={() => void restoreSession()}
    />
  );
}
