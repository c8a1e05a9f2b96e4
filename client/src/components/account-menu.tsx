// Who you are, under the button in the header: a guest can change nickname; an account sees where it is
// signed in (this browser, a phone, ...) and can end any of those sessions; both can sign out. Escape or a
// click outside closes it.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionResponse, SessionSummary } from '../../../server/protocol';
import { ApiFailure, listSessions, revokeSession, signOut } from '../api';
import { useEscape } from '../focus';

interface Props {
  session: SessionResponse;
  onChangeNick: () => void;
  onSignedOut: () => void;
  onClose: () => void;
}

export function AccountMenu({ session, onChangeNick, onSignedOut, onClose }: Props) {
  const panel = useRef<HTMLDivElement>(null);
  const [sessions, setSessions] = useState<SessionSummary[]>();
  const [problem, setProblem] = useState<string>();

  const load = () => {
    listSessions().then(
      (answer) => setSessions(answer.sessions),
      (failure: unknown) => setProblem(failure instanceof ApiFailure ? failure.message : 'could not load your sessions'),
    );
  };
  useEffect(() => {
    if (!session.guest) load();
  }, [session.guest]);

  useEscape(onClose);
  useEffect(() => {
    panel.current?.querySelector<HTMLElement>('button')?.focus();
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node | null;
      if (target && !panel.current?.contains(target) && !(target instanceof Element && target.closest('.me'))) onClose();
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [onClose]);

  const end = async (id: string) => {
    setProblem(undefined);
    try {
      await revokeSession(id);
      load();
    } catch (failure) {
      setProblem(failure instanceof ApiFailure ? failure.message : 'could not end that session');
    }
  };

  const leave = async () => {
    try {
      await signOut();
    } finally {
      onSignedOut();
    }
  };

  return (
    <div ref={panel} id="account-menu" class="account-menu" role="dialog" aria-label="Your account">
      <p class="account-who">
        <strong>{session.nick}</strong> <span class={session.guest ? 'tag guest-tag' : 'tag account-tag'}>{session.guest ? 'guest' : 'account'}</span>
      </p>
      {session.guest ? (
        <>
          <p class="account-note">Guests keep their nickname only while signed in here.</p>
          <button type="button" class="secondary" onClick={onChangeNick}>
            Change nickname
          </button>
        </>
      ) : (
        <section aria-labelledby="sessions-heading">
          <h2 id="sessions-heading">Signed in on</h2>
          {sessions === undefined && !problem && <p class="account-note">Loading…</p>}
          <ul class="session-list">
            {sessions?.map((entry) => (
              <li key={entry.id} data-current={entry.current ? 'true' : undefined}>
                <span class="session-what">
                  {browserOf(entry.agent)}
                  {entry.current && <span class="you"> (this browser)</span>}
                </span>
                <span class="session-when">
                  signed in {when(entry.createdAt)} · active {when(entry.lastSeenAt)}
                </span>
                {!entry.current && (
                  <button type="button" class="secondary session-end" onClick={() => void end(entry.id)} aria-label={`End the session on ${browserOf(entry.agent)}`}>
                    End
                  </button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      {problem && (
        <p class="form-error" role="alert">
          {problem}
        </p>
      )}
      <button type="button" onClick={() => void leave()}>
        Sign out
      </button>
    </div>
  );
}

/** "Firefox on Linux", from a User-Agent; "Unknown browser" without one. */
function browserOf(agent: string): string {
  const browser = /Edg\//.test(agent)
    ? 'Edge'
    : /Firefox\//.test(agent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(agent)
        ? 'Chrome'
        : /Safari\//.test(agent)
          ? 'Safari'
          : undefined;
  const system = /Android/.test(agent)
    ? 'Android'
    : /iPhone|iPad/.test(agent)
      ? 'iOS'
      : /Windows/.test(agent)
        ? 'Windows'
        : /Mac OS X/.test(agent)
          ? 'macOS'
          : /Linux/.test(agent)
            ? 'Linux'
            : undefined;
  if (!browser) return agent ? agent.slice(0, 40) : 'Unknown browser';
  return system ? `${browser} on ${system}` : browser;
}

/** "just now", "5 min ago", "3 h ago", or the date. */
function when(at: number): string {
  const minutes = Math.round((Date.now() - at) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  return new Date(at).toLocaleDateString();
}
