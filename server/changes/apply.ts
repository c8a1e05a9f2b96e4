// How a change entry (an edit, a delete, a reaction) changes the message it names. One pure function,
// used by the stores when they materialize a change into the stored message, and by the page when a change
// arrives live: both reach the same state, and applying an entry twice, or one the record already reflects,
// changes nothing. No imports beyond the protocol's types: the page bundles this file.
import type { ChatMessage, Reaction } from '../protocol';

/** Whether `entry` is a change entry rather than a message shown in the list. */
export function isChange(entry: ChatMessage): boolean {
  return entry.change !== undefined;
}

/**
 * `target` with the change `entry` applied (`target` itself when the entry changes nothing: it is not a
 * change of this message, or the record already reflects it, or the message is deleted).
 */
export function applyChange(target: ChatMessage, entry: ChatMessage): ChatMessage {
  const change = entry.change;
  if (!change || change.target !== target.seq || entry.room !== target.room || target.change) return target;
  if (entry.seq <= (target.lastChange ?? 0)) return target;
  // A deleted message stays deleted and empty: nothing after its delete brings text or reactions back.
  if (target.deleted) return { ...target, lastChange: entry.seq };
  switch (change.kind) {
    case 'edit':
      return { ...target, text: entry.text, editedAt: entry.at, lastChange: entry.seq };
    case 'delete': {
      // Its files are deleted with it (server/files/files.ts): the record no longer names them.
      const { reactions: _reactions, editedAt: _editedAt, files: _files, ...rest } = target;
      return { ...rest, text: '', deleted: change.by, lastChange: entry.seq };
    }
    case 'reaction':
      return withReactions({ ...target, lastChange: entry.seq }, react(target.reactions ?? [], change.emoji, entry.author, change.on));
  }
}

/**
 * `message` as all of `changes` (every change entry of it, in any order) leave it, from scratch: what a
 * store that applied them out of seq order (two writers at once) puts back. Its text is its latest edit's, or
 * its own when it has none (no edit replaced it then); its reactions are those entries' again.
 */
export function refold(message: ChatMessage, changes: readonly ChatMessage[]): ChatMessage {
  const { reactions: _reactions, editedAt: _editedAt, deleted: _deleted, lastChange: _lastChange, ...base } = message;
  const ordered = changes.filter((entry) => entry.change?.target === message.seq).sort((a, b) => a.seq - b.seq);
  return ordered.reduce(applyChange, base);
}

/** The reactions after `name` turned `emoji` on or off; an emoji nobody uses any more goes away. */
function react(reactions: readonly Reaction[], emoji: string, name: string, on: boolean): Reaction[] {
  const existing = reactions.find((reaction) => reaction.emoji === emoji);
  if (!existing) return on ? [...reactions, { emoji, names: [name] }] : [...reactions];
  const names = existing.names.filter((other) => other !== name);
  if (on) names.push(name);
  return reactions.flatMap((reaction) => (reaction !== existing ? [reaction] : names.length > 0 ? [{ emoji, names }] : []));
}

function withReactions(message: ChatMessage, reactions: Reaction[]): ChatMessage {
  const { reactions: _old, ...rest } = message;
  return reactions.length > 0 ? { ...rest, reactions } : rest;
}
