// The page for a room that cannot be read: one that is not there for you (a private room you are not in, or
// none at all: the same page for both, as the server gives the same answer), or one you were removed or
// banned from, or left in another tab, while reading it.
import { useEffect } from 'preact/hooks';
import { DEFAULT_ROOM } from '../../../server/protocol';
import type { RoomClosedReason } from '../connection';
import { opensInPlace, pathForRoom } from '../routes';

interface Props {
  reason: RoomClosedReason;
  onGo: (room: string) => void;
}

const SAYS: Record<RoomClosedReason, { title: string; text: string }> = {
  not_found: { title: 'No such room', text: 'There is no room at this address, or it is private and you are not one of its members.' },
  left: { title: 'You left this room', text: 'You left it (in another tab or window): it is no longer in your list.' },
  removed: {
    title: 'You are no longer in this room',
    text: 'A moderator removed you from this private room, or you left it elsewhere. A member can invite you again.',
  },
  banned: { title: 'You are banned from this room', text: 'A moderator banned you from this room: you cannot read or post in it.' },
};

export function RoomGone({ reason, onGo }: Props) {
  const { title, text } = SAYS[reason];
  useEffect(() => {
    const before = document.title;
    document.title = `${title} · Parley`;
    return () => {
      document.title = before;
    };
  }, [title]);
  return (
    <main class="welcome">
      <div class="card">
        <h1>{title}</h1>
        <p>{text}</p>
        <nav class="card-actions" aria-label="Rooms to go to">
          <a
            class="button-link"
            href={pathForRoom(DEFAULT_ROOM)}
            onClick={(event) => {
              if (!opensInPlace(event)) return;
              event.preventDefault();
              onGo(DEFAULT_ROOM);
            }}
          >
            Go to #{DEFAULT_ROOM}
          </a>
        </nav>
      </div>
    </main>
  );
}
