// Desktop notifications for mentions: asked for only when the user turns them on (the browser's prompt
// comes from that click, never on its own), shown only while the page is in the background, and only for
// messages that arrive live, not for history.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../../server/protocol';
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
export function useMentionAlerts(room: string, messages: readonly ChatMessage[], loaded: boolean, me: string): void {
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
      if (message.seq <= from || message.author === me || !mentions(message.text, me)) continue;
      const text = [...message.text];
      const notice = new Notification(`${message.author} mentioned you in #${room}`, {
        body: text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH).join('')}…` : message.text,
        tag: `parley-${room}-${message.seq}`,
      });
      notice.onclick = () => {
        window.focus();
        notice.close();
      };
    }
  }, [room, messages, loaded, me]);
}
