// Join or create a room by name: "Team Chat!" becomes #team-chat, shown as the user types so the name is no
// surprise. Input that makes no name says why once Enter is pressed, and from then on as it is edited.
import { useState } from 'preact/hooks';
import { toRoomName } from '../routes';

export function RoomSwitcher({ onGo }: { onGo: (room: string) => void }) {
  const [typed, setTyped] = useState('');
  const [triedToGo, setTriedToGo] = useState(false);
  const result = typed.trim() ? toRoomName(typed) : undefined;
  const error = triedToGo && result?.ok === false ? result.error : undefined;
  const submit = (event: Event) => {
    event.preventDefault();
    if (!result?.ok) {
      setTriedToGo(result !== undefined);
      return;
    }
    setTyped('');
    setTriedToGo(false);
    onGo(result.name);
  };
  return (
    <form class="switcher" onSubmit={submit}>
      <label for="room-switch" class="visually-hidden">
        Join or create a room
      </label>
      <input
        id="room-switch"
        placeholder="Join or create a room…"
        value={typed}
        onInput={(e) => {
          setTyped(e.currentTarget.value);
          if (!e.currentTarget.value.trim()) setTriedToGo(false);
        }}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? 'room-switch-error' : result?.ok ? 'room-switch-preview' : undefined}
        autoComplete="off"
      />
      {error && (
        <p id="room-switch-error" class="form-error switcher-note" role="alert">
          {error}
        </p>
      )}
      {result?.ok && (
        <p id="room-switch-preview" class="switcher-note">
          → #{result.name}
        </p>
      )}
    </form>
  );
}
