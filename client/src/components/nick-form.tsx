// The first screen: choose the name others will see next to your messages.
import { useState } from 'preact/hooks';
import { MAX_NICK_LENGTH, type SessionResponse } from '../../../server/protocol';
import { ApiFailure, createSession } from '../api';

export function NickForm({ room, onJoined }: { room: string; onJoined: (session: SessionResponse) => void }) {
  const [nick, setNick] = useState(() => localStorage.getItem('parley.nick') ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onJoined(await createSession(nick.trim()));
    } catch (failure) {
      setError(failure instanceof ApiFailure ? asSentence(failure.message) : 'Something went wrong; try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="welcome">
      <form class="card" onSubmit={submit}>
        <h1>Parley</h1>
        <p>
          Pick a nickname to join <strong>#{room}</strong>.
        </p>
        <label for="nick">Nickname</label>
        <input
          id="nick"
          name="nick"
          autoFocus
          autoComplete="nickname"
          maxLength={MAX_NICK_LENGTH}
          value={nick}
          onInput={(e) => setNick(e.currentTarget.value)}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={error ? 'nick-error' : undefined}
        />
        {error && (
          <p id="nick-error" class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || nick.trim().length === 0}>
          Join chat
        </button>
      </form>
    </main>
  );
}

/** The server's words as a sentence on the page: "a nickname uses …" becomes "A nickname uses ….". */
function asSentence(message: string): string {
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
