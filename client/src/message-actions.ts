// What the reader is doing to messages, shared by the message list and the composer: the message being
// replied to (the composer shows its quote) and the one being edited in place (Up in an empty composer
// edits the reader's last message).
import { useEffect, useState } from 'preact/hooks';
import type { ChatMessage, FileAttachment } from '../../server/protocol';
import type { RoomModel } from './use-room';

export interface MessageActions {
  /** The message the next send answers, if any. */
  replyingTo: ChatMessage | undefined;
  reply(seq: number): void;
  cancelReply(): void;
  /** The seq of the message edited in place, if any. */
  editing: number | undefined;
  edit(seq: number | undefined): void;
  /** Edits the reader's last message still shown; whether there was one. */
  editLast(): boolean;
  /** Sends `text` (and files uploaded for it), as a reply when one is being written. */
  send(text: string, files?: FileAttachment[]): void;
}

export function useMessageActions(model: RoomModel, me: string, room: string): MessageActions {
  const [replyTo, setReplyTo] = useState<number>();
  const [editing, setEditing] = useState<number>();
  useEffect(() => {
    setReplyTo(undefined);
    setEditing(undefined);
  }, [room]);
  const focusComposer = () => document.getElementById('composer-input')?.focus();
  return {
    replyingTo: replyTo === undefined ? undefined : model.message(replyTo),
    reply: (seq) => {
      setReplyTo(seq);
      focusComposer();
    },
    cancelReply: () => setReplyTo(undefined),
    editing,
    edit: (seq) => {
      setEditing(seq);
      if (seq === undefined) focusComposer();
    },
    editLast: () => {
      const last = [...model.messages].reverse().find((message) => message.author === me && !message.deleted);
      if (last) setEditing(last.seq);
      return last !== undefined;
    },
    send: (text, files) => {
      model.send(text, { replyTo, files });
      setReplyTo(undefined);
    },
  };
}
