// Desktop notifications for mentions and direct messages: asked for only when the user turns them on (the
// browser's prompt comes from that click, never on its own), shown only while the page is in the background,
// and only for messages that arrive while the page is open, not for history.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../../server/protocol';
import type { RoomHead } from './rooms';
import { mentions } from './mentions';

const SETTING_KEY = 'parley.notify-mentions';
/** How much of a message a notification shows. */
const EXCERPT_LENGTH = 140;

export type AlertState = 'unsupported' | 'off' | 'on' | 'blocked';

function readState(): AlertState {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  return Notification.permission === 'granted' && localStorage.getItem(SETTING_KEY) === 'on' ? 'on' : 'off';
}

/** The user's choice about mention notifications, and the switch that asks the browser when turned on. */
export function useAlertSetting(): { state: AlertState; toggle: () => void } {
  const [state, setState] = useState<AlertState>(readState);
  const toggle = () => {
    if (state === 'on') {
      localStorage.setItem(SETTING_KEY, 'off');
      setState(readState());
      return;
    }
    if (state !== 'off') return;
    void Notification.requestPermission().then(() => {
      if (Notification.permission === 'granted') localStorage.setItem(SETTING_KEY, 'on');
      setState(readState());
    });
  };
  return { state, toggle };
}

/**
 * Notifies of each message that mentions `me` and arrives while the page is hidden, when the user turned
 * notifications on. What the room held when it loaded is not news.
 */
export function useMentionAlerts(room: string, { label, dm }: RoomKind, messages: readonly ChatMessage[], loaded: boolean, me: string): void {
  /** The last seq looked at: messages at or below it were there before, or already told. */
  const told = useRef<number | undefined>(undefined);
  useEffect(() => {
    told.current = undefined;
  }, [room]);
  useEffect(() => {
    if (!loaded) return;
    const last = messages.at(-1)?.seq ?? 0;
    if (told.current === undefined) {
      told.current = last;
      return;
    }
    const from = told.current;
    told.current = Math.max(from, last);
    if (readState() !== 'on' || document.visibilityState !== 'hidden') return;
    for (const message of messages) {
      if (message.seq <= from || message.author === me || message.change || message.deleted) continue;
      if (dm) notify(`${message.author} sent you a message`, message.text, `parley-${room}-${message.seq}`);
      else if (mentions(message.text, me)) notify(`${message.author} mentioned you in ${label}`, message.text, `parley-${room}-${message.seq}`);
    }
  }, [room, messages, loaded, me, label, dm]);
}

/** How the sidebar names a room it counts, and whether it is a direct message (whose every message is news). */
export interface RoomKind {
  label: string;
  dm: boolean;
}

/**
 * Notifies of the rooms the page is not showing: each new message of a DM, and each new mention in any other
 * room, while the page is hidden and the user turned notifications on. Told once each; a message from before
 * the page opened is not news.
 */
export function useRoomAlerts(heads: Readonly<Record<string, RoomHead>>, kindOf: (room: string) => RoomKind): void {
  const openedAt = useRef(Date.now());
  /** The newest seq told of (or known when first seen) per room. */
  const told = useRef<Record<string, number>>({});
  useEffect(() => {
    for (const [room, head] of Object.entries(heads)) {
      const { label, dm } = kindOf(room);
      const news = dm ? head.newest : head.newestMention;
      const before = told.current[room] ?? 0;
      if (!news || news.seq <= before) continue;
      told.current[room] = news.seq;
      if (news.at < openedAt.current || readState() !== 'on' || document.visibilityState !== 'hidden') continue;
      notify(dm ? `${news.author} sent you a message` : `${news.author} mentioned you in ${label}`, news.text, `parley-${room}-${news.seq}`);
    }
  }, [heads]);
}

function notify(title: string, text: string, tag: string): void {
  const characters = [...text];
  const notice = new Notification(title, { body: characters.length > EXCERPT_LENGTH ? `${characters.slice(0, EXCERPT_LENGTH).join('')}…` : text, tag });
  notice.onclick = () => {
    window.focus();
    notice.close();
  };
}
