import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../server/protocol';
import { RoomView } from '../../client/src/room-view';

const message = (seq: number, room = 'lobby'): ChatMessage => ({
  room,
  seq,
  clientId: `client-${seq}`,
  author: 'Ana',
  text: `message ${seq}`,
  at: 1_700_000_000_000 + seq,
});
const seqs = (view: RoomView) => view.messages.map((m) => m.seq);

describe('RoomView', () => {
  it('has no cursor until the first answer, then resumes from the last seq the stream delivered', () => {
    const view = new RoomView('lobby');
    expect(view.cursor).toBeUndefined();
    view.replace([], false, 'e1');
    expect(view.cursor).toBe(0);
    view.take([message(1), message(2)]);
    expect(view.cursor).toBe(2);
  });

  it('keeps each seq once and in order, however the copies arrive', () => {
    const view = new RoomView('lobby');
    view.replace([message(3), message(4)], true, 'e1');
    // A replay after a transport switch overlaps with what live delivery already brought.
    expect(view.take([message(4), message(5), message(6)])).toEqual({ added: 2, gap: false });
    expect(view.take([message(5), message(6)])).toEqual({ added: 0, gap: false });
    view.prepend([message(1), message(2)], false);
    expect(seqs(view)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(view.hasOlder).toBe(false);
  });

  it('ignores messages of another room', () => {
    const view = new RoomView('lobby');
    view.replace([], false, 'e1');
    expect(view.take([message(1, 'dev')]).added).toBe(0);
    expect(view.messages).toHaveLength(0);
  });

  it('takes nothing past a hole, and says so, so that the connection asks again from the cursor', () => {
    const view = new RoomView('lobby');
    view.replace([message(1), message(2)], false, 'e1');
    expect(view.take([message(3)])).toEqual({ added: 1, gap: false });
    expect(view.take([message(5), message(6)])).toEqual({ added: 0, gap: true });
    expect(view.cursor).toBe(3);
    expect(view.take([message(4), message(5), message(6)])).toEqual({ added: 3, gap: false });
    expect(view.cursor).toBe(6);
  });

  it('shows our acked message at once but does not move the cursor past what the stream has not brought', () => {
    // The long-poll loss of issue 13: seq 41 (another's) not yet delivered, our POST answered with seq 42.
    const view = new RoomView('lobby');
    view.replace([message(40)], true, 'e1');
    expect(view.acked(message(42))).toBe(true);
    expect(seqs(view)).toEqual([40, 42]);
    expect(view.cursor).toBe(40); // the next /wait asks after=40, and 41 comes
    expect(view.take([message(41), message(42)])).toEqual({ added: 2, gap: false });
    expect(seqs(view)).toEqual([40, 41, 42]);
    expect(view.cursor).toBe(42);
    // An ack for what the stream already delivered changes nothing.
    expect(view.acked(message(41))).toBe(false);
    expect(seqs(view)).toEqual([40, 41, 42]);
  });

  it('forgets acked messages of another epoch when a new page replaces the view', () => {
    const view = new RoomView('lobby');
    view.replace([message(7)], false, 'e1');
    view.acked(message(9));
    view.replace([message(1)], false, 'e2');
    expect(seqs(view)).toEqual([1]);
  });

  it('forgets everything on a reset, so the next subscribe asks for the latest page', () => {
    const view = new RoomView('lobby');
    view.replace([message(7)], true, 'e1');
    view.acked(message(9));
    view.clear();
    expect(view.cursor).toBeUndefined();
    expect(view.messages).toHaveLength(0);
  });
});

describe('RoomView: changes to messages', () => {
  const change = (seq: number, kind: 'edit' | 'delete' | 'reaction', target: number, author = 'Ana'): ChatMessage => ({
    ...message(seq),
    author,
    text: kind === 'edit' ? `edited by ${seq}` : '',
    change: kind === 'edit' ? { kind, target } : kind === 'delete' ? { kind, target, by: 'author' } : { kind, target, emoji: '👍', on: true },
  });

  it('shows only messages, each as its changes left it, and moves the cursor over the changes', () => {
    const view = new RoomView('lobby');
    view.replace([message(1), message(2)], false, 'e1');
    view.take([change(3, 'edit', 1), change(4, 'reaction', 2, 'Bo'), message(5), change(6, 'delete', 2)]);
    expect(view.cursor).toBe(6);
    expect(seqs(view)).toEqual([1, 2, 5]);
    expect(view.messages[0]).toMatchObject({ text: 'edited by 3', editedAt: message(3).at });
    expect(view.messages[1]).toMatchObject({ text: '', deleted: 'author' });
    // A replay that repeats them changes nothing.
    view.take([change(3, 'edit', 1), change(4, 'reaction', 2, 'Bo')]);
    expect(view.messages[1]).toMatchObject({ text: '', deleted: 'author' });
  });

  it('applies our acked change at once, and once only when the stream brings it', () => {
    const view = new RoomView('lobby');
    view.replace([message(1)], false, 'e1');
    view.acked(change(3, 'reaction', 1));
    expect(view.messages[0]?.reactions).toEqual([{ emoji: '👍', names: ['Ana'] }]);
    view.take([change(2, 'reaction', 1, 'Bo'), change(3, 'reaction', 1)]);
    expect(seqs(view)).toEqual([1]);
    expect(view.messages[0]?.reactions).toEqual([{ emoji: '👍', names: ['Bo', 'Ana'] }]);
  });

  it('takes a change that arrives before its target\'s page: the page as stored, or the change once the page is in', () => {
    const view = new RoomView('lobby');
    view.replace([message(3), message(4)], true, 'e1');
    view.take([change(5, 'edit', 1), change(6, 'edit', 2)]);
    // The store applied 5 to message 1 before the page was read, but the page was read before 6 was stored.
    const current1 = { ...message(1), text: 'edited by 5', editedAt: message(5).at, lastChange: 5 };
    view.prepend([current1, message(2)], false);
    expect(view.messages.map((m) => m.text)).toEqual(['edited by 5', 'edited by 6', 'message 3', 'message 4']);
    // An older change in the page, which the stored message already reflects, is not applied again.
    const view2 = new RoomView('lobby');
    view2.replace([change(3, 'edit', 1)], true, 'e1');
    view2.prepend([{ ...message(1), text: 'edited later', lastChange: 9 }, message(2)], false);
    expect(view2.messages.map((m) => m.text)).toEqual(['edited later', 'message 2']);
  });
});
