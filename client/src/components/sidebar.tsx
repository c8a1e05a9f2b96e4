// The side panel: the rooms this browser has visited (with unread counts, and a × to take one off the
// list), a field to join or create one, and who is in the open room now. On a phone it folds away behind
// a button in the header.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PeopleState } from '../../../server/protocol';
import type { AlertState } from '../notifications';
import type { RoomEntry, Unread } from '../rooms';
import { opensInPlace, pathForRoom } from '../routes';
import { RoomSwitcher } from './room-switcher';

interface Props {
  room: string;
  rooms: RoomEntry[];
  people: PeopleState | undefined;
  me: string;
  open: boolean;
  onGo: (room: string) => void;
  onRemove: (room: string) => void;
  /** Desktop notifications for mentions, and the switch for them. */
  alerts: { state: AlertState; toggle: () => void };
  /** The private rooms and DMs, under the public ones. */
  privateRooms?: ComponentChildren;
  /** The open room's members (or roles and bans), under who is here. */
  members?: ComponentChildren;
  /** What follows a present person's name: their role's tags, a moderator's actions on them. */
  aboutPerson?: (nick: string) => ComponentChildren;
}

export function Sidebar({ room, rooms, people, me, open, onGo, onRemove, alerts, privateRooms, members, aboutPerson }: Props) {
  const openRoomLink = useRef<HTMLAnchorElement>(null);
  const roomList = useRef<HTMLUListElement>(null);
  /** The room whose link takes the keyboard once the × that had it is gone with its room. */
  const [focusAfterRemove, setFocusAfterRemove] = useState<string>();

  // Opened on a phone (over the chat): the keyboard goes to it, on the room you are in.
  useEffect(() => {
    if (open) openRoomLink.current?.focus();
  }, [open]);

  useEffect(() => {
    if (focusAfterRemove === undefined) return;
    roomList.current?.querySelector<HTMLAnchorElement>(`a[href="${pathForRoom(focusAfterRemove)}"]`)?.focus();
    setFocusAfterRemove(undefined);
  }, [focusAfterRemove]);

  const remove = (index: number) => {
    const name = rooms[index]?.name;
    if (name === undefined) return;
    // The open room's removal leaves the room, and the next one's composer takes the keyboard.
    if (name !== room) setFocusAfterRemove((rooms[index + 1] ?? rooms[index - 1])?.name);
    onRemove(name);
  };
  const go = (event: MouseEvent, name: string) => {
    if (!opensInPlace(event)) return;
    event.preventDefault();
    onGo(name);
  };
  const present = people?.present ?? [];
  return (
    <aside id="sidebar" class={`sidebar${open ? ' open' : ''}`} aria-label="Rooms and people">
      <div class="brand" aria-hidden="true">
        Parley
      </div>
      <nav aria-labelledby="rooms-heading">
        <h2 id="rooms-heading">Rooms</h2>
        <ul class="room-list" ref={roomList}>
          {rooms.map((entry, index) => (
            <li key={entry.name} class={entry.name === room ? 'current' : undefined}>
              <a
                ref={entry.name === room ? openRoomLink : undefined}
                href={pathForRoom(entry.name)}
                aria-current={entry.name === room ? 'page' : undefined}
                onClick={(e) => go(e, entry.name)}
                class={entry.unread > 0 ? 'has-unread' : undefined}
              >
                <span class="room-name"># {entry.name}</span>
                <UnreadBadges counts={entry} />
              </a>
              {entry.removable && (
                <button
                  type="button"
                  class="remove-room"
                  aria-label={`Remove #${entry.name} from the list`}
                  title={`Remove #${entry.name} from the list`}
                  onClick={() => remove(index)}
                >
                  <span aria-hidden="true">×</span>
                </button>
              )}
            </li>
          ))}
        </ul>
        <RoomSwitcher onGo={onGo} />
      </nav>
      {privateRooms}
      <section aria-labelledby="people-heading" class="people">
        <h2 id="people-heading">
          Here now{people ? ` (${people.presentCount + people.guests})` : ''}
        </h2>
        <ul class="people-list">
          {present.map((nick) => (
            <li key={nick}>
              <span class="presence-dot" aria-hidden="true" />
              {nick}
              {!people?.accounts?.includes(nick) && (
                <>
                  {' '}
                  <span class="tag guest-tag">guest</span>
                </>
              )}
              {nick === me && <span class="you"> (you)</span>}
              {people?.typing.includes(nick) && nick !== me && <span class="typing-mark"> typing…</span>}
              {aboutPerson?.(nick)}
            </li>
          ))}
          {people && people.presentCount > present.length && (
            <li class="guests">{`and ${people.presentCount - present.length} more`}</li>
          )}
          {people && people.guests > 0 && (
            <li class="guests">
              {people.guests === 1 ? '1 reader not signed in' : `${people.guests} readers not signed in`}
            </li>
          )}
        </ul>
      </section>
      {members}
      {alerts.state !== 'unsupported' && (
        <p class="alerts">
          <button type="button" class="link-button" aria-pressed={alerts.state === 'on'} disabled={alerts.state === 'blocked'} onClick={alerts.toggle}>
            {alerts.state === 'on' ? 'Notifying you of mentions and messages' : 'Notify me of mentions and messages'}
          </button>
          {alerts.state === 'blocked' && <span class="alerts-note"> Notifications are blocked in this browser's site settings.</span>}
        </p>
      )}
    </aside>
  );
}

/** "Bo is typing…", "Bo and Cy are typing…", "Several people are typing…"; empty when no one else is. */
export function typingLine(people: PeopleState | undefined, me: string): string {
  const others = (people?.typing ?? []).filter((nick) => nick !== me);
  if (others.length === 0) return '';
  if (others.length === 1) return `${others[0]} is typing…`;
  if (others.length === 2) return `${others[0]} and ${others[1]} are typing…`;
  return 'Several people are typing…';
}

/** A room's badges in the sidebar: mentions of the user, then unread messages (99+ past 99). */
export function UnreadBadges({ counts }: { counts: Unread | undefined }) {
  if (!counts) return null;
  const { unread, mentions } = counts;
  return (
    <>
      {mentions > 0 && (
        <span class="badge mention-badge" aria-label={mentions === 1 ? '1 mention of you' : `${mentions} mentions of you`}>
          @{mentions > 99 ? '99+' : mentions}
        </span>
      )}
      {unread > 0 && (
        <span class="badge" aria-label={`${unread} unread`}>
          {unread > 99 ? '99+' : unread}
        </span>
      )}
    </>
  );
}
