// A room: the sidebar (rooms, people), its header (name, connection, who you are), the messages, who is
// typing, and the composer. The tab title counts the messages that came while the tab was in the background.
// On a phone the sidebar slides over the dimmed chat; Escape or a tap on the chat closes it.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useEscape } from '../focus';
import { DEFAULT_ROOM, type PeopleState, type SessionResponse } from '../../../server/protocol';
import type { ConnectionState, RoomClosedReason } from '../connection';
import { usePrivateRooms, useRoomAccess } from '../room-access';
import { useAlertSetting, useMentionAlerts, useRoomAlerts, type RoomKind } from '../notifications';
import { useRoomList } from '../rooms';
import { useRoom, type SidebarPushes } from '../use-room';
import { useMessageActions } from '../message-actions';
import { AccountMenu } from './account-menu';
import { Composer } from './composer';
import { MemberList } from './member-list';
import { MessageContext } from './message-context';
import { MessageList } from './message-list';
import { PersonActions, StandingTags } from './person-actions';
import { PrivateRooms } from './private-rooms';
import { RoomActions } from './room-actions';
import { SearchBox, SearchPanel } from './search-panel';
import { Sidebar, typingLine } from './sidebar';
import { ConnectionStatus } from './status';

interface Props {
  room: string;
  session: SessionResponse;
  onRoomChange: (room: string) => void;
  onChangeNick: () => void;
  onSignedOut: () => void;
  onSessionLost: () => void;
  /** The room cannot be read any more (left elsewhere, removed, banned), or is not there for you. */
  onRoomClosed: (reason: RoomClosedReason) => void;
  /** Open at this message (a search result), with its context, instead of at the latest messages. */
  openAt?: number;
  /** Open another room at one of its messages. */
  onOpenAt: (room: string, seq: number) => void;
}

