// The embedded store's search index: an inverted index in LMDB beside the log. A send only marks its
// message as to be indexed, in the transaction that stores it (one small write: the index's dozen writes
// to pages all over the file would more than double a send's time); the marked messages are indexed
// together a moment later, and at once before any search, so a search finds every message readable when
// it starts. The marks are in LMDB: after a crash, what was not indexed yet is indexed on the next flush.
// Each term is a key whose sorted duplicate values are the positions [at, room, seq] of the messages
// holding it (LMDB's dupsort: the term is stored once), so each term's positions lie newest first under a
// reverse scan. Two more terms per message name its room and its author, so a filter is one more list to
// intersect. A private room's terms carry its id as a prefix: a search reads the lists of the public rooms
// and of the private rooms the person is in, and merges them, never another room's. Several terms are
// intersected by leapfrogging (each list seeks to the others' candidate), which costs about as many seeks
// as the rarest list has entries in range, not a read of every message.
import type { Database, RootDatabase } from 'lmdb';
import { isPrivateRoom, type ChatMessage } from '../protocol';
import { StoreUnavailableError } from '../store/store';
import { inScope } from './scope';
import type { SearchHits, SearchPosition, SearchStore, StoreSearch } from './store';
import { fold, indexTerms } from './terms';

type Position = [number, string, number];
/** Where a seek starts: a position (`exclusive`: strictly below it) or, as [at], below a time. */
type Upper = { key: [number] | [number, string, number]; exclusive: boolean };

/** How long a marked message waits to be indexed with those marked after it (unless a search comes first). */
const FLUSH_DELAY_MS = 200;
/** The most messages indexed in one transaction: a long backlog (after a restart) goes in parts, writes between them. */
const FLUSH_BATCH = 5000;

/** Pseudo-terms: no word holds a control character. */
const roomTerm = (room: string) => `\u0001r${room}`;
const authorTerm = (author: string) => `\u0001a${fold(author.normalize('NFKC'))}`;

export class EmbeddedSearchIndex implements SearchStore {
  private readonly postings: Database<Position, string>;
  /** [room, seq] of each stored message not indexed yet. */
  private readonly unindexed: Database<true, [string, number]>;
  /**
   * 'backfill': the last message of the log indexed by the backfill (messages stored before search existed
   * are indexed a batch at a time, in the log's order), or 'done'.
   */
  private readonly progress: Database<[string, number] | 'done', 'backfill'>;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Settles when the flush under way (if any) has. */
  private flushing: Promise<void> | undefined;

  /**
   * @param messages  the log, where results are read from
   * @param readableEnd  the first seq of a room that reads may not return yet (embedded.ts: durableHeads)
   */
  constructor(
    private readonly root: RootDatabase,
    private readonly messages: Database<ChatMessage, [string, number]>,
    private readonly readableEnd: (room: string) => number,
  ) {
    this.postings = root.openDB({ name: 'searchPostings', dupSort: true, encoding: 'ordered-binary' });
    this.unindexed = root.openDB({ name: 'searchUnindexed' });
    this.progress = root.openDB({ name: 'searchProgress' });
    // A new log has nothing from before search: every message of it is marked as it is stored.
    if (this.progress.get('backfill') === undefined && messages.getKeysCount({ limit: 1 }) === 0) this.progress.putSync('backfill', 'done');
    // Left from before a crash or a stop, or a log from before search: indexed soon.
    if (this.unindexed.getKeysCount({ limit: 1 }) > 0 || this.progress.get('backfill') !== 'done') this.flushSoon();
  }

  /** Marks a stored message to be indexed; call inside the transaction that stores it. */
  add(message: ChatMessage): void {
    this.unindexed.putSync([message.room, message.seq], true);
    this.flushSoon();
  }

  /** Indexes a message as it now stands (edited, deleted) in place of what it was; inside the transaction that changes it. */
  replace(before: ChatMessage, after: ChatMessage): void {
    // Not indexed yet: the flush reads it as it then stands.
    if (this.unindexed.doesExist([before.room, before.seq])) return;
    const now = new Set(termsOf(after));
    for (const term of termsOf(before)) if (!now.has(term)) this.postings.removeSync(term, [before.at, before.room, before.seq]);
    for (const term of now) this.postings.putSync(term, [after.at, after.room, after.seq]);
  }

  /** Forgets a message being removed from the log (its room was deleted); inside the transaction that removes it. */
  remove(message: ChatMessage): void {
    this.unindexed.removeSync([message.room, message.seq]);
    for (const term of termsOf(message)) this.postings.removeSync(term, [message.at, message.room, message.seq]);
  }

