// The contract every Store keeps (server/store/store.ts), as one suite that store.contract.test.ts
// runs against each store: a room is an append-only log with gapless seq, a resend is the original,
// the feed emits each new message once and in order, and the data and epoch outlive a restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../server/protocol';
import { StoreUnavailableError, type AppendResult, type NewMessage, type Store } from '../server/store/store';
import { newClientId, range, seqs, withTimeout } from './helpers';

const FEED_TIMEOUT_MS = 10_000;

/**
 * @param open  opens a fresh, empty store (its own data, a new epoch)
 * @param reopen  opens the same data as `closed` again, after it was closed
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<Store>,
  reopen: (closed: Store) => Promise<Store>,
): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    const closed = new WeakSet<Store>();
    let store: Store;

    const track = (s: Store) => {
      opened.push(s);
      return s;
    };
    const closeOnce = async (s: Store) => {
      if (closed.has(s)) return;
      closed.add(s);
      await s.close();
    };

    beforeEach(async () => {
      store = track(await open());
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await closeOnce(s);
    });

    const msg = (room: string, text = 'hello', clientId = newClientId(), author = 'alice'): NewMessage => ({ room, clientId, author, text });
    const appendAll = (s: Store, messages: NewMessage[]) => Promise.all(messages.map((m) => s.append(m)));
    const appendInOrder = async (s: Store, room: string, count: number): Promise<AppendResult[]> => {
      const results: AppendResult[] = [];
      for (let i = 1; i <= count; i++) results.push(await s.append(msg(room, `message ${i}`)));
      return results;
    };

    /** Collects the feed until `done` says it has all it waits for (event-driven, with a timeout). */
    const collectFeed = (s: Store) => {
      const seen: ChatMessage[] = [];
      let check: (() => void) | undefined;
      const stop = s.onAppend((messages) => {
        seen.push(...messages);
        check?.();
      });
      const until = (done: (seen: ChatMessage[]) => boolean, what: string): Promise<void> =>
        withTimeout(
          new Promise<void>((resolve) => {
            check = () => {
              if (done(seen)) resolve();
            };
            check();
          }),
          FEED_TIMEOUT_MS,
          what,
        );
      return { seen, until, stop };
    };

    it('gives the first message of a room seq 1, then 2, 3, ... with no holes', async () => {
      const results = await appendInOrder(store, 'alpha', 5);
      expect(results.map((r) => r.duplicate)).toEqual([false, false, false, false, false]);
      expect(results.map((r) => r.message.seq)).toEqual([1, 2, 3, 4, 5]);
      const first = results[0]?.message;
      expect(first).toMatchObject({ room: 'alpha', seq: 1, author: 'alice', text: 'message 1' });
      expect(typeof first?.at).toBe('number');
      expect(Math.abs((first?.at ?? 0) - Date.now())).toBeLessThan(60_000);
      expect(await store.head('alpha')).toBe(5);
      expect(await store.readAfter('alpha', 0, 100)).toEqual(results.map((r) => r.message));
    });

    it('keeps rooms independent: each has its own seq from 1', async () => {
      const a1 = await store.append(msg('room-a'));
      const b1 = await store.append(msg('room-b'));
      const a2 = await store.append(msg('room-a'));
      const ab = await store.append(msg('room-ab'));
      expect([a1.message.seq, a2.message.seq, b1.message.seq, ab.message.seq]).toEqual([1, 2, 1, 1]);
      expect(await store.head('room-a')).toBe(2);
      expect(await store.head('room-b')).toBe(1);
      expect(await store.readAfter('room-a', 0, 100)).toEqual([a1.message, a2.message]);
      expect(await store.readBefore('room-a', undefined, 100)).toEqual([a1.message, a2.message]);
      expect(await store.readAfter('room-b', 0, 100)).toEqual([b1.message]);
    });

    it('gives 200 concurrent appends across 3 rooms gapless seqs, each clientId stored once', async () => {
      const rooms = ['c0', 'c1', 'c2'];
      const sent = range(0, 199).map((i) => msg(rooms[i % 3] ?? 'c0', `burst ${i}`));
      const results = await appendAll(store, sent);
      expect(results.every((r) => !r.duplicate)).toBe(true);
      results.forEach((r, i) => expect(r.message.clientId).toBe(sent[i]?.clientId));
      for (const room of rooms) {
        const expected = sent.filter((m) => m.room === room);
        const acked = results.filter((r) => r.message.room === room).map((r) => r.message.seq);
        expect([...acked].sort((x, y) => x - y)).toEqual(range(1, expected.length));
        const stored = await store.readAfter(room, 0, 1000);
        expect(seqs(stored)).toEqual(range(1, expected.length));
        expect(new Set(stored.map((m) => m.clientId))).toEqual(new Set(expected.map((m) => m.clientId)));
        expect(await store.head(room)).toBe(expected.length);
      }
    });

    it('turns a resend of the same (room, clientId) into the original, writing nothing new', async () => {
      const original = await store.append(msg('dup', 'first try', 'client-id-1'));
      const resend = await store.append(msg('dup', 'edited on retry', 'client-id-1', 'someone-else'));
      expect(resend.duplicate).toBe(true);
      expect(resend.message).toEqual(original.message);
      expect(await store.head('dup')).toBe(1);
      expect(await store.readAfter('dup', 0, 100)).toEqual([original.message]);
      const next = await store.append(msg('dup', 'next'));
      expect(next.message.seq).toBe(2);
    });

    it('finds a stored message by its clientId, as it stands now, and nothing for a clientId not stored', async () => {
      const original = await store.append(msg('by-id', 'hello', 'client-id-7'));
      expect(await store.byClientId('by-id', 'client-id-7')).toEqual(original.message);
      expect(await store.byClientId('by-id', 'client-id-8')).toBeUndefined();
      expect(await store.byClientId('other-room', 'client-id-7')).toBeUndefined();
    });

    it('dedupes a clientId repeated within one concurrent burst, and against what is stored', async () => {
      const stored = await store.append(msg('burst', 'already here', 'stored-id-0'));
      const burst = [
        msg('burst', 'a', 'repeat-id-a'),
        msg('burst', 'a again', 'repeat-id-a'),
        msg('burst', 'b', 'single-id-b'),
        msg('burst', 'stored again', 'stored-id-0'),
        msg('burst', 'a thrice', 'repeat-id-a'),
        msg('burst', 'c', 'single-id-c'),
      ];
      const results = await appendAll(store, burst);
      const byId = (id: string) => results.filter((r) => r.message.clientId === id);
      expect(byId('repeat-id-a').filter((r) => !r.duplicate)).toHaveLength(1);
      expect(new Set(byId('repeat-id-a').map((r) => r.message.seq)).size).toBe(1);
      expect(byId('stored-id-0')).toEqual([{ message: stored.message, duplicate: true }]);
      expect(byId('single-id-b')[0]?.duplicate).toBe(false);
      const log = await store.readAfter('burst', 0, 100);
      expect(seqs(log)).toEqual([1, 2, 3, 4]);
      expect(log.map((m) => m.clientId).sort()).toEqual(['repeat-id-a', 'single-id-b', 'single-id-c', 'stored-id-0']);
      expect(await store.head('burst')).toBe(4);
    });

    it('treats the same clientId in two rooms as two messages', async () => {
      const inA = await store.append(msg('left', 'hi', 'shared-client-id'));
      const inB = await store.append(msg('right', 'hi', 'shared-client-id'));
      expect(inA.duplicate).toBe(false);
      expect(inB.duplicate).toBe(false);
      expect(inA.message.seq).toBe(1);
      expect(inB.message.seq).toBe(1);
      expect(inB.message.room).toBe('right');
    });

    describe('paging', () => {
      // Neighbouring room names, so that a range that leaks past its room's keys shows up.
      beforeEach(async () => {
        await appendInOrder(store, 'page-a', 3);
        await appendInOrder(store, 'page-b', 25);
        await appendInOrder(store, 'page-c', 3);
      });

      it('readAfter pages forward in ascending order, within the room, up to the limit', async () => {
        expect(seqs(await store.readAfter('page-b', 0, 10))).toEqual(range(1, 10));
        expect(seqs(await store.readAfter('page-b', 10, 10))).toEqual(range(11, 20));
        expect(seqs(await store.readAfter('page-b', 20, 10))).toEqual(range(21, 25));
        expect(seqs(await store.readAfter('page-b', 24, 10))).toEqual([25]);
        expect(await store.readAfter('page-b', 25, 10)).toEqual([]);
        expect(await store.readAfter('page-b', 40, 10)).toEqual([]);
        expect(seqs(await store.readAfter('page-b', 0, 1))).toEqual([1]);
        const all = await store.readAfter('page-b', 0, 1000);
        expect(all.every((m) => m.room === 'page-b')).toBe(true);
        expect(all.map((m) => m.text)).toEqual(range(1, 25).map((i) => `message ${i}`));
      });

      it('readBefore pages backward, each page oldest first, within the room', async () => {
        expect(seqs(await store.readBefore('page-b', undefined, 10))).toEqual(range(16, 25));
        expect(seqs(await store.readBefore('page-b', 16, 10))).toEqual(range(6, 15));
        expect(seqs(await store.readBefore('page-b', 6, 10))).toEqual(range(1, 5));
        expect(seqs(await store.readBefore('page-b', 2, 10))).toEqual([1]);
        expect(await store.readBefore('page-b', 1, 10)).toEqual([]);
        expect(await store.readBefore('page-b', 0, 10)).toEqual([]);
        expect(seqs(await store.readBefore('page-b', 100, 5))).toEqual(range(21, 25));
        expect(seqs(await store.readBefore('page-b', undefined, 1))).toEqual([25]);
        expect(seqs(await store.readBefore('page-b', undefined, 1000))).toEqual(range(1, 25));
        expect((await store.readBefore('page-b', undefined, 1000)).every((m) => m.room === 'page-b')).toBe(true);
        expect((await store.readBefore('page-a', undefined, 1000)).every((m) => m.room === 'page-a')).toBe(true);
        expect((await store.readBefore('page-c', 2, 1000)).every((m) => m.room === 'page-c')).toBe(true);
      });

      it('answers an empty or unknown room with nothing and head 0', async () => {
        for (const room of ['page', 'page-', 'page-bb', 'nothing-here']) {
          expect(await store.head(room)).toBe(0);
          expect(await store.readAfter(room, 0, 10)).toEqual([]);
          expect(await store.readBefore(room, undefined, 10)).toEqual([]);
          expect(await store.readBefore(room, 5, 10)).toEqual([]);
        }
      });

      it('head is the last seq of each room', async () => {
        expect(await store.head('page-a')).toBe(3);
        expect(await store.head('page-b')).toBe(25);
        expect(await store.head('page-c')).toBe(3);
        await store.append(msg('page-a'));
        expect(await store.head('page-a')).toBe(4);
        expect(await store.head('page-b')).toBe(25);
      });
    });

    it('feeds every new message once, per room in seq order, resends not at all', async () => {
      const feed = collectFeed(store);
      const rooms = ['feed-x', 'feed-y'];
      const sent = range(0, 59).map((i) => msg(rooms[i % 2] ?? 'feed-x', `feed ${i}`));
      const firstHalf = await appendAll(store, sent.slice(0, 30));
      // The second half comes with resends of the first mixed in.
      const resends = sent.slice(0, 10).map((m) => ({ ...m, text: 'resent' }));
      const secondHalf = await appendAll(store, [...sent.slice(30), ...resends]);
      expect(secondHalf.slice(30).every((r) => r.duplicate)).toBe(true);
      // A sentinel per room: once both have come, anything else the feed would emit has come too.
      const sentinels = await appendAll(store, rooms.map((room) => msg(room, 'sentinel')));
      const sentinelIds = new Set(sentinels.map((r) => r.message.clientId));
      await feed.until((seen) => seen.filter((m) => sentinelIds.has(m.clientId)).length === 2, 'both sentinels on the feed');
      for (const room of rooms) {
        const fed = feed.seen.filter((m) => m.room === room);
        expect(seqs(fed)).toEqual(range(1, 31));
        expect(fed).toEqual(await store.readAfter(room, 0, 1000));
      }
      expect(feed.seen).toHaveLength(62);
      const stored = [...firstHalf, ...secondHalf.slice(0, 30)].map((r) => r.message);
      expect(new Set(feed.seen.map((m) => `${m.room}/${m.clientId}`))).toEqual(
        new Set([...stored, ...sentinels.map((r) => r.message)].map((m) => `${m.room}/${m.clientId}`)),
      );
    });

    it('stops feeding a listener once it unsubscribes; other listeners go on', async () => {
      const kept = collectFeed(store);
      const dropped = collectFeed(store);
      await store.append(msg('unsub', 'one'));
      await dropped.until((seen) => seen.length === 1, 'the first message on the feed');
      dropped.stop();
      await store.append(msg('unsub', 'two'));
      await kept.until((seen) => seen.length === 2, 'the second message on the kept feed');
      expect(dropped.seen.map((m) => m.text)).toEqual(['one']);
      expect(kept.seen.map((m) => m.text)).toEqual(['one', 'two']);
    });

    it('keeps its epoch across a reopen of the same data; a fresh store has another', async () => {
      const epoch = store.epoch;
      expect(typeof epoch).toBe('string');
      expect(epoch.length).toBeGreaterThan(0);
      expect(epoch.length).toBeLessThanOrEqual(64);
      await store.append(msg('epoch'));
      await closeOnce(store);
      const again = track(await reopen(store));
      expect(again.epoch).toBe(epoch);
      const other = track(await open());
      expect(other.epoch).not.toBe(epoch);
    });

    it('keeps messages, heads and dedupe across close and reopen', async () => {
      const written = await appendInOrder(store, 'durable', 12);
      const other = await store.append(msg('durable-2', 'other room'));
      await closeOnce(store);
      const again = track(await reopen(store));
      expect(await again.readAfter('durable', 0, 100)).toEqual(written.map((r) => r.message));
      expect(await again.readBefore('durable-2', undefined, 100)).toEqual([other.message]);
      expect(await again.head('durable')).toBe(12);
      const resend = await again.append(msg('durable', 'retry after restart', written[3]?.message.clientId));
      expect(resend).toEqual({ message: written[3]?.message, duplicate: true });
      const next = await again.append(msg('durable', 'after restart'));
      expect(next.message.seq).toBe(13);
    });

    it("removes a deleted private room's whole log, in parts when it is long, and nothing of another room's", async () => {
      const [gone, stays] = [`~${'a'.repeat(20)}`, `~${'b'.repeat(20)}`];
      // More than one removal's batch (2,000), and an edit: its entry, and the mark that finds it.
      const written = await appendAll(store, range(1, 2100).map((i) => msg(gone, `secret plan ${i}`)));
      await store.append({ ...msg(gone, 'secret plan, edited'), change: { kind: 'edit', target: 1 } });
      const kept = await appendInOrder(store, stays, 3);
      const lobby = await store.append(msg('lobby', 'a public secret'));
      const scope = { privateRooms: new Set([gone, stays]) };
      const found = async (room?: string) =>
        (await store.search.search({ terms: ['secret'], scope, limit: 5, scanLimit: 100_000, ...(room ? { room } : {}) })).messages.length;
      expect(await found(gone)).toBe(5);
      expect(await store.privateRoomsWithLogs(undefined, 10)).toEqual([gone, stays]);
      expect(await store.privateRoomsWithLogs(undefined, 1)).toEqual([gone]);
      expect(await store.privateRoomsWithLogs(gone, 10)).toEqual([stays]);

      expect(await store.removeRoomLog(gone)).toBe(2101);

      expect(await store.readAfter(gone, 0, 10)).toEqual([]);
      expect(await store.readBefore(gone, undefined, 10)).toEqual([]);
      expect(await store.head(gone)).toBe(0);
      expect(await store.byClientId(gone, written[7]!.message.clientId)).toBeUndefined();
      expect(await found(gone)).toBe(0);
      expect(await store.privateRoomsWithLogs(undefined, 10)).toEqual([stays]);
      expect(await store.removeRoomLog(gone)).toBe(0);
      // The other rooms are as they were, and found as before.
      expect(await store.readAfter(stays, 0, 10)).toEqual(kept.map((r) => r.message));
      expect(await store.readAfter('lobby', 0, 10)).toEqual([lobby.message]);
      expect(await found()).toBe(1);
      // And the removal holds across a restart.
      await closeOnce(store);
      const again = track(await reopen(store));
      expect([await again.head(gone), (await again.readAfter(gone, 0, 10)).length, await again.head(stays)]).toEqual([0, 0, 3]);
    });

    it('finishes an append accepted before close', async () => {
      const accepted = store.append(msg('closing', 'in flight'));
      await closeOnce(store);
      const result = await accepted;
      expect(result.message.seq).toBe(1);
      const again = track(await reopen(store));
      expect(await again.readAfter('closing', 0, 10)).toEqual([result.message]);
    });

    it('rejects appends and reads after close with StoreUnavailableError', async () => {
      await store.append(msg('closed'));
      await closeOnce(store);
      await expect(store.append(msg('closed'))).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.readAfter('closed', 0, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.readBefore('closed', undefined, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.head('closed')).rejects.toBeInstanceOf(StoreUnavailableError);
    });

    describe('changes to a message', () => {
      const change = (room: string, extra: Pick<NewMessage, 'change'> & { text?: string; author?: string }, clientId = newClientId()): NewMessage => ({
        room,
        clientId,
        author: extra.author ?? 'alice',
        text: extra.text ?? '',
        change: extra.change,
      });
      const one = async (s: Store, room: string, seq: number) => (await s.readAfter(room, seq - 1, 1))[0];

      it('stores a change as an entry of its own, and the target as it now stands', async () => {
        const { message: target } = await store.append(msg('changes', 'frist'));
        const edit = await store.append(change('changes', { text: 'first', change: { kind: 'edit', target: target.seq } }));
        expect(edit.message).toMatchObject({ seq: 2, text: 'first', change: { kind: 'edit', target: 1 } });
        const bob = await store.append(change('changes', { author: 'bob', change: { kind: 'reaction', target: 1, emoji: '👍', on: true } }));
        await store.append(change('changes', { author: 'carol', change: { kind: 'reaction', target: 1, emoji: '👍', on: true } }));
        await store.append(change('changes', { author: 'bob', change: { kind: 'reaction', target: 1, emoji: '🎉', on: true } }));
        await store.append(change('changes', { author: 'bob', change: { kind: 'reaction', target: 1, emoji: '👍', on: false } }));
        const [page] = await store.readBefore('changes', 2, 10);
        expect(page).toMatchObject({ seq: 1, text: 'first', editedAt: edit.message.at, lastChange: 6, reactions: [{ emoji: '👍', names: ['carol'] }, { emoji: '🎉', names: ['bob'] }] });
        expect(await one(store, 'changes', 1)).toEqual(page);
        expect(await store.head('changes')).toBe(6);
        // A resend of a change is the original, and applies nothing twice.
        const resend = await store.append({ ...change('changes', { author: 'bob', change: { kind: 'reaction', target: 1, emoji: '👍', on: true } }), clientId: bob.message.clientId });
        expect(resend).toEqual({ message: bob.message, duplicate: true });
        expect(await one(store, 'changes', 1)).toEqual(page);
      });

      it('empties the text of a deleted message and of its earlier edits', async () => {
        const { message: target } = await store.append(msg('scrub', 'my secret'));
        await store.append(msg('scrub', 'someone else'));
        await store.append(change('scrub', { text: 'my secret, edited', change: { kind: 'edit', target: target.seq } }));
        await store.append(change('scrub', { author: 'bob', change: { kind: 'reaction', target: target.seq, emoji: '👀', on: true } }));
        const deleted = await store.append(change('scrub', { change: { kind: 'delete', target: target.seq, by: 'author' } }));
        // An edit that lost the race with the delete keeps no text either.
        const late = await store.append(change('scrub', { text: 'my secret, late', change: { kind: 'edit', target: target.seq } }));
        expect(late.message.text).toBe('');
        const log = await store.readAfter('scrub', 0, 10);
        expect(log.map((entry) => entry.text)).toEqual(['', 'someone else', '', '', '', '']);
        expect(JSON.stringify(log)).not.toContain('secret');
        expect(log[0]).toEqual({ ...target, text: '', deleted: 'author', lastChange: late.message.seq });
        expect(deleted.message.change).toEqual({ kind: 'delete', target: 1, by: 'author' });
        await closeOnce(store);
        const again = track(await reopen(store));
        expect(JSON.stringify(await again.readAfter('scrub', 0, 10))).not.toContain('secret');
      });

      it('records who removed a message: its author or a moderator', async () => {
        await store.append(msg('removal', 'spam', undefined, 'mallory'));
        await store.append(change('removal', { author: 'mod', change: { kind: 'delete', target: 1, by: 'moderator' } }));
        expect(await one(store, 'removal', 1)).toMatchObject({ text: '', deleted: 'moderator', author: 'mallory' });
      });

      it('keeps a reply\'s target', async () => {
        await store.append(msg('replies', 'question'));
        const { message } = await store.append({ ...msg('replies', 'answer'), replyTo: 1 });
        expect(message.replyTo).toBe(1);
        expect(await one(store, 'replies', 2)).toEqual(message);
      });

      it('hands change entries to the feed like messages', async () => {
        const feed = collectFeed(store);
        await store.append(msg('fed', 'hello'));
        await store.append(change('fed', { text: 'hello!', change: { kind: 'edit', target: 1 } }));
        await feed.until((seen) => seen.length === 2, 'the edit in the feed');
        expect(feed.seen.map((entry) => [entry.seq, entry.change?.kind])).toEqual([[1, undefined], [2, 'edit']]);
        feed.stop();
      });
    });
  });
}
