// Where you type. Enter sends, Shift+Enter starts a new line; a message sent while offline waits in
// the outbox and goes out when the connection is back. "@" offers the room's people to mention. Files
// attached (button, paste, drop) upload at once and go with the message: sent while they upload, it goes
// once they are up.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage, FileAttachment } from '../../../server/protocol';
import { useFocusOnMount } from '../focus';
import { complete, completions, mentionAt, type MentionQuery } from '../mentions';
import { AttachButton, AttachmentTray, useAttachments } from './attachments';
import { excerptOf } from './message-item';

interface Props {
  room: string;
  /** How the room is named to the reader (#lobby, @Bo, a private room's title). */
  label: string;
  maxLength: number;
  onSend: (text: string, files?: FileAttachment[]) => void;
  /** Called as the user types (the room model throttles what it tells the others). */
  onTyping?: () => void;
  /** The names "@" offers: the room's people but the user. */
  names?: readonly string[];
  /** The message the next send replies to: shown above the field, Escape or × drops it. */
  replyingTo?: ChatMessage | undefined;
  onCancelReply?: () => void;
  /** Up in an empty field: edit the user's last message; whether there was one. */
  onEditLast?: () => boolean;
}

export function Composer({ room, label, maxLength, onSend, onTyping, names = [], replyingTo, onCancelReply, onEditLast }: Props) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const length = [...text].length;
  const tooLong = length > maxLength;
  const empty = text.trim().length === 0;
  useFocusOnMount(input);
  const mention = useMentionPicker(input, names, setText);
  const attachments = useAttachments(room);
  const files = attachments.ready;
  /** Sent while files were uploading: the message goes as soon as they are up. */
  const [sendWhenUp, setSendWhenUp] = useState(false);
  const failed = attachments.pending.some((item) => item.state === 'failed');

  const send = () => {
    // What the field holds now: Enter can come before the render that follows the last keystroke (a busy
    // page), when `text` is still one keystroke behind.
    const current = input.current?.value ?? text;
    if ([...current].length > maxLength) return;
    // A message waits for its files to be up; a message of files alone needs no text.
    if (attachments.uploading) {
      setSendWhenUp(true);
      return;
    }
    setSendWhenUp(false);
    if (current.trim().length === 0 && files.length === 0) return;
    onSend(current, files.length > 0 ? files : undefined);
    attachments.clear();
    setText('');
    mention.close();
    input.current?.focus();
  };

  // The files are up: the message that waited for them goes, unless one failed (its reason is beside it,
  // and the person decides: remove it and send, or try another file). Another room: nothing waits.
  useEffect(() => {
    if (!sendWhenUp || attachments.uploading) return;
    if (failed) setSendWhenUp(false);
    else send();
  }, [sendWhenUp, attachments.uploading, failed]);
  useEffect(() => setSendWhenUp(false), [room]);

  return (
    <form
      class={`composer${attachments.dragging ? ' dropping' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <AttachmentTray attachments={attachments} />
      <AttachButton onFiles={attachments.add} />
      <label for="composer-input" class="visually-hidden">
        Message {label}
      </label>
      {replyingTo && (
        <p class="replying-to">
          <span class="reply-excerpt">
            Replying to <strong>{replyingTo.author}</strong>: {excerptOf(replyingTo)}
          </span>
          <button type="button" class="link-button" onClick={onCancelReply} aria-label="Cancel the reply">
            ×
          </button>
        </p>
      )}
      {mention.options.length > 0 && (
        <ul id="mention-options" class="mention-options" role="listbox" aria-label="People to mention">
          {mention.options.map((name, index) => (
            <li
              key={name}
              id={`mention-option-${index}`}
              role="option"
              aria-selected={index === mention.active}
              class={index === mention.active ? 'active' : undefined}
              // Picked on mousedown, before the field would lose the keyboard to the list.
              onMouseDown={(e) => {
                e.preventDefault();
                mention.pick(name);
              }}
            >
              @{name}
            </li>
          ))}
        </ul>
      )}
      <textarea
        id="composer-input"
        ref={input}
        rows={Math.min(6, text.split('\n').length)}
        placeholder={replyingTo ? `Reply to ${replyingTo.author}` : `Message ${label}`}
        value={text}
        onInput={(e) => {
          const value = e.currentTarget.value;
          setText(value);
          mention.follow();
          if (value.trim()) onTyping?.();
        }}
        onKeyDown={(e) => {
          if (mention.handleKey(e)) return;
          if (e.key === 'Escape' && replyingTo) {
            e.stopPropagation();
            onCancelReply?.();
          } else if (e.key === 'ArrowUp' && e.currentTarget.value === '' && onEditLast?.()) {
            e.preventDefault();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
        onClick={mention.follow}
        onPaste={attachments.onPaste}
        onBlur={mention.close}
        // A textbox that offers completions (a textarea cannot be a combobox, so no aria-expanded): the list
        // it controls, and its option that Enter would pick.
        aria-autocomplete="list"
        aria-controls={mention.options.length > 0 ? 'mention-options' : undefined}
        aria-activedescendant={mention.options.length > 0 ? `mention-option-${mention.active}` : undefined}
        aria-invalid={tooLong ? 'true' : undefined}
        aria-describedby="composer-count"
      />
      <span id="composer-count" class={`count${tooLong ? ' over' : ''}`} aria-live="polite">
        {length > maxLength * 0.9 ? `${length} / ${maxLength}` : ''}
      </span>
      <button type="submit" disabled={(empty && files.length === 0 && !attachments.uploading) || tooLong || sendWhenUp} title={sendWhenUp ? 'Sends as soon as its files are up' : undefined}>
        {sendWhenUp ? 'Sending…' : 'Send'}
      </button>
    </form>
  );
}

interface MentionPicker {
  /** The names offered for the mention being typed; empty when none is. */
  options: string[];
  /** The index of the option Enter or Tab would pick. */
  active: number;
  /** Reads the mention being typed at the caret (after input, or a click that moved the caret). */
  follow: () => void;
  pick: (name: string) => void;
  close: () => void;
  /** Handles the list's keys (arrows, Enter, Tab, Escape) while it is open; whether it did. */
  handleKey: (event: KeyboardEvent) => boolean;
}

function useMentionPicker(input: { current: HTMLTextAreaElement | null }, names: readonly string[], setText: (text: string) => void): MentionPicker {
  const [query, setQuery] = useState<MentionQuery>();
  const [active, setActive] = useState(0);
  const options = query ? completions(query.prefix, names) : [];
  const close = () => setQuery(undefined);
  const follow = () => {
    const field = input.current;
    if (!field) return;
    setQuery(mentionAt(field.value, field.selectionStart));
    setActive(0);
  };
  const pick = (name: string) => {
    const field = input.current;
    if (!field || !query) return;
    const next = complete(field.value, field.selectionStart, query, name);
    field.value = next.value;
    field.setSelectionRange(next.caret, next.caret);
    setText(next.value);
    close();
  };
  const handleKey = (event: KeyboardEvent): boolean => {
    if (options.length === 0 || event.isComposing) return false;
    const move = (by: number) => setActive((active + by + options.length) % options.length);
    switch (event.key) {
      case 'ArrowDown':
        move(1);
        break;
      case 'ArrowUp':
        move(-1);
        break;
      case 'Enter':
      case 'Tab':
        pick(options[active] ?? options[0] ?? '');
        break;
      case 'Escape':
        event.stopPropagation(); // the list closes, not the phone's sidebar
        close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  };
  return { options, active: Math.min(active, Math.max(0, options.length - 1)), follow, pick, close, handleKey };
}