export function ChatRoom({ room, session, onRoomChange, onChangeNick, onSignedOut, onSessionLost, onRoomClosed, openAt, onOpenAt }: Props) {
  // The sidebar's pushes come over the room's connection, which exists before the sidebar's hook: a bridge.
  const sidebarPushes = useRef<Pick<SidebarPushes, 'heads' | 'read'> | undefined>(undefined);
  /** Lists the private rooms and reads the open room's standing again (a `rooms` push). */
  const refreshPrivateRooms = useRef<() => void>(() => undefined);
  const bridge = useMemo<SidebarPushes>(
    () => ({
      heads: (heads) => sidebarPushes.current?.heads(heads),
      read: (read) => sidebarPushes.current?.read(read),
      roomsChanged: () => refreshPrivateRooms.current(),
    }),
    [],
  );
  const model = useRoom(room, session.nick, onSessionLost, bridge, onRoomClosed);
  const actions = useMessageActions(model, session.nick, room);
  // The room's standing: its title, and your role and mute in it. `access.info?.moderate` says whether you moderate.
  const access = useRoomAccess(room, session.nick);
  const privateRooms = usePrivateRooms(session.guest, session.nick);
  refreshPrivateRooms.current = () => {
    privateRooms.refresh();
    access.refresh();
  };
  const info = access.info;
  /** How the room is named to the reader: #lobby, @Bo for a DM, a private room's title (never its id). */
  const label = info?.private ? (info.dm ? `@${info.title}` : info.title) : `#${room}`;
  // A public room's first message makes its writer (an account) the owner, once it is stored: its writer asks
  // again when its sends are acknowledged, until it holds the role.
  const wroteFirst = !session.guest && model.messages[0]?.seq === 1 && model.messages[0].author === session.nick;
  const awaitingOwnership = wroteFirst && info !== undefined && !info.private && info.role === undefined;
  const sending = model.outgoing.length > 0;
  const refreshAccess = access.refresh;
  useEffect(() => {
    if (awaitingOwnership && !sending) refreshAccess();
  }, [awaitingOwnership, sending, refreshAccess]);
  // A send refused as muted: the page learns of the mute now (else at its next look) and says so.
  const refusedAsMuted = model.outgoing.some((message) => message.error?.code === 'muted');
  useEffect(() => {
    if (refusedAsMuted) refreshAccess();
  }, [refusedAsMuted, refreshAccess]);
  const privateIds = useMemo(() => privateRooms.rooms.map((entry) => entry.room), [privateRooms.rooms]);
  const roomList = useRoomList(room, model.lastSeq, model.epoch, session.nick, !session.guest, model.watch, model.connection === 'live-ws', privateIds);
  sidebarPushes.current = roomList.pushes;
  const alerts = useAlertSetting();
  const kindOf = (name: string): RoomKind => {
    const summary = privateRooms.rooms.find((entry) => entry.room === name);
    return summary ? { label: summary.dm ? `@${summary.title}` : summary.title, dm: summary.dm } : { label: `#${name}`, dm: false };
  };
  useMentionAlerts(room, { label, dm: info?.dm === true }, model.messages, model.loaded, session.nick);
  useRoomAlerts(roomList.heads, kindOf);
  const [sidebarOpen, setSidebarOpen] = useState(false);
  const [accountOpen, setAccountOpen] = useState(false);
  /** What the search box asked for: its results show until closed. */
  const [searched, setSearched] = useState<string>();
  /** The message shown with its context in place of the latest ones. */
  const [viewing, setViewing] = useState(openAt);
  const menuButton = useRef<HTMLButtonElement>(null);
  const meButton = useRef<HTMLButtonElement>(null);
  const unseen = useUnseenWhileHidden(model.messages.length, model.loaded);
  const typing = typingLine(model.people, session.nick);
  const arrivals = useArrivals(model.people, session.nick, model.connection);
  const others = useMemo(() => (model.people?.present ?? []).filter((nick) => nick !== session.nick), [model.people, session.nick]);

  useEffect(() => {
    document.title = `${unseen > 0 ? `(${unseen}) ` : ''}${label} · Parley`;
  }, [label, unseen]);

  const go = (next: string) => {
    setSidebarOpen(false);
    onRoomChange(next);
  };

  /** Takes a room off the sidebar; taking off the open one leaves it for the lobby. */
  const removeRoom = (name: string) => {
    roomList.remove(name);
    if (name === room) go(DEFAULT_ROOM);
  };

  /** Folds the sidebar away and gives the keyboard back to the button that opened it. */
  const closeSidebar = () => {
    setSidebarOpen(false);
    menuButton.current?.focus();
  };

  useEscape(closeSidebar, sidebarOpen);

  const signedInAs = `Signed in as ${session.nick}${session.guest ? ' (guest)' : ''} · Account menu`;
  const closeAccount = () => {
    setAccountOpen(false);
    meButton.current?.focus();
  };

  return (
    <div class="shell">
      <Sidebar
        room={room}
        rooms={roomList.rooms}
        people={model.people}
        me={session.nick}
        open={sidebarOpen}
        onGo={go}
        onRemove={removeRoom}
        alerts={alerts}
        privateRooms={
          <PrivateRooms
            rooms={privateRooms.rooms}
            unread={roomList.privateUnread}
            current={room}
            guest={session.guest}
            onGo={go}
            onOpened={(opened) => {
              privateRooms.refresh();
              go(opened.room);
            }}
          />
        }
        members={info && !info.dm && <MemberList room={room} info={info} members={access.members} me={session.nick} onChanged={access.refresh} />}
        aboutPerson={(nick) => {
          const standing = access.members.find((member) => member.name === nick);
          return (
            <>
              <StandingTags standing={standing} />
              {info && nick !== session.nick && !info.private && <PersonActions room={room} info={info} name={nick} standing={standing} onChanged={access.refresh} />}
            </>
          );
        }}
      />
      {sidebarOpen && <div class="backdrop" aria-hidden="true" onClick={closeSidebar} />}
      <div class="main">
        <header class="topbar">
          <button
            ref={menuButton}
            type="button"
            class="menu-button"
            aria-expanded={sidebarOpen}
            aria-controls="sidebar"
            onClick={() => setSidebarOpen(!sidebarOpen)}
          >
            <span aria-hidden="true">☰</span>
            <span class="visually-hidden">Rooms and people</span>
          </button>
          <h1 class="room-title">
            <span class="hash" aria-hidden="true">
              {info?.private ? (info.dm ? '@' : '🔒') : '#'}
            </span>
            {info?.private && <span class="visually-hidden">{info.dm ? 'Direct message with ' : 'Private room '}</span>}
            {info?.private ? info.title : room}
          </h1>
          {info && (
            <RoomActions
              info={info}
              onInvited={access.refresh}
              onLeft={() => {
                privateRooms.drop(room);
                go(DEFAULT_ROOM);
              }}
            />
          )}
          <SearchBox onSearch={setSearched} />
          <ConnectionStatus state={model.connection} />
          <div class="me-wrap">
            <button
              ref={meButton}
              type="button"
              class="me"
              onClick={() => setAccountOpen(!accountOpen)}
              aria-label={signedInAs}
              title={signedInAs}
              aria-expanded={accountOpen}
              aria-controls="account-menu"
            >
              <span class="avatar" aria-hidden="true">
                {[...session.nick][0]?.toLocaleUpperCase()}
              </span>
              <span class="me-nick">{session.nick}</span>
              {session.guest && <span class="tag guest-tag me-guest">guest</span>}
              <span class="me-change">Account</span>
            </button>
            {accountOpen && <AccountMenu session={session} onChangeNick={onChangeNick} onSignedOut={onSignedOut} onClose={closeAccount} />}
          </div>
        </header>
        {searched !== undefined && (
          <SearchPanel
            query={searched}
            room={room}
            titles={privateRooms.rooms}
            onClose={() => setSearched(undefined)}
            onOpen={({ message }) => {
              setSearched(undefined);
              if (message.room === room) setViewing(message.seq);
              else onOpenAt(message.room, message.seq);
            }}
          />
        )}
        {viewing === undefined ? (
          <MessageList room={room} label={label} model={model} me={session.nick} readWhenOpened={roomList.readWhenOpened} actions={actions} canModerate={info?.moderate ?? false} />
        ) : (
          <MessageContext room={room} label={label} seq={viewing} onLatest={() => setViewing(undefined)} />
        )}
        <div class="typing-line" aria-live="polite">
          {typing || arrivals}
        </div>
        {info?.muted ? (
          <p class="muted-notice" role="status">
            A moderator muted you in this room: you can read it, but not post.
          </p>
        ) : (
          <Composer
            room={room}
            label={label}
            maxLength={session.maxTextLength}
            onSend={(text, files) => {
              // A message sent goes at the end: the view goes back there to show it.
              setViewing(undefined);
              actions.send(text, files);
            }}
            onTyping={model.typing}
            names={others}
            replyingTo={actions.replyingTo}
            onCancelReply={actions.cancelReply}
            onEditLast={actions.editLast}
          />
        )}
      </div>
    </div>
  );
}

