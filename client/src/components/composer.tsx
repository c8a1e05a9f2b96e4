// Where you type. Enter sends, Shift+Enter starts a new line; a message sent while offline waits in
// the outbox and goes out when the connection is back.
import { useRef, useState } from 'preact/hooks';
import { useFocusOnMount } from '../focus';

interface Props {
  room: string;
  maxLength: number;
  onSend: (text: string) => void;
  /** Called as the user types (the room model throttles what it tells the others). */
  onTyping?: () => void;
}

export function Composer({ room, maxLength, onSend, onTyping }: Props) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const length = [...text].length;
  const tooLong = length > maxLength;
  const empty = text.trim().length === 0;
  useFocusOnMount(input);

  const send = () => {
    // What the field holds now: Enter can come before the render that follows the last keystroke (a busy
    // page), when `text` is still one keystroke behind.
    const current = input.current?.value ?? text;
    if (current.trim().length === 0 || [...current].length > maxLength) return;
    onSend(current);
    setText('');
    input.current?.focus();
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-input" class="visually-hidden">
        Message #{room}
      </label>
      <textarea
        id="composer-input"
        ref={input}
        rows={Math.min(6, text.split('\n').length)}
        placeholder={`Message #${room}`}
        value={text}
        onInput={(e) => {
          const value = e.currentTarget.value;
          setText(value);
          if (value.trim()) onTyping?.();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
        aria-invalid={tooLong ? 'true' : undefined}
        aria-describedby="composer-count"
      />
      <span id="composer-count" class={`count${tooLong ? ' over' : ''}`} aria-live="polite">
        {length > maxLength * 0.9 ? `${length} / ${maxLength}` : ''}
      </span>
      <button type="submit" disabled={empty || tooLong}>
        Send
      </button>
    </form>
  );
}
