// A room: its header (name, switcher, connection, who you are), the messages, and the composer.
import { useState } from 'preact/hooks';
import type { SessionResponse } from '../../../server/protocol';
import { toRoomName } from '../routes';
import { useRoom } from '../use-room';
import { Composer } from './composer';
import { MessageList } from './message-list';
import { ConnectionStatus } from './status';

interface Props {
  room: string;
  session: SessionResponse;
  onRoomChange: (room: string) => void;
  onChangeNick: () => void;
  onSessionLost: () => void;
}

export function ChatRoom({ room, session, onRoomChange, onChangeNick, onSessionLost }: Props) {
  const model = useRoom(room, session.nick, onSessionLost);
  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand" aria-hidden="true">
          Parley
        </span>
        <h1 class="room-title">
          <span class="hash" aria-hidden="true">
            #
          </span>
          {room}
        </h1>
        <RoomSwitcher onGo={onRoomChange} />
        <ConnectionStatus state={model.connection} />
        <span class="me">
          <span class="me-nick" title="Your nickname">
            {session.nick}
          </span>
          <button type="button" class="link-button" onClick={onChangeNick}>
            Change
          </button>
        </span>
      </header>
      <MessageList room={room} model={model} me={session.nick} />
      <Composer room={room} maxLength={session.maxTextLength} onSend={model.send} />
    </div>
  );
}

function RoomSwitcher({ onGo }: { onGo: (room: string) => void }) {
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
    <form class="switcher" onSubmit={submit} role="search">
      <label for="room-switch" class="visually-hidden">
        Go to room
      </label>
      <input
        id="room-switch"
        placeholder="Go to room…"
        value={typed}
        onInput={(e) => setTyped(e.currentTarget.value)}
        aria-invalid={invalid ? 'true' : undefined}
        title="Letters, digits, - and _"
      />
    </form>
  );
}
