// The sidebar's private rooms and direct messages (🔒 for a room, @ for a DM), with "New private room" and
// "Message someone": each opens a one-field form in place. A guest is told that these need an account.
import { useState } from 'preact/hooks';
import type { RoomInfo, RoomSummary } from '../../../server/protocol';
import { ApiFailure, createRoom, openDm } from '../api';
import type { Unread } from '../rooms';
import { opensInPlace, pathForRoom } from '../routes';
import { UnreadBadges } from './sidebar';

interface Props {
  rooms: RoomSummary[];
  /** Unread messages and mentions per room (none for the open one). */
  unread: Record<string, Unread>;
  current: string;
  guest: boolean;
  onGo: (room: string) => void;
  /** A room was created or a DM opened: list it and go there. */
  onOpened: (info: RoomInfo) => void;
}

type Form = 'room' | 'dm' | undefined;

export function PrivateRooms({ rooms, unread, current, guest, onGo, onOpened }: Props) {
  const [form, setForm] = useState<Form>();
  const go = (event: MouseEvent, room: string) => {
    if (!opensInPlace(event)) return;
    event.preventDefault();
    onGo(room);
  };
  return (
    <nav aria-labelledby="private-heading" class="private-rooms">
      <h2 id="private-heading">Private rooms and messages</h2>
      {guest ? (
        <p class="sidebar-note">Guests cannot join private rooms or send direct messages: sign up for an account (in the Account menu) to use them.</p>
      ) : (
        <>
          <ul class="room-list">
            {rooms.map((entry) => (
              <li key={entry.room} class={entry.room === current ? 'current' : undefined}>
                <a
                  href={pathForRoom(entry.room)}
                  aria-current={entry.room === current ? 'page' : undefined}
                  class={(unread[entry.room]?.unread ?? 0) > 0 ? 'has-unread' : undefined}
                  onClick={(e) => go(e, entry.room)}
                >
                  <span class="room-name">
                    <span aria-hidden="true">{entry.dm ? '@ ' : '🔒 '}</span>
                    <span class="visually-hidden">{entry.dm ? 'Direct message with ' : 'Private room '}</span>
                    {entry.title}
                  </span>
                  <UnreadBadges counts={unread[entry.room]} />
                </a>
              </li>
            ))}
          </ul>
          <div class="private-actions">
            <button type="button" class="link-button" aria-expanded={form === 'room'} onClick={() => setForm(form === 'room' ? undefined : 'room')}>
              New private room
            </button>
            <button type="button" class="link-button" aria-expanded={form === 'dm'} onClick={() => setForm(form === 'dm' ? undefined : 'dm')}>
              Message someone
            </button>
          </div>
          {form === 'room' && (
            <OneFieldForm
              id="new-room"
              label="Title of the new private room"
              placeholder="Room title…"
              submit="Create"
              act={createRoom}
              onDone={(info) => {
                setForm(undefined);
                onOpened(info);
              }}
            />
          )}
          {form === 'dm' && (
            <OneFieldForm
              id="new-dm"
              label="Username to message"
              placeholder="Username…"
              submit="Message"
              act={openDm}
              onDone={(info) => {
                setForm(undefined);
                onOpened(info);
              }}
            />
          )}
        </>
      )}
    </nav>
  );
}

interface OneFieldProps<T> {
  id: string;
  label: string;
  placeholder: string;
  submit: string;
  act: (value: string) => Promise<T>;
  onDone: (result: T) => void;
}

/** One labelled field and a button; the server's refusal is shown under it, word for word. */
export function OneFieldForm<T>({ id, label, placeholder, submit, act, onDone }: OneFieldProps<T>) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const send = async (event: Event) => {
    event.preventDefault();
    if (!value.trim() || busy) return;
    setBusy(true);
    setProblem(undefined);
    try {
      const result = await act(value.trim());
      setValue('');
      onDone(result);
    } catch (error) {
      setProblem(error instanceof ApiFailure ? capitalized(error.message) : 'That did not work: try again.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="one-field" onSubmit={send}>
      <label for={id} class="visually-hidden">
        {label}
      </label>
      <input
        id={id}
        value={value}
        placeholder={placeholder}
        autoComplete="off"
        autoFocus
        onInput={(e) => setValue(e.currentTarget.value)}
        aria-invalid={problem ? 'true' : undefined}
        aria-describedby={problem ? `${id}-error` : undefined}
      />
      <button type="submit" disabled={busy}>
        {submit}
      </button>
      {problem && (
        <p id={`${id}-error`} class="form-error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}
