// The rules of changing a message (server/changes/rules.ts) and how a change applies (server/changes/apply.ts).
import { describe, expect, it } from 'vitest';
import { applyChange, refold } from '../server/changes/apply';
import { isOneEmoji, mayDelete } from '../server/changes/rules';
import type { ChatMessage } from '../server/protocol';

const message: ChatMessage = { room: 'r', seq: 1, clientId: 'c-0000001', author: 'alice', account: true, text: 'hi', at: 1000 };
const entry = (seq: number, author: string, change: ChatMessage['change'], text = ''): ChatMessage => ({ room: 'r', seq, clientId: `c-${seq}xxxxxxx`, author, text, at: 1000 + seq, change });

describe('mayDelete', () => {
  const alice = { nick: 'alice', guest: false, since: 0 };
  it('lets the author delete, a moderator remove anyone\'s, and nobody else', () => {
    expect(mayDelete(alice, message, { moderator: false })).toBe('author');
    expect(mayDelete(alice, message, { moderator: true })).toBe('author');
    expect(mayDelete({ nick: 'mod', guest: false, since: 0 }, message, { moderator: true })).toBe('moderator');
    expect(mayDelete({ nick: 'bob', guest: false, since: 0 }, message, { moderator: false })).toBeUndefined();
    // A guest who took the name of an account's author is not its author.
    expect(mayDelete({ nick: 'alice', guest: true, since: 0 }, message, { moderator: false })).toBeUndefined();
  });

  it("lets a guest delete only what it wrote since its session began, not an earlier guest's of the same name", () => {
    const byGuest = { ...message, account: undefined, at: 5000 };
    expect(mayDelete({ nick: 'alice', guest: true, since: 5000 }, byGuest, { moderator: false })).toBe('author');
    expect(mayDelete({ nick: 'alice', guest: true, since: 5001 }, byGuest, { moderator: false })).toBeUndefined();
  });
});

describe('isOneEmoji', () => {
  it('takes one emoji, with skin tones, joiners, flags and keycaps, and refuses text', () => {
    for (const emoji of ['👍', '👍🏽', '❤️', '👨‍👩‍👧', '🇫🇷', '1️⃣', '🏳️‍🌈']) expect(isOneEmoji(emoji), emoji).toBe(true);
    for (const text of ['a', 'ok', '1', '👍👍', ' 👍', 'é', '', '★a']) expect(isOneEmoji(text), text).toBe(false);
  });
});

describe('applyChange', () => {
  it('applies each entry once, in any number of repeats, and ignores one the record reflects', () => {
    const edited = applyChange(message, entry(2, 'alice', { kind: 'edit', target: 1 }, 'hello'));
    expect(edited).toMatchObject({ text: 'hello', editedAt: 1002, lastChange: 2 });
    expect(applyChange(edited, entry(2, 'alice', { kind: 'edit', target: 1 }, 'hello'))).toBe(edited);
    const reacted = [entry(3, 'bob', { kind: 'reaction', target: 1, emoji: '👍', on: true }), entry(4, 'carol', { kind: 'reaction', target: 1, emoji: '👍', on: true }), entry(5, 'bob', { kind: 'reaction', target: 1, emoji: '👍', on: false })].reduce(applyChange, edited);
    expect(reacted.reactions).toEqual([{ emoji: '👍', names: ['carol'] }]);
    // A stale entry (older than the record, as when a history page loads after it arrived live) changes nothing.
    expect(applyChange(reacted, entry(3, 'bob', { kind: 'reaction', target: 1, emoji: '👍', on: true }))).toBe(reacted);
    const removed = applyChange(reacted, entry(6, 'mod', { kind: 'delete', target: 1, by: 'moderator' }));
    expect(removed).toEqual({ ...message, text: '', deleted: 'moderator', lastChange: 6 });
    expect(applyChange(removed, entry(7, 'alice', { kind: 'edit', target: 1 }, 'back'))).toMatchObject({ text: '', deleted: 'moderator' });
  });

  it('leaves other messages and other rooms alone', () => {
    expect(applyChange(message, entry(2, 'alice', { kind: 'edit', target: 5 }, 'x'))).toBe(message);
    expect(applyChange(message, { ...entry(2, 'alice', { kind: 'edit', target: 1 }, 'x'), room: 'q' })).toBe(message);
  });
});

describe('refold', () => {
  it('puts back what applying in seq order gives, from a record that applied the same changes out of order', () => {
    const changes = [
      entry(2, 'alice', { kind: 'edit', target: 1 }, 'first edit'),
      entry(3, 'dave', { kind: 'reaction', target: 1, emoji: '🎉', on: true }),
      entry(4, 'carol', { kind: 'reaction', target: 1, emoji: '👍', on: true }),
      entry(5, 'bob', { kind: 'reaction', target: 1, emoji: '👍', on: false }),
      entry(6, 'alice', { kind: 'edit', target: 1 }, 'second edit'),
      entry(7, 'other', { kind: 'edit', target: 9 }, 'not this one'),
    ];
    const inOrder = changes.reduce(applyChange, message);
    // Another writer applied 4, 5 and 6 before 2 and 3 reached the record: 2 and 3 were skipped.
    const outOfOrder = [changes[2], changes[3], changes[4], changes[0], changes[1]].reduce<ChatMessage>((m, c) => applyChange(m, c as ChatMessage), message);
    expect(outOfOrder).not.toEqual(inOrder);
    expect(refold(outOfOrder, [...changes].reverse())).toEqual(inOrder);
    expect(inOrder).toMatchObject({ text: 'second edit', reactions: [{ emoji: '🎉', names: ['dave'] }, { emoji: '👍', names: ['carol'] }], lastChange: 6 });
  });

  it('keeps a deleted message deleted and empty', () => {
    const changes = [entry(2, 'alice', { kind: 'edit', target: 1 }, ''), entry(3, 'alice', { kind: 'delete', target: 1, by: 'author' }), entry(4, 'alice', { kind: 'edit', target: 1 }, '')];
    const deleted = changes.reduce(applyChange, message);
    expect(refold(deleted, changes)).toEqual({ ...message, text: '', deleted: 'author', lastChange: 4 });
  });
});
