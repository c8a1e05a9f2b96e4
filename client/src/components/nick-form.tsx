// The first screen: chat as a guest under a nickname, sign in, or sign up for an account whose name nobody
// else can take. Opened again from the room to change a guest's nickname, it can be cancelled (button or
// Escape), back to the room with the nickname you had.
import { useRef, useState } from 'preact/hooks';
import { MAX_NICK_LENGTH, type SessionResponse } from '../../../server/protocol';
import { ApiFailure, createSession, signIn, signUp } from '../api';
import { useEscape, useFocusOnMount } from '../focus';

type Mode = 'guest' | 'sign-in' | 'sign-up';

/** The username last signed in with in this browser (never the password). */
const ACCOUNT_KEY = 'parley.account';

interface Props {
  room: string;
  onJoined: (session: SessionResponse) => void;
  /** Whether this server lets visitors chat as guests (GUESTS). */
  guestsAllowed: boolean;
  /** Back to the room without changing anything; absent when there is no nickname to go back to. */
  onCancel?: (() => void) | undefined;
}

/** What went wrong, and which field it belongs to (undefined: the form as a whole). */
interface Problem {
  field: 'name' | 'password' | undefined;
  text: string;
}

export function NickForm({ room, onJoined, guestsAllowed, onCancel }: Props) {
  // Whoever signed in to an account in this browser before is offered to sign in again.
  const [username, setUsername] = useState(() => localStorage.getItem(ACCOUNT_KEY) ?? '');
  const [mode, setMode] = useState<Mode>(guestsAllowed && !username ? 'guest' : 'sign-in');
  const [nick, setNick] = useState(() => localStorage.getItem('parley.nick') ?? '');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<Problem>();
  const [busy, setBusy] = useState(false);

  useEscape(onCancel);

  const choose = (next: Mode) => {
    setMode(next);
    setProblem(undefined);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(undefined);
    try {
      if (mode === 'guest') {
        onJoined(await createSession(nick.trim()));
        return;
      }
      const session = mode === 'sign-in' ? await signIn(username, password) : await signUp(username, password);
      localStorage.setItem(ACCOUNT_KEY, session.nick);
      onJoined(session);
    } catch (failure) {
      setProblem(problemOf(failure));
    } finally {
      setBusy(false);
    }
  };

  const ready = mode === 'guest' ? nick.trim().length > 0 : username.trim().length > 0 && password.length > 0;
  const submitLabel = onCancel ? 'Save' : mode === 'guest' ? 'Join chat' : mode === 'sign-in' ? 'Sign in' : 'Sign up';
  return (
    <main class="welcome">
      <form class="card" onSubmit={submit} noValidate>
        <h1>Parley</h1>
        {!onCancel && (
          <div class="mode-tabs" role="tablist" aria-label="How to join">
            {guestsAllowed && <ModeTab mode="guest" current={mode} onChoose={choose} label="Guest" />}
            <ModeTab mode="sign-in" current={mode} onChoose={choose} label="Sign in" />
            <ModeTab mode="sign-up" current={mode} onChoose={choose} label="Sign up" />
          </div>
        )}
        {mode === 'guest' ? (
          <>
            <p>
              {onCancel ? 'Pick a new nickname for' : 'Pick a nickname to join'} <strong>#{room}</strong>.
            </p>
            <Field id="nick" label="Nickname" value={nick} onInput={setNick} autoComplete="nickname" first problem={problem?.field === 'name' ? problem.text : undefined} />
            <p class="hint">Guests are marked as guests. Sign up to keep your name.</p>
          </>
        ) : (
          <>
            <p>
              {mode === 'sign-in' ? 'Sign in to join' : 'Choose a username nobody else can take, and join'} <strong>#{room}</strong>.
            </p>
            <Field
              id="username"
              first
              label="Username"
              value={username}
              onInput={setUsername}
              autoComplete="username"
              problem={problem?.field === 'name' ? problem.text : undefined}
            />
            <Field
              id="password"
              label="Password"
              type="password"
              value={password}
              onInput={setPassword}
              autoComplete={mode === 'sign-in' ? 'current-password' : 'new-password'}
              problem={problem?.field === 'password' ? problem.text : undefined}
            />
            {mode === 'sign-up' && <p class="hint">At least 8 characters.</p>}
          </>
        )}
        {problem && problem.field === undefined && (
          <p id="form-error" class="form-error" role="alert">
            {problem.text}
          </p>
        )}
        <div class="form-actions">
          {onCancel && (
            <button type="button" class="secondary" onClick={onCancel}>
              Cancel
            </button>
          )}
          <button type="submit" disabled={busy || !ready}>
            {submitLabel}
          </button>
        </div>
      </form>
    </main>
  );
}

function ModeTab({ mode, current, onChoose, label }: { mode: Mode; current: Mode; onChoose: (mode: Mode) => void; label: string }) {
  return (
    <button type="button" role="tab" id={`tab-${mode}`} aria-selected={mode === current} class={mode === current ? 'current' : undefined} onClick={() => onChoose(mode)}>
      {label}
    </button>
  );
}

interface FieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  autoComplete: string;
  type?: 'text' | 'password';
  problem: string | undefined;
  /** The form's first field: it takes the keyboard when the form appears. */
  first?: boolean;
}

/** A ref to no element, for the fields that do not take the keyboard. */
const NOTHING = { current: null };

/** A labelled input with its error below it, tied to it for screen readers; the first one takes the keyboard. */
function Field({ id, label, value, onInput, autoComplete, type = 'text', problem, first = false }: FieldProps) {
  const input = useRef<HTMLInputElement>(null);
  useFocusOnMount(first ? input : NOTHING);
  const errorId = `${id}-error`;
  const common = {
    ref: input,
    id,
    name: id,
    autoComplete,
    value,
    onInput: (e: { currentTarget: HTMLInputElement }) => onInput(e.currentTarget.value),
    'aria-invalid': problem ? ('true' as const) : undefined,
    'aria-describedby': problem ? errorId : undefined,
  };
  return (
    <>
      <label for={id}>{label}</label>
      {type === 'password' ? <input type="password" {...common} /> : <input type="text" maxLength={MAX_NICK_LENGTH} {...common} />}
      {problem && (
        <p id={errorId} class="form-error" role="alert">
          {problem}
        </p>
      )}
    </>
  );
}

/** Which field a refusal is about, and the server's words as a sentence. */
function problemOf(failure: unknown): Problem {
  if (!(failure instanceof ApiFailure)) return { field: undefined, text: 'Something went wrong; try again.' };
  const text = asSentence(failure.message);
  if (failure.code === 'invalid_name' || failure.code === 'name_taken') return { field: 'name', text };
  if (failure.code === 'invalid_password') return { field: 'password', text };
  if (failure.code === 'network') return { field: undefined, text: 'Cannot reach the server; try again.' };
  return { field: undefined, text };
}

/** The server's words as a sentence on the page: "a nickname uses …" becomes "A nickname uses ….". */
function asSentence(message: string): string {
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
