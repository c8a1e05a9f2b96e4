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

/**
 * The search fields to store with `message`: no terms for one not found by words (a change entry, a deleted
 * message). Every message stored since search has the field; those without it are from before (backfill).
 */
export function searchFields(message: ChatMessage): Required<SearchFields> {
  return { terms: message.change || message.deleted ? [] : indexTerms(message.text) };
}

/** Messages given their terms in one write by the backfill. */
const BACKFILL_BATCH = 500;

export class MongoSearch implements SearchStore {
  constructor(
    private readonly messages: Collection<ChatMessage & SearchFields>,
    private readonly guard: <T>(operation: () => Promise<T>) => Promise<T>,
    private readonly operationTimeoutMs: number,
  ) {}

  /**
   * Gives their terms to the messages stored before search existed (no `terms` field), in one pass over
   * the collection, a batch per write, until none is left or `stopped()`; resolves with how many. Safe beside
   * sends and changes: a message is updated only while it has no terms and still the text that was read.
   */
  async backfill(stopped: () => boolean): Promise<number> {
    let count = 0;
    const old = this.messages.find({ terms: { $exists: false } }, { projection: { _id: 1, text: 1, change: 1, deleted: 1 } }).batchSize(BACKFILL_BATCH);
    try {
      let batch: (ChatMessage & { _id?: unknown })[] = [];
      const write = async () => {
        if (batch.length === 0) return;
        const updates = batch.map((message) => ({
          updateOne: {
            filter: { _id: message._id, terms: { $exists: false }, text: message.text } as Filter<ChatMessage & SearchFields>,
            update: { $set: searchFields(message) },
          },
        }));
        await this.messages.bulkWrite(updates, { ordered: false });
        count += batch.length;
        batch = [];
      };
      for await (const message of old) {
        if (stopped()) break;
        batch.push(message);
        if (batch.length === BACKFILL_BATCH) await write();
      }
      if (!stopped()) await write();
    } finally {
      await old.close();
    }
    return count;
  }

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
