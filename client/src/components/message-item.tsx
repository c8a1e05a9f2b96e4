// One message in the list, as it now stands: the quote of the message it replies to, its text (or the
// form that edits it in place, or "message deleted"), "(edited)", its reactions, and the actions on it
// (Reply, React, Edit, Delete), shown on hover and when the keyboard is on the message.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatMessage, Reaction } from '../../../server/protocol';
import { parseMessage, plainOf, type Block } from '../markdown';
import { mentions } from '../mentions';
import type { RoomModel } from '../use-room';
import { MessageFiles } from './message-files';
import { MessageText } from './message-text';

/** What the picker offers: the reactions people use most. */
export const COMMON_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '🙏', '👀', '✅', '🔥'];
/** A reply's quote shows the start of the original, at most this many characters. */
const EXCERPT_LENGTH = 90;

interface Props {
  message: ChatMessage;
  me: string;
  /** Whether the reader wrote it. */
  mine: boolean;
  /** The reader moderates the room: Delete shows on everyone's messages. */
  canModerate: boolean;
  model: RoomModel;
  editing: boolean;
  /** Starts (seq) or ends (undefined) editing a message in place. */
  onEdit: (seq: number | undefined) => void;
  onReply: (seq: number) => void;
  onJump: (seq: number) => void;
}

export function MessageItem({ message, me, mine, canModerate, model, editing, onEdit, onReply, onJump }: Props) {
  const [picking, setPicking] = useState(false);
  const [confirming, setConfirming] = useState(false);
  /** Where the keyboard goes when Delete asks to confirm: Cancel, so that a stray Enter deletes nothing. */
  const cancelDelete = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) cancelDelete.current?.focus();
  }, [confirming]);
  const { seq } = message;
  const deleted = message.deleted !== undefined;
  const mayDelete = !deleted && (mine || canModerate);
  /** Saves an edit (an unchanged text sends nothing) and leaves the form. */
  const save = (text: string) => {
    if (text !== message.text) model.edit(seq, text);
    onEdit(undefined);
  };
  const reactButton = useRef<HTMLButtonElement>(null);
  /** Closes the picker, giving the keyboard back to React if it was in the picker. */
  const closePicker = () => {
    if (picking && document.activeElement?.closest('.emoji-picker')) reactButton.current?.focus();
    setPicking(false);
  };
  const toggle = (emoji: string) => {
    const reaction = message.reactions?.find((r) => r.emoji === emoji);
    model.react(seq, emoji, !reaction?.names.includes(me));
    closePicker();
  };

  return (
    <div class={`message${deleted ? ' deleted' : ''}${editing ? ' editing' : ''}`} id={`message-${seq}`} tabIndex={-1}>
      {message.replyTo !== undefined && <ReplyQuote seq={message.replyTo} model={model} onJump={onJump} />}
      {deleted ? (
        <p class="text deleted-text" data-seq={seq}>{message.deleted === 'moderator' ? 'message removed by a moderator' : 'message deleted'}</p>
      ) : editing ? (
        <EditForm text={message.text} onSave={(text) => save(text)} onCancel={() => onEdit(undefined)} />
      ) : (
        <>
          {message.text.trim() || !message.files ? (
            <MessageText seq={seq} text={message.text} mentionsMe={!mine && mentions(message.text, me)} />
          ) : (
            // A message of files alone still carries its seq, as every stored message's element does.
            <span class="files-only" data-seq={seq} />
          )}
          {message.files && <MessageFiles files={message.files} />}
          {message.editedAt !== undefined && (
            <span class="edited" title={`Edited ${new Date(message.editedAt).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}`}>
              (edited)
            </span>
          )}
        </>
      )}
      {!deleted && message.reactions && <Reactions reactions={message.reactions} me={me} toggle={toggle} add={() => setPicking(true)} />}
      {!deleted && !editing && (
        <div class={`message-actions${picking || confirming ? ' open' : ''}`} role="toolbar" aria-label="Message actions">
          {confirming ? (
            <span
              class="confirm"
              role="alertdialog"
              aria-label={mine ? 'Delete this message?' : 'Remove this message for everyone?'}
              onKeyDown={(e) => {
                if (e.key !== 'Escape') return;
                e.stopPropagation();
                setConfirming(false);
              }}
            >
              {mine ? 'Delete this message?' : 'Remove this message for everyone?'}{' '}
              <button
                type="button"
                class="danger"
                onClick={() => {
                  setConfirming(false);
                  model.remove(seq);
                }}
              >
                {mine ? 'Delete' : 'Remove'}
              </button>
              <button type="button" ref={cancelDelete} onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <>
              <button type="button" onClick={() => onReply(seq)} title="Reply">
                Reply
              </button>
              <button type="button" ref={reactButton} onClick={() => setPicking(!picking)} aria-expanded={picking} title="Add a reaction">
                React
              </button>
              {mine && (
                <button type="button" onClick={() => onEdit(seq)} title="Edit">
                  Edit
                </button>
              )}
              {mayDelete && (
                <button type="button" onClick={() => setConfirming(true)} title={mine ? 'Delete' : 'Remove as moderator'}>
                  Delete
                </button>
              )}
            </>
          )}
          {picking && <EmojiPicker pick={toggle} close={closePicker} />}
        </div>
      )}
    </div>
  );
}

