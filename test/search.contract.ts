// The contract every store's search keeps (server/search/store.ts), as one suite that
// search.contract.test.ts runs against each store: messages holding every term, newest first, paged,
// with the filters, within the rooms of the scope, as they now stand; readers never see the index's fields.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../server/protocol';
import type { RoomScope, StoreSearch } from '../server/search/store';
import { parseQuery } from '../server/search/terms';
import type { Store } from '../server/store/store';
import { newClientId } from './helpers';

const PUBLIC: RoomScope = { privateRooms: new Set() };
const SECRET_ROOM = '~abcdefghijklmnopqrst';

export function describeSearchContract(name: string, open: () => Promise<Store>): void {
  describe(`search contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    /** Stores messages one after another, so that each has a later `at` than the one before. */
    const send = async (room: string, text: string, author = 'alice'): Promise<ChatMessage> => {
      const { message } = await store.append({ room, clientId: newClientId(), author, text });
      // Search orders by time: two messages of the same millisecond would be ordered by room and seq.
      const stored = message.at;
      while (Date.now() === stored) await new Promise((resolve) => setImmediate(resolve));
      return message;
    };
    const search = async (query: string, options: Partial<StoreSearch> = {}) => {
      const hits = await store.search.search({ terms: parseQuery(query).terms, scope: PUBLIC, limit: 20, scanLimit: 100_000, ...options });
      return hits.messages.map((message) => message.text);
    };

    it('finds messages by every word, across rooms, newest first', async () => {
      await send('ops', 'we deploy on friday');
      await send('lobby', 'deploy notes are up');
      await send('ops', 'friday lunch?');
      await send('dev', 'Deploying the new build on Friday');
      expect(await search('deploy')).toEqual(['Deploying the new build on Friday', 'deploy notes are up', 'we deploy on friday']);
      expect(await search('deployed friday')).toEqual(['Deploying the new build on Friday', 'we deploy on friday']);
      expect(await search('nothing here')).toEqual([]);
    });

    it('folds case and accents, and finds Chinese and Japanese text by any run of its characters', async () => {
      await send('lobby', 'Rendez-vous au CAFÉ à midi');
      await send('lobby', '我们今天部署了新版本');
      await send('lobby', 'デプロイしました');
      expect(await search('cafe')).toEqual(['Rendez-vous au CAFÉ à midi']);
      expect(await search('Café')).toEqual(['Rendez-vous au CAFÉ à midi']);
      expect(await search('部署')).toEqual(['我们今天部署了新版本']);
      expect(await search('部')).toEqual(['我们今天部署了新版本']);
      expect(await search('デプロイ')).toEqual(['デプロイしました']);
    });

    it('filters by room, author and time', async () => {
      const first = await send('ops', 'release one', 'alice');
      await send('dev', 'release two', 'Bob');
      const third = await send('ops', 'release three', 'bob');
      expect(await search('release', { room: 'ops' })).toEqual(['release three', 'release one']);
      expect(await search('release', { author: 'BOB' })).toEqual(['release three', 'release two']);
      expect(await search('release', { since: first.at + 1, until: third.at })).toEqual(['release two']);
    });

    it('pages from the end of the previous page, with nothing twice and nothing left out', async () => {
      for (let i = 1; i <= 7; i++) await send(i % 2 ? 'a' : 'b', `standup ${i}`);
      const seen: string[] = [];
      let below: StoreSearch['below'];
      for (let page = 0; page < 5; page++) {
        const hits = await store.search.search({ terms: ['standup'], scope: PUBLIC, limit: 3, scanLimit: 100_000, ...(below ? { below } : {}) });
        seen.push(...hits.messages.map((message) => message.text));
        if (!hits.next) break;
        below = hits.next;
      }
      expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1].map((i) => `standup ${i}`));
    });

    it('finds messages of a private room only for a scope that names it', async () => {
      await send(SECRET_ROOM, 'the secret plan');
      await send('lobby', 'the public plan');
      expect(await search('plan')).toEqual(['the public plan']);
      expect(await search('secret')).toEqual([]);
      expect(await search('plan', { scope: { privateRooms: new Set([SECRET_ROOM]) } })).toEqual(['the public plan', 'the secret plan']);
    });

    it('finds an edited message by its new words only, and a deleted one not at all', async () => {
      const original = await send('ops', 'the release is on tuesday');
      await send('ops', 'another release note');
      const edit = { room: 'ops', clientId: newClientId(), author: 'alice', change: { kind: 'edit' as const, target: original.seq } };
      await store.append({ ...edit, text: 'the release moved to thursday' });
      expect(await search('tuesday')).toEqual([]);
      // The message as it now stands, once: not the edit entry beside it.
      expect(await search('thursday')).toEqual(['the release moved to thursday']);
      expect(await search('release')).toEqual(['another release note', 'the release moved to thursday']);
      await store.append({ room: 'ops', clientId: newClientId(), author: 'alice', text: '', change: { kind: 'delete', target: original.seq, by: 'author' } });
      expect(await search('thursday')).toEqual([]);
      expect(await search('release')).toEqual(['another release note']);
      // A reaction changes no words: the message is found as before.
      const [note] = (await store.readAfter('ops', original.seq, 1));
      await store.append({ room: 'ops', clientId: newClientId(), author: 'bob', text: '', change: { kind: 'reaction', target: note!.seq, emoji: '👍', on: true } });
      const [found] = (await store.search.search({ terms: ['note'], scope: PUBLIC, limit: 5, scanLimit: 1000 })).messages;
      expect(found?.reactions).toEqual([{ emoji: '👍', names: ['bob'] }]);
    });

    it('keeps its index fields from readers', async () => {
      await send('lobby', 'indexed words');
      const [read] = await store.readAfter('lobby', 0, 10);
      const [found] = (await store.search.search({ terms: ['index'], scope: PUBLIC, limit: 1, scanLimit: 1000 })).messages;
      for (const message of [read, found]) expect(Object.keys(message ?? {}).sort()).toEqual(['at', 'author', 'clientId', 'room', 'seq', 'text']);
    });
  });
}
