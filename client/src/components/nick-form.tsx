// The first screen: choose the name others will see next to your messages. Opened again from the room
// to change it, it can be cancelled (button or Escape), back to the room with the nickname you had.
import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_NICK_LENGTH, type SessionResponse } from '../../../server/protocol';
import { ApiFailure, createSession } from '../api';
import { useFocusOnMount } from '../focus';

interface Props {
  room: string;
  onJoined: (session: SessionResponse) => void;
  /** Back to the room without changing anything; absent when there is no nickname to go back to. */
  onCancel?: (() => void) | undefined;
}

export function NickForm({ room, onJoined, onCancel }: Props) {
  const [nick, setNick] = useState(() => localStorage.getItem('parley.nick') ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useFocusOnMount(input);

  useEffect(() => {
    if (!onCancel) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onCancel();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onCancel]);

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
          {onCancel ? 'Pick a new nickname for' : 'Pick a nickname to join'} <strong>#{room}</strong>.
        </p>
        <label for="nick">Nickname</label>
        <input
          ref={input}
          id="nick"
          name="nick"
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
        <div class="form-actions">
          {onCancel && (
            <button type="button" class="secondary" onClick={onCancel}>
              Cancel
            </button>
          )}
          <button type="submit" disabled={busy || nick.trim().length === 0}>
            {onCancel ? 'Save' : 'Join chat'}
          </button>
        </div>
      </form>
    </main>
  );
}

/** The server's words as a sentence on the page: "a nickname uses …" becomes "A nickname uses ….". */
function asSentence(message: string): string {
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