/** Reaction chips: the emoji and how many, highlighted when the reader is among them; names on hover; a click toggles. */
function Reactions({ reactions, me, toggle, add }: { reactions: readonly Reaction[]; me: string; toggle: (emoji: string) => void; add: () => void }) {
  return (
    <div class="reactions">
      {reactions.map(({ emoji, names }) => {
        const mine = names.includes(me);
        const who = names.map((name) => (name === me ? 'you' : name)).join(', ');
        return (
          <button key={emoji} type="button" class={`reaction${mine ? ' mine' : ''}`} aria-pressed={mine} title={`${who} reacted with ${emoji}`} onClick={() => toggle(emoji)}>
            <span class="reaction-emoji">{emoji}</span> <span class="reaction-count">{names.length}</span>
          </button>
        );
      })}
      <button type="button" class="reaction add-reaction" onClick={add} aria-label="Add a reaction" title="Add a reaction">
        +
      </button>
    </div>
  );
}

function EmojiPicker({ pick, close }: { pick: (emoji: string) => void; close: () => void }) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => first.current?.focus(), []);
  return (
    <div
      class="emoji-picker"
      role="group"
      aria-label="Pick a reaction"
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        e.stopPropagation();
        close();
      }}
    >
      {COMMON_EMOJI.map((emoji, i) => (
        <button key={emoji} type="button" ref={i === 0 ? first : undefined} onClick={() => pick(emoji)} aria-label={`React with ${emoji}`}>
          {emoji}
        </button>
      ))}
    </div>
  );
}

/** Edits in place: Enter saves, Shift+Enter starts a new line, Escape cancels. */
function EditForm({ text, onSave, onCancel }: { text: string; onSave: (text: string) => void; onCancel: () => void }) {
  const field = useRef<HTMLTextAreaElement>(null);
  const [value, setValue] = useState(text);
  useEffect(() => {
    const el = field.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const save = () => {
    const current = field.current?.value ?? value;
    if (current.trim()) onSave(current);
  };
  return (
    <form
      class="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <textarea
        ref={field}
        aria-label="Edit message"
        rows={Math.min(8, value.split('\n').length)}
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            onCancel();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            save();
          }
        }}
      />
      <span class="edit-hint">
        Enter to save, Escape to cancel{' '}
        <button type="submit" disabled={!value.trim()}>
          Save
        </button>
        <button type="button" class="link-button" onClick={onCancel}>
          Cancel
        </button>
      </span>
    </form>
  );
}

/** The quote a reply shows of the message it answers: its author and first words; a click scrolls to it. */
export function ReplyQuote({ seq, model, onJump }: { seq: number; model: RoomModel; onJump: (seq: number) => void }) {
  const loaded = model.message(seq);
  const [fetched, setFetched] = useState<ChatMessage | null>();
  useEffect(() => {
    if (loaded || fetched !== undefined) return;
    let stopped = false;
    model.fetchMessage(seq).then(
      (message) => !stopped && setFetched(message ?? null),
      () => !stopped && setFetched(null),
    );
    return () => {
      stopped = true;
    };
  }, [seq, loaded === undefined]);
  const original = loaded ?? fetched ?? undefined;
  return (
    <button type="button" class="reply-quote" onClick={() => onJump(seq)} title="Show the original message">
      <span class="reply-mark" aria-hidden="true">
        ↪
      </span>{' '}
      {original ? (
        <>
          <span class="reply-author">{original.author}</span> <span class="reply-excerpt">{excerptOf(original)}</span>
        </>
      ) : (
        <span class="reply-excerpt">{fetched === null ? 'a message that is gone' : 'Loading…'}</span>
      )}
    </button>
  );
}

/** The start of a message as one line, for a reply's quote. */
export function excerptOf(message: ChatMessage): string {
  if (message.deleted) return message.deleted === 'moderator' ? 'message removed by a moderator' : 'message deleted';
  const line = plainOfBlocks(parseMessage(message.text)).replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length > EXCERPT_LENGTH ? `${chars.slice(0, EXCERPT_LENGTH).join('')}…` : line;
}

/** The text a reader sees in blocks, without their formatting. */
function plainOfBlocks(blocks: readonly Block[]): string {
  return blocks
    .map((block) => {
      switch (block.kind) {
        case 'paragraph':
          return plainOf(block.content);
        case 'code':
          return block.text;
        case 'quote':
          return plainOfBlocks(block.blocks);
        case 'list':
          return block.items.map(plainOfBlocks).join(' ');
      }
    })
    .join(' ');
}
