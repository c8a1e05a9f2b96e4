// The room's messages, oldest at the top: grouped by author, with older pages loaded on demand and
// your own unacknowledged messages shown greyed at the bottom until the server has them.
import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ChatMessage } from '../../../server/protocol';
import type { OutgoingMessage } from '../outbox';
import type { RoomModel } from '../use-room';
import type { MessageActions } from '../message-actions';
import { MessageFiles } from './message-files';
import { MessageItem, ReplyQuote } from './message-item';
import { MentionNames, MessageText } from './message-text';

/** Messages from one author within this long of each other share one header. */
const GROUP_GAP_MS = 5 * 60_000;

/** How long a message jumped to (from a reply's quote) stays highlighted. */
const JUMP_HIGHLIGHT_MS = 2000;

interface Props {
  room: string;
  /** How the room is named to the reader (#lobby, @Bo, a private room's title). */
  label: string;
  model: RoomModel;
  me: string;
  /** Where the person had stopped reading when the room opened: a "new messages" line follows it. */
  readWhenOpened: number | undefined;
  /** Reply and edit, shared with the composer. */
  actions: MessageActions;
  /** The reader moderates this room: Delete shows on everyone's messages (a removal). */
  canModerate?: boolean;
}

export function MessageList({ room, label, model, me, readWhenOpened, actions, canModerate = false }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const newLine = useNewMessagesLine(model, me, readWhenOpened);
  /** The line has been scrolled to (once, when it first shows). */
  const shownLine = useRef(false);
  /**
   * Distance from the bottom before an older page is added, and the first seq shown then: once the page
   * is in (the first seq changed), the scroll position is set back to that distance, keeping the reader's place.
   */
  const anchor = useRef<{ fromBottom: number; firstSeq: number | undefined } | undefined>(undefined);
  const firstSeq = model.messages[0]?.seq;
  const [unseen, setUnseen] = useState(0);
  /** The last seq on screen when the reader was last at the bottom: what came after it is new. */
  const seenSeq = useRef(0);
  const lastSeq = model.messages.at(-1)?.seq ?? 0;
  const now = useNow(30_000);
  const present = model.people?.present;
  const mentionNames = useMemo(() => ({ names: [me, ...(present ?? [])], me }), [me, present]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const line = el.querySelector<HTMLElement>('.new-messages-line');
    if (line && !shownLine.current) {
      // Open where the person stopped reading: the line near the top, the unread messages below it.
      shownLine.current = true;
      el.scrollTop += line.getBoundingClientRect().top - el.getBoundingClientRect().top - LINE_MARGIN_PX;
      atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      seenSeq.current = lastSeq;
    } else if (anchor.current !== undefined) {
      if (anchor.current.firstSeq !== firstSeq) {
        el.scrollTop = el.scrollHeight - anchor.current.fromBottom;
        anchor.current = undefined;
      }
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
      seenSeq.current = lastSeq;
    } else if (lastSeq > seenSeq.current) {
      // Older pages added above do not count: only what arrived after the reader scrolled up.
      setUnseen(countAfter(model.messages, seenSeq.current));
    }
  });

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (atBottom.current) {
      seenSeq.current = lastSeq;
      setUnseen(0);
    }
  };

  const loadOlder = async () => {
    const el = scroller.current;
    const mine = el !== null && anchor.current === undefined;
    if (mine) anchor.current = { fromBottom: el.scrollHeight - el.scrollTop, firstSeq };
    await model.loadOlder();
    // Nothing came (no older page, or it failed): forget the anchor this call set.
    if (mine && anchor.current?.firstSeq === firstSeq) anchor.current = undefined;
  };

  // Scrolling up to the top loads the next older page by itself; the button stays for keyboards.
  const olderButton = useRef<HTMLButtonElement>(null);
  const loadOlderRef = useRef(loadOlder);
  loadOlderRef.current = loadOlder;
  useEffect(() => {
    const button = olderButton.current;
    const root = scroller.current;
    if (!button || !root || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        // Not while the page first scrolls to the bottom: only once the reader has moved up.
        if (entries.some((entry) => entry.isIntersecting) && !atBottom.current) void loadOlderRef.current();
      },
      { root, rootMargin: '200px 0px 0px 0px' },
    );
    observer.observe(button);
    return () => observer.disconnect();
  }, [model.hasOlder, model.loadingOlder]);

  /** Scrolls to message `seq` (a reply's original), loading older pages to reach it, and marks it a moment. */
  const jumpTo = async (seq: number) => {
    if (!(await model.reveal(seq))) return;
    // The page it is on may render on the next frame.
    requestAnimationFrame(() => {
      const target = scroller.current?.querySelector<HTMLElement>(`#message-${seq}`);
      if (!target) return;
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
      target.classList.add('jumped');
      setTimeout(() => target.classList.remove('jumped'), JUMP_HIGHLIGHT_MS);
    });
  };
  const item = { me, model, canModerate, actions, jumpTo };

  const jumpToLatest = () => {
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  return (
    <MentionNames.Provider value={mentionNames}>
      <div class="messages-wrap">
        <div class="messages" ref={scroller} onScroll={onScroll} role="log" aria-label={`Messages in ${label}`}>
          {model.hasOlder && (
            <button type="button" class="load-older" ref={olderButton} onClick={() => void loadOlder()} disabled={model.loadingOlder}>
              {model.loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          )}
          {model.loaded && !model.hasOlder && (
            <p class="room-start">This is the start of {label}.</p>
          )}
          {!model.loaded && <p class="room-start">Loading messages…</p>}
          {groupByAuthor(model.messages, newLine).map((group) => (
            <Fragment key={group[0]?.seq}>
              {group[0]?.seq === newLine && (
                <div class="new-messages-line" role="separator" aria-label="New messages">
                  <span>New messages</span>
                </div>
              )}
              <MessageGroup messages={group} now={now} item={item} />
            </Fragment>
          ))}
          {model.outgoing.map((entry) =>
            entry.change ? (
              entry.state === 'failed' && <FailedChange key={entry.clientId} entry={entry} retry={model.retry} discard={model.discard} />
            ) : (
              <Outgoing key={entry.clientId} entry={entry} retry={model.retry} discard={model.discard}>
                {entry.replyTo !== undefined && <ReplyQuote seq={entry.replyTo} model={model} onJump={(seq) => void jumpTo(seq)} />}
              </Outgoing>
            ),
          )}
        </div>
        {unseen > 0 && (
          <button type="button" class="jump" onClick={jumpToLatest}>
            {unseen === 1 ? '1 new message' : `${unseen} new messages`} ↓
          </button>
        )}
      </div>
    </MentionNames.Provider>
  );
}

interface ItemContext {
  me: string;
  model: RoomModel;
  canModerate: boolean;
  actions: MessageActions;
  jumpTo: (seq: number) => Promise<void>;
}

function MessageGroup({ messages, now, item }: { messages: ChatMessage[]; now: number; item: ItemContext }) {
  const { me, model, canModerate, actions, jumpTo } = item;
  const first = messages[0];
  if (!first) return null;
  const mine = first.author === me;
  return (
    <article class={`group${mine ? ' mine' : ''}`} aria-label={`Messages from ${first.author}`}>
      <header class="group-header">
        <span class="author" dir="auto" style={{ color: authorColor(first.author) }}>
          {first.author}
        </span>
        {!first.account && (
          <>
            {' '}
            <span class="tag guest-tag">guest</span>
          </>
        )}
        <Time at={first.at} now={now} />
      </header>
      {messages.map((message) => (
        <MessageItem
          key={message.seq}
          message={message}
          me={me}
          mine={mine}
          canModerate={canModerate}
          model={model}
          editing={actions.editing === message.seq}
          onEdit={actions.edit}
          onReply={actions.reply}
          onJump={(seq) => void jumpTo(seq)}
        />
      ))}
    </article>
  );
}

/** A change of ours (an edit, a delete, a reaction) the server refused: why, and what the user can do. */
function FailedChange({ entry, retry, discard }: { entry: OutgoingMessage; retry: (id: string) => void; discard: (id: string) => void }) {
  const what = entry.change?.kind === 'edit' ? 'Your edit' : entry.change?.kind === 'delete' ? 'Deleting a message' : 'Your reaction';
  return (
    <p class="send-error change-error" role="alert">
      {what} did not go through: {entry.error?.message ?? 'the server refused it.'}{' '}
      <button type="button" class="link-button" onClick={() => retry(entry.clientId)}>
        Retry
      </button>{' '}
      <button type="button" class="link-button" onClick={() => discard(entry.clientId)}>
        Dismiss
      </button>
    </p>
  );
}

function Outgoing({ entry, retry, discard, children }: { entry: OutgoingMessage; retry: (id: string) => void; discard: (id: string) => void; children?: ComponentChildren }) {
  return (
    <article class={`group mine outgoing ${entry.state}`} aria-label="Your message, not yet delivered">
      <header class="group-header">
        <span class="author">{entry.author}</span>
        <span class="time">{entry.state === 'pending' ? 'Sending…' : 'Not sent'}</span>
      </header>
      {children}
      {entry.text.trim() && <MessageText text={entry.text} />}
      {entry.files && <MessageFiles files={entry.files} />}
      {entry.state === 'failed' && (
        <p class="send-error" role="alert">
          {entry.error?.message ?? 'The server refused this message.'}{' '}
          <button type="button" class="link-button" onClick={() => retry(entry.clientId)}>
            Retry
          </button>{' '}
          <button type="button" class="link-button" onClick={() => discard(entry.clientId)}>
            Discard
          </button>
        </p>
      )}
    </article>
  );
}

/** When a message was sent, relative while recent ("just now", "5 min ago"); the exact time on hover. */
function Time({ at, now }: { at: number; now: number }) {
  const date = new Date(at);
  return (
    <time class="time" dateTime={date.toISOString()} title={date.toLocaleString([], { dateStyle: 'full', timeStyle: 'medium' })}>
      {relativeTime(date, now)}
    </time>
  );
}

export function relativeTime(date: Date, now: number): string {
  const minutes = Math.floor((now - date.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const clock = date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  const today = new Date(now);
  if (date.toDateString() === today.toDateString()) return clock;
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (date.toDateString() === yesterday.toDateString()) return `Yesterday ${clock}`;
  const sameYear = date.getFullYear() === today.getFullYear();
  return `${date.toLocaleDateString([], { month: 'short', day: 'numeric', ...(sameYear ? {} : { year: 'numeric' }) })}, ${clock}`;
}

/** The current time, refreshed every `everyMs`, so that relative times move on by themselves. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** Room left above the "new messages" line when the room opens at it, so that the message before shows a little. */
const LINE_MARGIN_PX = 48;

/**
 * The seq of the first message that was unread when the room opened (after `readWhenOpened`, from someone else,
 * and already in the log then), which the "new messages" line goes before; undefined for none. Decided once,
 * when the room's first page and the marker are both in: messages that arrive while the room is open are read
 * as they come, and draw no line.
 */
function useNewMessagesLine(model: RoomModel, me: string, readWhenOpened: number | undefined): number | undefined {
  const unreadWhenOpened = useRef<{ after: number; upTo: number } | null>(null);
  if (unreadWhenOpened.current === null && model.loaded && readWhenOpened !== undefined) {
    unreadWhenOpened.current = { after: readWhenOpened, upTo: model.lastSeq ?? 0 };
  }
  const unread = unreadWhenOpened.current;
  if (!unread) return undefined;
  return model.messages.find((message) => message.seq > unread.after && message.seq <= unread.upTo && message.author !== me)?.seq;
}

/** How many of `messages` (in seq order) come after `seq`. */
function countAfter(messages: readonly ChatMessage[], seq: number): number {
  let count = 0;
  for (let i = messages.length - 1; i >= 0 && (messages[i]?.seq ?? 0) > seq; i--) count++;
  return count;
}

/** Runs of messages from one author, close in time; a new run starts at `breakAt` (the "new messages" line). */
function groupByAuthor(messages: readonly ChatMessage[], breakAt: number | undefined): ChatMessage[][] {
  const groups: ChatMessage[][] = [];
  for (const message of messages) {
    const group = groups.at(-1);
    const previous = group?.at(-1);
    const sameRun = previous && previous.author === message.author && previous.account === message.account && message.at - previous.at < GROUP_GAP_MS;
    if (group && sameRun && message.seq !== breakAt) {
      group.push(message);
    } else {
      groups.push([message]);
    }
  }
  return groups;
}

/** Hues far enough apart to tell authors apart at a glance. */
const AUTHOR_HUES = [4, 28, 95, 145, 175, 205, 235, 265, 295, 325];

/** A stable colour per nickname (FNV-1a hash onto the palette), readable on light and dark backgrounds. */
function authorColor(nick: string): string {
  let hash = 0x811c9dc5;
  for (const char of nick) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  return `hsl(${AUTHOR_HUES[hash % AUTHOR_HUES.length]} 65% var(--author-lightness))`;
}
