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

describe('RoomView', () => {
  it('has no cursor until the first answer, then resumes from the last seq', () => {
    const view = new RoomView('lobby');
    expect(view.cursor).toBeUndefined();
    view.replace([], false, 'e1');
    expect(view.cursor).toBe(0);
    view.merge([message(1), message(2)]);
    expect(view.cursor).toBe(2);
  });

  it('keeps each seq once and in order, however the copies arrive', () => {
    const view = new RoomView('lobby');
    view.replace([message(3), message(4)], true, 'e1');
    // A replay after a transport switch overlaps with what live delivery already brought.
    expect(view.merge([message(5), message(4), message(6)])).toBe(2);
    expect(view.merge([message(6), message(5)])).toBe(0);
    view.prepend([message(1), message(2)], false);
    expect(view.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(view.hasOlder).toBe(false);
  });

  it('ignores messages of another room', () => {
    const view = new RoomView('lobby');
    view.replace([], false, 'e1');
    expect(view.merge([message(1, 'dev')])).toBe(0);
    expect(view.messages).toHaveLength(0);
  });

  it('spots a live message that would leave a hole', () => {
    const view = new RoomView('lobby');
    view.replace([message(1), message(2)], false, 'e1');
    expect(view.wouldLeaveGap(message(3))).toBe(false);
    expect(view.wouldLeaveGap(message(5))).toBe(true);
  });

  it('forgets everything on a reset, so the next subscribe asks for the latest page', () => {
    const view = new RoomView('lobby');
    view.replace([message(7)], true, 'e1');
    view.clear();
    expect(view.cursor).toBeUndefined();
    expect(view.messages).toHaveLength(0);
  });
});
