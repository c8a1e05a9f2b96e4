// The page for a URL that names no possible room (/r/has%20space): what is wrong with the name, and the
// ways on: the room the join field would make of it, and the lobby.
import { useEffect } from 'preact/hooks';
import { DEFAULT_ROOM, MAX_ROOM_LENGTH } from '../../../server/protocol';
import { opensInPlace, pathForRoom } from '../routes';

interface Props {
  name: string;
  problem: 'too-long' | 'characters';
  suggestion: string | undefined;
  onGo: (room: string) => void;
}

export function NotARoom({ name, problem, suggestion, onGo }: Props) {
  useEffect(() => {
    const before = document.title;
    document.title = 'No such room · Parley';
    return () => {
      document.title = before;
    };
  }, []);
  const rooms = suggestion && suggestion !== DEFAULT_ROOM ? [suggestion, DEFAULT_ROOM] : [DEFAULT_ROOM];
  return (
    <main class="welcome">
      <div class="card">
        <h1>No such room</h1>
        <p>
          There is no room called “<bdi class="typed-name">{name}</bdi>”:{' '}
          {problem === 'too-long'
            ? `a room name has at most ${MAX_ROOM_LENGTH} characters, and this one has ${name.trim().length}.`
            : 'room names are lowercase letters, digits, - and _, starting with a letter or digit.'}
        </p>
        <nav class="card-actions" aria-label="Rooms to go to">
          {rooms.map((room, index) => (
            <a
              key={room}
              class={index === 0 ? 'button-link' : 'button-link secondary'}
              href={pathForRoom(room)}
              onClick={(event) => {
                if (!opensInPlace(event)) return;
                event.preventDefault();
                onGo(room);
              }}
            >
              Go to #{room}
            </a>
          ))}
        </nav>
      </div>
    </main>
  );
}
