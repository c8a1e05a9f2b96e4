// Search over real HTTP (server/search/): words across rooms, newest first, matches marked, paged; bad
// queries get a clear error; search has its own rate limit.
import { describe, expect, it } from 'vitest';
import { ErrorCode, MAX_SEARCH_QUERY_LENGTH, type ErrorResponse, type SearchResponse } from '../server/protocol';
import { autoCleanup, createSession, http, newClientId, postMessage, startTestServer } from './helpers';

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
