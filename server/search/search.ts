// Search across rooms: the messages holding every word of a query, newest first, a page at a time, from
// the rooms the searcher may read and no other. A private room they are not in gives no result, no count,
// and the same answer as a room that does not exist.
import type { Session } from '../accounts/accounts';
import type { AppContext } from '../context';
import { ApiError } from '../errors';
import { ErrorCode, MAX_SEARCH_TERMS, type SearchResponse, type SearchResult } from '../protocol';
import type { Sender } from '../roomlog';
import { SEARCH_POSITION_PATTERN, type SearchQuery } from '../validation';
import { mayRead, readableScope } from './scope';
import type { SearchPosition } from './store';
import { matchText, parseQuery } from './terms';

/**
 * How many times one request asks the store again when what it found was dropped (a phrase not standing
 * together, a room the searcher may no longer read) or its scan budget ran out: each costs at most
 * SEARCH_SCAN_LIMIT index entries. Past it, the page ends early with `next`.
 */
const MAX_STORE_ROUNDS = 3;

export async function searchMessages(ctx: AppContext, { session, ip }: Sender, query: SearchQuery): Promise<SearchResponse> {
  const parsed = parseQuery(query.q);
  if (parsed.terms.length === 0) throw new ApiError(ErrorCode.invalidRequest, 'type a word to search for');
  if (parsed.terms.length > MAX_SEARCH_TERMS) {
    throw new ApiError(ErrorCode.invalidRequest, `a search has at most ${MAX_SEARCH_TERMS} words (and a run of Chinese or Japanese characters counts one per pair)`);
  }
  ctx.limits.takeSearch(session?.nick, ip);
  // A room named by the filter that the searcher may not read: nothing, as for a room that does not exist.
  if (query.room !== undefined && !(await mayRead(ctx, session, query.room))) return { results: [] };
  const scope = await readableScope(ctx, session);
  const allowed = roomCheck(ctx, session);
  // Up to MAX_SEARCH_PAGE_SIZE, which the query's schema holds it to.
  const pageSize = query.limit ?? ctx.config.searchPageSize;
  const results: SearchResult[] = [];
  let below = query.before === undefined ? undefined : positionOf(query.before);
  for (let round = 0; round < MAX_STORE_ROUNDS; round++) {
    const hits = await ctx.store.search.search({
      terms: parsed.terms,
      scope,
      ...(query.room === undefined ? {} : { room: query.room }),
      ...(query.author === undefined ? {} : { author: query.author }),
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.until === undefined ? {} : { until: query.until }),
      ...(below === undefined ? {} : { below }),
      // One more than the page: whether there is a next page is then known, not guessed.
      limit: pageSize + 1 - results.length,
      scanLimit: ctx.config.searchScanLimit,
    });
    for (const message of hits.messages) {
      if (!(await allowed(message.room))) continue;
      const highlights = matchText(message.text, parsed);
      if (!highlights) continue;
      if (results.length === pageSize) return { results, next: encodePosition(results.at(-1)!.message) };
      results.push({ message, highlights });
    }
    if (!hits.next) return { results };
    below = hits.next;
  }
  return below === undefined ? { results } : { results, next: await nextFrom(allowed, below) };
}

/**
 * Where the next page starts, when the scan budget ran out on `position`. The scan looks at index entries of
 * every room, so `position` may be a message of a room the searcher may not read: its room and seq are not
 * theirs to see (they named a private room and a message of it). The next page then starts below that
 * message's millisecond: a message of a room sorting below it, stored in that same millisecond, is skipped.
 * The time still tells that some message the searcher cannot read matched: only a scan that never looks at
 * such rooms' entries (an index per private room) would tell nothing.
 */
async function nextFrom(allowed: (room: string) => Promise<boolean>, position: SearchPosition): Promise<string> {
  if (await allowed(position.room)) return encodePosition(position);
  return encodePosition({ at: position.at, seq: 0, room: '0' });
}

/** `mayRead`, asked once per room within one search. */
function roomCheck(ctx: AppContext, session: Session | undefined): (room: string) => Promise<boolean> {
  const answers = new Map<string, Promise<boolean>>();
  return (room) => {
    let answer = answers.get(room);
    if (!answer) answers.set(room, (answer = mayRead(ctx, session, room)));
    return answer;
  };
}

function encodePosition({ at, seq, room }: SearchPosition): string {
  return `${at}.${seq}.${room}`;
}

function positionOf(encoded: string): SearchPosition {
  const [, at, seq, room] = SEARCH_POSITION_PATTERN.exec(encoded) ?? [];
  return { at: Number(at), seq: Number(seq), room: room ?? '' };
}
