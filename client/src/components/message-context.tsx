// A message found by a search, in its room, with the messages around it: read from the room's history, in
// place of the live list, until the reader goes back to the latest messages. The live room goes on beneath
// (its cursor, its sends); this view only reads.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { isChange } from '../../../server/changes/apply';
import type { ChatMessage } from '../../../server/protocol';
import { ApiFailure, fetchHistory } from '../api';
import { MessageText } from './message-text';

/** Messages shown on each side of the one found, and added by each "Older" or "Newer". */
const AROUND = 20;

interface Props {
  room: string;
  /** How the room is named: #name, a private room's title, @person for a DM. */
  label: string;
  seq: number;
  onLatest: () => void;
}

export function MessageContext({ room, label, seq, onLatest }: Props) {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [hasOlder, setHasOlder] = useState(false);
  const [hasNewer, setHasNewer] = useState(false);
  const [problem, setProblem] = useState<string>();
  const target = useRef<HTMLElement>(null);

  useEffect(() => {
    let current = true;
    setMessages([]);
    setProblem(undefined);
    fetchHistory(room, seq + AROUND + 1, 2 * AROUND + 1).then(
      (page) => {
        if (!current) return;
        setMessages(page.messages);
        setHasOlder(page.hasOlder);
        setHasNewer((page.messages.at(-1)?.seq ?? 0) >= seq + AROUND);
      },
      (error: unknown) => current && setProblem(error instanceof ApiFailure ? error.message : 'the messages could not be loaded'),
    );
    return () => {
      current = false;
    };
  }, [room, seq]);

  // Once loaded, the message found is in the middle of the view.
  const loaded = messages.length > 0;
  useLayoutEffect(() => {
    if (loaded) target.current?.scrollIntoView({ block: 'center' });
  }, [loaded]);

  const older = async () => {
    const first = messages[0]?.seq;
    if (first === undefined) return;
    const page = await fetchHistory(room, first, AROUND);
    setMessages((shown) => [...page.messages.filter((message) => message.seq < first), ...shown]);
    setHasOlder(page.hasOlder);
  };
  const newer = async () => {
    const last = messages.at(-1)?.seq;
    if (last === undefined) return;
    const page = await fetchHistory(room, last + AROUND + 1, AROUND);
    const added = page.messages.filter((message) => message.seq > last);
    setMessages((shown) => [...shown, ...added]);
    setHasNewer(added.length === AROUND);
  };

  return (
    <div class="messages-wrap">
      <div class="messages context" role="log" aria-label={`Messages around the one found in ${label}`}>
        <p class="context-bar">
          Viewing an earlier message.{' '}
          <button type="button" class="link-button" onClick={onLatest}>
            Back to the latest messages
          </button>
        </p>
        {problem && <p role="alert">The messages could not be loaded: {problem}.</p>}
        {hasOlder && loaded && (
          <button type="button" class="load-older" onClick={() => void older()}>
            Older messages
          </button>
        )}
        {messages.filter((message) => !isChange(message)).map((message) => (
          <article
            key={message.seq}
            ref={message.seq === seq ? target : undefined}
            class={`group${message.seq === seq ? ' found' : ''}`}
            aria-label={`Message from ${message.author}${message.seq === seq ? ', the one found' : ''}`}
            aria-current={message.seq === seq ? 'true' : undefined}
          >
            <header class="group-header">
              <span class="author" dir="auto">
                {message.author}
              </span>{' '}
              <time class="time" dateTime={new Date(message.at).toISOString()}>
                {new Date(message.at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}
              </time>
            </header>
            {message.deleted ? <p class="deleted-text">This message was deleted.</p> : <MessageText seq={message.seq} text={message.text} />}
          </article>
        ))}
        {hasNewer && (
          <button type="button" class="load-older" onClick={() => void newer()}>
            Newer messages
          </button>
        )}
      </div>
    </div>
  );
}
