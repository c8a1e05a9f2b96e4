// Join or create a room by name: "Team Chat!" becomes #team-chat.
import { useState } from 'preact/hooks';
import { toRoomName } from '../routes';

export function RoomSwitcher({ onGo }: { onGo: (room: string) => void }) {
  const [typed, setTyped] = useState('');
  const [invalid, setInvalid] = useState(false);
  const submit = (event: Event) => {
    event.preventDefault();
    const name = toRoomName(typed);
    setInvalid(name === undefined);
    if (name) {
      setTyped('');
      onGo(name);
    }
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
        onInput={(e) => setTyped(e.currentTarget.value)}
        aria-invalid={invalid ? 'true' : undefined}
        title="Letters, digits, - and _"
        autoComplete="off"
      />
    </form>
  );
}
