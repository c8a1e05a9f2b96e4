// Search on MongoDB: its own text index (no Atlas Search needed), on a field `terms` that each message
// document carries: the message's index terms made by terms.ts, so that MongoDB and the embedded store
// find the same messages for the same words (stems, folded case and accents, CJK bigrams). The index
// is built with language "none", as the terms are stemmed already. A search asks the text index for
// messages holding any of the terms, and keeps those holding all of them ($all on the same field).
// Readers never see `terms`: every read of a message projects it away, as it does `_id`.
import type { Collection, Document, Filter, IndexDescription } from 'mongodb';
import type { ChatMessage } from '../protocol';
import type { SearchHits, SearchStore, StoreSearch } from './store';
import { indexTerms } from './terms';

/** The search fields of a stored message document. */
export interface SearchFields {
  terms?: string[];
}

/** The text index on `terms`. `language_override` names a field no message has: a message has no language. */
export const SEARCH_INDEX: IndexDescription = {
  key: { terms: 'text' },
  name: 'search_terms',
  default_language: 'none',
  language_override: 'searchLanguageNone',
};

/** Leaves the search fields out of a message read back (a find's projection; merged with `_id: 0`). */
export const WITHOUT_SEARCH_FIELDS = { terms: 0 } as const;

/** The search fields to store with `message`: none for one not found by words (a change entry, a deleted message). */
export function searchFields(message: ChatMessage): SearchFields {
  if (message.change || message.deleted) return {};
  const terms = indexTerms(message.text);
  return terms.length > 0 ? { terms } : {};
}

export class MongoSearch implements SearchStore {
  constructor(
    private readonly messages: Collection<ChatMessage & SearchFields>,
    private readonly guard: <T>(operation: () => Promise<T>) => Promise<T>,
    private readonly operationTimeoutMs: number,
  ) {}

  async search(query: StoreSearch): Promise<SearchHits> {
    if (query.terms.length === 0) return { messages: [] };
    const messages = await this.guard(() =>
      this.messages
        .find(searchFilter(query), { projection: { _id: 0, ...WITHOUT_SEARCH_FIELDS }, maxTimeMS: this.operationTimeoutMs })
        .sort({ at: -1, room: -1, seq: -1 })
        .limit(query.limit)
        .toArray(),
    );
    return messages.length === query.limit ? { messages, next: messages.at(-1) } : { messages };
  }
}

/** The find filter of a search (exported for the driver-boundary test). */
export function searchFilter({ terms, scope, room, author, since, until, below }: StoreSearch): Filter<ChatMessage & SearchFields> {
  const and: Document[] = [
    // Every public room (no `~`), and the private rooms of the scope.
    { $or: [{ room: { $not: /^~/ } }, { room: { $in: [...scope.privateRooms] } }] },
  ];
  if (below) {
    and.push({ $or: [{ at: { $lt: below.at } }, { at: below.at, room: { $lt: below.room } }, { at: below.at, room: below.room, seq: { $lt: below.seq } }] });
  }
  const at: Document = {};
  if (since !== undefined) at.$gte = since;
  if (until !== undefined) at.$lt = until;
  return {
    $text: { $search: terms.join(' ') },
    terms: { $all: [...terms] },
    $and: and,
    ...(room === undefined ? {} : { room }),
    // Names are unique after case folding: the same name in another case is the same person.
    ...(author === undefined ? {} : { author: { $regex: `^${escapeRegex(author)}$`, $options: 'i' } }),
    ...(Object.keys(at).length > 0 ? { at } : {}),
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