  /**
   * Indexes every marked message, and a batch more of the backfill while it lasts (the rest follows on a
   * timer: a search does not wait for the whole of an old log); resolves once that is written.
   */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    let backfilling = false;
    for (let more = true; more; ) {
      // One at a time: a flush waits for the one under way, then indexes what was marked since.
      while (this.flushing) await this.flushing;
      let count = 0;
      this.flushing = this.root
        .transaction(() => {
          for (const key of this.unindexed.getKeys({ limit: FLUSH_BATCH })) {
            const message = this.messages.get(key);
            if (message) this.index(message);
            this.unindexed.removeSync(key);
            count++;
          }
          backfilling = this.backfill();
        })
        .then(
          () => undefined,
          () => void (count = 0), // the marks stay: the next flush tries again
        )
        .finally(() => (this.flushing = undefined));
      await this.flushing;
      more = count === FLUSH_BATCH;
    }
    if (backfilling) this.flushSoon();
  }

  /**
   * Indexes the next FLUSH_BATCH messages of the log from where the backfill stopped (inside a flush's
   * transaction); returns whether more remain. A message indexed twice (marked too) is the same entries.
   */
  private backfill(): boolean {
    const from = this.progress.get('backfill');
    if (from === 'done') return false;
    let last: [string, number] | undefined;
    let count = 0;
    for (const { key, value } of this.messages.getRange({ ...(from ? { start: from } : {}), limit: FLUSH_BATCH + 1 })) {
      if (from && key[0] === from[0] && key[1] === from[1]) continue;
      this.index(value);
      last = key;
      if (++count === FLUSH_BATCH) break;
    }
    this.progress.putSync('backfill', count === FLUSH_BATCH && last ? last : 'done');
    return count === FLUSH_BATCH;
  }

  private index(message: ChatMessage): void {
    for (const term of termsOf(message)) this.postings.putSync(term, [message.at, message.room, message.seq]);
  }

  /** Stops indexing later: what is marked stays marked (see the constructor). Resolves once a flush under way is written. */
  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    await this.flushing;
  }

  async search(query: StoreSearch): Promise<SearchHits> {
    // Every message readable now is found: those still marked are indexed first.
    await this.flush();
    try {
      return this.lookUp(query);
    } catch (error) {
      throw new StoreUnavailableError(`searching the embedded store failed: ${(error as Error).message}`);
    }
  }

  private lookUp(query: StoreSearch): SearchHits {
    const lists = [...query.terms];
    if (query.room !== undefined) lists.push(roomTerm(query.room));
    if (query.author !== undefined) lists.push(authorTerm(query.author));
    if (lists.length === 0) return { messages: [] };
    // Only the lists of rooms in scope are read: the public rooms', and those of each private room the
    // person is in. A private room's entries are never scanned for someone else, so neither the results nor
    // where the scan budget ran out can tell anything of it.
    const spaces =
      query.room === undefined
        ? ['', ...[...query.scope.privateRooms].map(privateSpace)]
        : !isPrivateRoom(query.room)
          ? ['']
          : query.scope.privateRooms.has(query.room)
            ? [privateSpace(query.room)]
            : [];
    const start: Upper = query.below
      ? { key: [query.below.at, query.below.room, query.below.seq], exclusive: true }
      : { key: [query.until ?? Number.MAX_SAFE_INTEGER], exclusive: false };
    let scanned = 0;
    const seek = (term: string, from: Upper): SearchPosition | undefined => {
      scanned++;
      return this.seek(term, from, query.since);
    };
    const streams = spaces.map((space) => {
      const matches = this.matches(
        lists.map((term) => space + term),
        start,
        seek,
      );
      return { matches, head: matches.next() };
    });
    const messages: ChatMessage[] = [];
    while (messages.length < query.limit) {
      // The newest match of all the lists read, as one list would give it.
      let newest: (typeof streams)[number] | undefined;
      for (const stream of streams) {
        if (!stream.head.done && (!newest || newer(stream.head.value, newest.head.value as SearchPosition))) newest = stream;
      }
      if (!newest || newest.head.done) return { messages };
      const candidate = newest.head.value;
      newest.head = newest.matches.next();
      const message = this.readable(candidate, query);
      if (message) messages.push(message);
      if (scanned >= query.scanLimit && messages.length < query.limit) return { messages, next: candidate };
    }
    return { messages, next: messages.at(-1) };
  }

  /**
   * The positions every one of `lists` holds, newest first from `start`: a leapfrog (each list in turn seeks
   * to the candidate; one that holds an older entry makes that the candidate; every list agreeing in a row
   * is a match).
   */
  private *matches(lists: readonly string[], start: Upper, seek: (term: string, from: Upper) => SearchPosition | undefined): Generator<SearchPosition> {
    let upper = start;
    for (;;) {
      let candidate = seek(lists[0]!, upper);
      for (let agreed = 1, i = 1; candidate && agreed < lists.length; i++) {
        const found = seek(lists[i % lists.length]!, { key: [candidate.at, candidate.room, candidate.seq], exclusive: false });
        if (found && found.at === candidate.at && found.room === candidate.room && found.seq === candidate.seq) agreed++;
        else agreed = 1;
        candidate = found;
      }
      if (!candidate) return;
      yield candidate;
      upper = { key: [candidate.at, candidate.room, candidate.seq], exclusive: true };
    }
  }

  private flushSoon(): void {
    this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
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

/**
 * What a message is indexed under: its words, its room and its author (in its private room's own space, for
 * a private room's message); nothing for a change entry, a deleted message or one without words.
 */
function termsOf(message: ChatMessage): string[] {
  if (message.change || message.deleted) return [];
  const words = indexTerms(message.text);
  if (words.length === 0) return [];
  const space = isPrivateRoom(message.room) ? privateSpace(message.room) : '';
  return [...words, roomTerm(message.room), authorTerm(message.author)].map((term) => space + term);
}

/** The prefix of a private room's terms: its lists lie apart from the public rooms' and from each other's. */
function privateSpace(room: string): string {
  return `\u0002${room}\u0000`;
}

/** Whether position `a` comes before `b` newest first: a later time, then the greater room, then the greater seq (the keys' order). */
function newer(a: SearchPosition, b: SearchPosition): boolean {
  if (a.at !== b.at) return a.at > b.at;
  if (a.room !== b.room) return a.room > b.room;
  return a.seq > b.seq;
}
