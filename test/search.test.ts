// Search over real HTTP (server/search/): words across rooms, newest first, matches marked, paged; bad
// queries get a clear error; search has its own rate limit.
import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_SEARCH_QUERY_LENGTH, type ErrorResponse, type RoomInfo, type SearchResponse } from '../server/protocol';
import { autoCleanup, createSession, http, newClientId, postMessage, signUp, startTestServer } from './helpers';

autoCleanup();

const find = (url: string, query: string, cookie?: string) =>
  http<SearchResponse>(url, 'GET', `/api/search?${query}`, cookie === undefined ? {} : { cookie });

/** Posts one message after another, each stored in a later millisecond than the one before. */
async function post(url: string, cookie: string, room: string, text: string): Promise<void> {
  const sent = Date.now();
  expect((await postMessage(url, room, { clientId: newClientId(), text }, cookie)).status).toBe(201);
  while (Date.now() === sent) await new Promise((resolve) => setImmediate(resolve));
}

describe('search', () => {
  it('finds messages by their words across rooms, newest first, with the words that matched marked', async () => {
    const { url } = await startTestServer();
    const ann = await createSession(url, 'Ann');
    await post(url, ann, 'ops', 'We are deploying to production on Friday');
    await post(url, ann, 'dev', 'lunch?');
    await post(url, ann, 'dev', 'Deployed! Friday is saved');
    const { status, body } = await find(url, `q=${encodeURIComponent('deploy friday')}`, ann);
    expect(status).toBe(200);
    expect(body.results.map(({ message }) => [message.room, message.text])).toEqual([
      ['dev', 'Deployed! Friday is saved'],
      ['ops', 'We are deploying to production on Friday'],
    ]);
    const [first] = body.results;
    expect(first?.highlights.map(([start, end]) => first.message.text.slice(start, end))).toEqual(['Deployed', 'Friday']);
    expect(body.next).toBeUndefined();
    // A phrase needs its words together and in order.
    const phrase = await find(url, `q=${encodeURIComponent('"production on friday"')}`, ann);
    expect(phrase.body.results.map(({ message }) => message.text)).toEqual(['We are deploying to production on Friday']);
    const [found] = phrase.body.results;
    expect(found?.highlights.map(([start, end]) => found.message.text.slice(start, end))).toEqual(['production on Friday']);
  });

  it('pages through results with next, and filters by room and author', async () => {
    const { url } = await startTestServer();
    const ann = await createSession(url, 'Ann');
    const bo = await createSession(url, 'Bo');
    for (let i = 1; i <= 5; i++) await post(url, i % 2 ? ann : bo, i <= 3 ? 'ops' : 'dev', `standup note ${i}`);
    const first = await find(url, 'q=standup&limit=2', ann);
    expect(first.body.results.map(({ message }) => message.text)).toEqual(['standup note 5', 'standup note 4']);
    expect(first.body.next).toBeDefined();
    const second = await find(url, `q=standup&limit=2&before=${encodeURIComponent(first.body.next ?? '')}`, ann);
    expect(second.body.results.map(({ message }) => message.text)).toEqual(['standup note 3', 'standup note 2']);
    const last = await find(url, `q=standup&limit=2&before=${encodeURIComponent(second.body.next ?? '')}`, ann);
    expect(last.body.results.map(({ message }) => message.text)).toEqual(['standup note 1']);
    expect(last.body.next).toBeUndefined();
    expect((await find(url, 'q=standup&room=ops&author=ann', ann)).body.results.map(({ message }) => message.text)).toEqual(['standup note 3', 'standup note 1']);
  });

  it('asks who may read on every query: a private room only for its members, never as a count; a ban or a removal takes effect at once', async () => {
    const { url } = await startTestServer();
    const olga = await signUp(url, 'Olga');
    const mia = await signUp(url, 'Mia');
    const pat = await signUp(url, 'Pat');
    const guest = await createSession(url, 'Gus');
    const { body: secret } = await http<RoomInfo>(url, 'POST', '/api/rooms', { cookie: olga, json: { title: 'Launch plans' } });
    await http(url, 'POST', `/api/rooms/${secret.room}/members`, { cookie: olga, json: { username: 'mia' } });
    await post(url, olga, secret.room, 'the launch date is the ninth');
    await post(url, olga, 'town', 'public launch party on the tenth');
    const texts = async (cookie: string | undefined, query = 'q=launch') => (await find(url, query, cookie)).body;

    const both = { results: [expect.objectContaining({}), expect.objectContaining({})] };
    expect(await texts(olga)).toMatchObject(both);
    expect(await texts(mia)).toMatchObject(both);
    // Not a member, a guest, nobody: the public message only, and nothing that tells the other is there.
    for (const outsider of [pat, guest, undefined]) {
      const body = await texts(outsider);
      expect(body).toEqual({ results: [expect.objectContaining({ message: expect.objectContaining({ room: 'town' }) })] });
      expect(await texts(outsider, `q=ninth`)).toEqual({ results: [] });
      // Naming the room as a filter answers as for a room that does not exist.
      expect(await texts(outsider, `q=launch&room=${secret.room}`)).toEqual({ results: [] });
      expect(await texts(outsider, `q=launch&room=no-such-room`)).toEqual({ results: [] });
    }

    // Mia leaves: from her next search on, the room is gone from it.
    expect((await http(url, 'DELETE', `/api/rooms/${secret.room}/members/me`, { cookie: mia })).status).toBe(204);
    expect((await texts(mia)).results.map(({ message }) => message.room)).toEqual(['town']);
    // Pat is banned from the public room: its messages leave his results too.
    await http(url, 'POST', '/api/rooms/town/moderation', { cookie: olga, json: { username: 'Pat', action: 'ban' } });
    expect(await texts(pat)).toEqual({ results: [] });
    expect(await texts(pat, 'q=launch&room=town')).toEqual({ results: [] });
  });

  it('finds an edited message by its new words only, and a deleted one not at all', async () => {
    const { url } = await startTestServer();
    const ann = await createSession(url, 'Ann');
    await post(url, ann, 'ops', 'the release is on tuesday');
    const change = (body: object) => postMessage(url, 'ops', { clientId: newClientId(), ...body }, ann);
    expect((await change({ text: 'the release moved to thursday', change: { kind: 'edit', target: 1 } })).status).toBe(201);
    expect((await find(url, 'q=tuesday', ann)).body.results).toEqual([]);
    const found = (await find(url, 'q=thursday', ann)).body.results;
    expect(found.map(({ message }) => [message.seq, message.text])).toEqual([[1, 'the release moved to thursday']]);
    expect((await change({ change: { kind: 'delete', target: 1 } })).status).toBe(201);
    expect((await find(url, 'q=release', ann)).body.results).toEqual([]);
  });

  it('refuses a query it cannot run with a clear error, and answers the rest at once', async () => {
    const { url } = await startTestServer();
    const refused = async (query: string, words: RegExp) => {
      const { status, body } = await http<ErrorResponse>(url, 'GET', `/api/search?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe(ErrorCode.invalidRequest);
      expect(body.error.message).toMatch(words);
    };
    await refused('q=', /type a word/);
    await refused(`q=${encodeURIComponent('?! …')}`, /type a word/);
    await refused(`q=${'a'.repeat(MAX_SEARCH_QUERY_LENGTH + 1)}`, /at most 200 characters/);
    await refused(`q=${encodeURIComponent('a b c d e f g h i j k')}`, /at most 10 words/);
    await refused('q=x&before=nonsense', /before/);
    await refused('q=x&limit=500', /at most 50/);
    await refused('q=x&room=Not%20a%20room', /room/);
    await refused('q=x&sort=asc', /sort/);
    // Chinese without spaces is searched by its characters; nothing stored: no result, no error.
    expect((await find(url, `q=${encodeURIComponent('我们今天部署了')}`)).body).toEqual({ results: [] });
  });

  it('has a rate limit of its own: the most expensive read is not the cheapest to repeat', async () => {
    const { url } = await startTestServer({ SEARCH_BURST: '2', SEARCHES_PER_MINUTE: '1' });
    const ann = await createSession(url, 'Ann');
    expect((await find(url, 'q=hello', ann)).status).toBe(200);
    expect((await find(url, 'q=hello', ann)).status).toBe(200);
    const third = await http<ErrorResponse>(url, 'GET', '/api/search?q=hello', { cookie: ann });
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe(ErrorCode.rateLimited);
    expect(third.body.error.retryAfterMs).toBeGreaterThan(0);
    // Another person is not held back by it.
    expect((await find(url, 'q=hello', await createSession(url, 'Bo'))).status).toBe(200);
  });
});
