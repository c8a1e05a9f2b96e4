// The embedded store's search index: an inverted index in LMDB beside the log, written in the same
// transaction as the message it indexes (a message is found once it is readable, and never after it is
// gone). Each term is a key whose sorted duplicate values are the positions [at, room, seq] of the
// messages holding it (LMDB's dupsort: the term is stored once, its positions packed in pages of their
// own), so each term's positions lie newest first under a reverse scan. Two more terms per message name its room and its author, so a
// filter is one more list to intersect. Several terms are intersected by leapfrogging (each list seeks
// to the others' candidate), which costs about as many seeks as the rarest list has entries in range,
// not a read of every message.
import type { Database, RootDatabase } from 'lmdb';
import type { ChatMessage } from '../protocol';
import { inScope } from './scope';
import type { SearchHits, SearchPosition, SearchStore, StoreSearch } from './store';
import { fold, indexTerms } from './terms';

type Position = [number, string, number];
/** Where a seek starts: a position (`exclusive`: strictly below it) or, as [at], below a time. */
type Upper = { key: [number] | [number, string, number]; exclusive: boolean };

/** Pseudo-terms: no word holds a control character. */
const roomTerm = (room: string) => `\u0001r${room}`;
const authorTerm = (author: string) => `\u0001a${fold(author.normalize('NFKC'))}`;

export class EmbeddedSearchIndex implements SearchStore {
  private readonly postings: Database<Position, string>;

  /**
   * @param messages  the log, where results are read from
   * @param readableEnd  the first seq of a room that reads may not return yet (embedded.ts: durableHeads)
   */
  constructor(
    root: RootDatabase,
    private readonly messages: Database<ChatMessage, [string, number]>,
    private readonly readableEnd: (room: string) => number,
  ) {
    this.postings = root.openDB({ name: 'searchPostings', dupSort: true, encoding: 'ordered-binary' });
  }

  /** Indexes a stored message; call inside the transaction that stores it. */
  add(message: ChatMessage): void {
    for (const term of termsOf(message)) this.postings.putSync(term, [message.at, message.room, message.seq]);
  }

  /** Indexes a message as it now stands (edited, deleted) in place of what it was; inside the transaction that changes it. */
  replace(before: ChatMessage, after: ChatMessage): void {
    const now = new Set(termsOf(after));
    for (const term of termsOf(before)) if (!now.has(term)) this.postings.removeSync(term, [before.at, before.room, before.seq]);
    for (const term of now) this.postings.putSync(term, [after.at, after.room, after.seq]);
  }

  async search(query: StoreSearch): Promise<SearchHits> {
    const lists = [...query.terms];
    if (query.room !== undefined) lists.push(roomTerm(query.room));
    if (query.author !== undefined) lists.push(authorTerm(query.author));
    if (lists.length === 0) return { messages: [] };
    const floor = query.since;
    let upper: Upper = query.below
      ? { key: [query.below.at, query.below.room, query.below.seq], exclusive: true }
      : { key: [query.until ?? Number.MAX_SAFE_INTEGER], exclusive: false };
    const messages: ChatMessage[] = [];
    let scanned = 0;
    const seek = (term: string, from: Upper): SearchPosition | undefined => {
      scanned++;
      return this.seek(term, from, floor);
    };
    while (messages.length < query.limit) {
      let candidate = seek(lists[0]!, upper);
      // Leapfrog: each list in turn seeks to the candidate; one that holds an older entry makes that the
      // candidate. Every list agreeing in a row is a match.
      for (let agreed = 1, i = 1; candidate && agreed < lists.length; i++) {
        const found = seek(lists[i % lists.length]!, { key: [candidate.at, candidate.room, candidate.seq], exclusive: false });
        if (found && found.at === candidate.at && found.room === candidate.room && found.seq === candidate.seq) agreed++;
        else agreed = 1;
        candidate = found;
      }
      if (!candidate) return { messages };
      upper = { key: [candidate.at, candidate.room, candidate.seq], exclusive: true };
      const message = this.readable(candidate, query);
      if (message) messages.push(message);
      if (scanned >= query.scanLimit && messages.length < query.limit) return { messages, next: candidate };
    }
    return { messages, next: messages.at(-1) };
  }

  /** The message at `position`, if the search may return it. */
  private readable({ room, seq }: SearchPosition, query: StoreSearch): ChatMessage | undefined {
    if (!inScope(query.scope, room) || seq >= this.readableEnd(room)) return undefined;
    return this.messages.get([room, seq]);
  }

  /** The newest entry of `term` at or below `from` (strictly below, when exclusive), at or after `floor`. */
  private seek(term: string, from: Upper, floor: number | undefined): SearchPosition | undefined {
    const end = floor === undefined ? undefined : [floor];
    for (const [at, room, seq] of this.postings.getValues(term, { start: from.key, ...(end ? { end } : {}), reverse: true, limit: 2 })) {
      if (from.exclusive && at === from.key[0] && room === from.key[1] && seq === from.key[2]) continue;
      return { at, room, seq };
    }
    return undefined;
  }
}

/** What a message is indexed under: its words, its room and its author; nothing for a change entry, a deleted message or one without words. */
function termsOf(message: ChatMessage): string[] {
  if (message.change || message.deleted) return [];
  const words = indexTerms(message.text);
  return words.length === 0 ? [] : [...words, roomTerm(message.room), authorTerm(message.author)];
}