/** How long "Bo joined" stays on screen. */
const ARRIVAL_NOTICE_MS = 5000;

/**
 * After this page's connection comes back, how long the others get to come back too before the page
 * says who came and went meanwhile. After a server restart its picture starts empty and fills as readers
 * reconnect: WebSockets within a second or so, long-poll readers at their next request, after a backoff
 * of up to a few seconds.
 */
const RECONNECT_SETTLE_MS = 10_000;

/**
 * "Bo joined", "Cy left": a line that says who came and went, for a few seconds, instead of a message in
 * the log for each (which would flood a busy room). The people already there when the page opens are not news,
 * and neither are the comings and goings of a room too big to list everyone (its picture names only the first).
 * Nor are those who merely reconnected: once the connection is back, the pictures are not compared until the
 * room has settled; then the page tells what changed since the picture from before the drop.
 */
function useArrivals(people: PeopleState | undefined, me: string, connection: ConnectionState): string {
  const [notice, setNotice] = useState('');
  const previous = useRef<readonly string[] | undefined>(undefined);
  const key = people && `${people.present.join('\n')}|${people.presentCount}`;
  const live = connection === 'live-ws' || connection === 'live-poll';
  const wasLive = useRef(false);
  /** The connection dropped, or came back less than RECONNECT_SETTLE_MS ago: pictures are not news yet. */
  const unsettled = useRef(false);
  const [settled, markSettled] = useState(0);
  // Declared before the comparison, so that it runs first when a picture comes with the connection.
  useEffect(() => {
    if (!live) {
      if (wasLive.current) unsettled.current = true;
      return;
    }
    wasLive.current = true;
    if (!unsettled.current) return;
    const timer = setTimeout(() => {
      unsettled.current = false;
      markSettled((n) => n + 1);
    }, RECONNECT_SETTLE_MS);
    return () => clearTimeout(timer);
  }, [live]);
  useEffect(() => {
    if (!people || unsettled.current) return;
    const before = previous.current;
    const present = people.presentCount === people.present.length ? people.present : undefined;
    previous.current = present;
    if (!before || !present) return;
    const joined = present.filter((nick) => nick !== me && !before.includes(nick));
    const left = before.filter((nick) => nick !== me && !present.includes(nick));
    const parts = [...(joined.length ? [`${listNames(joined)} joined`] : []), ...(left.length ? [`${listNames(left)} left`] : [])];
    if (parts.length > 0) setNotice(parts.join(' · '));
  }, [key, settled]);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice(''), ARRIVAL_NOTICE_MS);
    return () => clearTimeout(timer);
  }, [notice]);
  return notice;
}

function listNames(nicks: string[]): string {
  return nicks.length <= 2 ? nicks.join(' and ') : `${nicks.length} people`;
}

/** How many messages arrived while the page was hidden (another tab in front); 0 once it is seen again. */
function useUnseenWhileHidden(count: number, loaded: boolean): number {
  const [unseen, setUnseen] = useState(0);
  const seenCount = useRef(count);
  const latestCount = useRef(count);
  latestCount.current = count;
  useEffect(() => {
    if (!loaded) return;
    if (document.visibilityState === 'visible') seenCount.current = count;
    else setUnseen(Math.max(0, count - seenCount.current));
  }, [count, loaded]);
  // One listener for the page's life, not one per message.
  useEffect(() => {
    const onVisibility = () => {
      if (document.visibilityState !== 'visible') return;
      seenCount.current = latestCount.current;
      setUnseen(0);
    };
    document.addEventListener('visibilitychange', onVisibility);
    return () => document.removeEventListener('visibilitychange', onVisibility);
  }, []);
  return unseen;
}
