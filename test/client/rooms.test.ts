// The sidebar's unread counts (client/src/rooms.ts): messages only, never the change entries (edits,
// deletes, reactions) that share the room's log.
import { describe, expect, it } from 'vitest';
import { readHead, unreadCount } from '../../client/src/rooms';
import type { ChatMessage, HistoryResponse } from '../../server/protocol';

const entry = (seq: number, extra: Partial<ChatMessage> = {}): ChatMessage => ({ room: 'dev', seq, clientId: `client-${seq}`, author: 'Bo', text: `message ${seq}`, at: seq, ...extra });

function historyOf(log: ChatMessage[]) {
  return async (_room: string, _before: number | undefined, limit = 50): Promise<HistoryResponse> => ({ room: 'dev', epoch: 'e', messages: log.slice(-limit), hasOlder: log.length > limit });
}

describe('unread counts', () => {
  it('count the messages after the last one read, and their mentions, but no change entry nor a deleted message', async () => {
    const log = [
      entry(1),
      entry(2, { text: '', deleted: 'author', lastChange: 6 }),
      entry(3, { text: 'hey @Ana' }),
      entry(4, { text: 'hey @Ana, edited', change: { kind: 'edit', target: 3 } }),
      entry(5, { text: '', change: { kind: 'reaction', target: 1, emoji: '👍', on: true } }),
      entry(6, { text: '', change: { kind: 'delete', target: 2, by: 'author' } }),
    ];
    const head = await readHead('dev', 1, 'Ana', undefined, historyOf(log));
    expect(head && unreadCount(head, 1)).toBe(1);
    expect(head?.mentions).toEqual([3]);
    // Only changes since: nothing unread.
    const later = await readHead('dev', 3, 'Ana', undefined, historyOf(log));
    expect(later && unreadCount(later, 3)).toBe(0);
  });

  it('count every entry it did not read past the newest it looked at', () => {
    expect(unreadCount({ seq: 300, from: 201, messages: [201, 250], mentions: [] }, 10)).toBe(2 + 190);
  });
});
