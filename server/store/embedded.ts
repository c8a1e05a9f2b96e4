// The embedded store: each room's log in LMDB under DATA_DIR, for a single process without MongoDB.
// Sends that arrive together are written in one transaction (group commit): those read in one turn of
// the event loop share it, and a lone message is written at once. Transactions are pipelined: the next
// one starts while the one before is still being flushed to disk (LMDB's overlapping sync). Each is
// acknowledged and announced to readers only once it is durable, in order, on the same turn of the event
// loop; messages of transactions that land on the same turn are announced together.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { EmbeddedAccountStore } from '../accounts/embedded-store';
import { EmbeddedRoomStore } from '../rooms/embedded-store';
import { applyChange } from '../changes/apply';
import { EmbeddedFileStore } from '../files/embedded-store';
import { isPrivateRoom, type ChatMessage } from '../protocol';
import { EmbeddedSearchIndex } from '../search/embedded-index';
import { lockDataDir, type DataDirLock } from './data-dir-lock';
import {
  StoreUnavailableError,
  type AppendListener,
  type AppendResult,
  type NewMessage,
  type Store,
  newlyStored,
} from './store';

interface QueuedAppend {
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

/**
 * Messages (or edit marks) a deleted room's log loses per transaction: a big room goes in parts, sends between
 * them. Each message's search postings go with it, which is most of the work: 500 hold the event loop about
 * 25 ms (2,000 held it 87 ms, a pause every reader of every room felt) in the same total time.
 */
const REMOVE_BATCH = 500;
/**
 * Characters of text a deleted room's log loses per transaction, at most (past one message's): a message's
 * search postings grow with its text, to MAX_TERMS_PER_MESSAGE, and 500 messages of 4,000 characters held the
 * event loop 580 ms. 40,000 (ten such messages, or 500 short ones) hold it about as long as 500 short ones.
 */
const REMOVE_TEXT = 40_000;

/** Opens (or creates) the store under `dir`, which no other process may use meanwhile (see data-dir-lock.ts). */
export function openEmbeddedStore(dir: string): EmbeddedStore {
  mkdirSync(dir, { recursive: true });
  const lock = lockDataDir(dir);
  try {
    // Named databases: messages, clientIds, heads, edits, meta, the accounts' and the files' (more than
    // LMDB's default of 12 once rooms come too).
    return new EmbeddedStore(open({ path: `${dir}/parley.lmdb`, maxDbs: 32 }), lock, `${dir}/files`);
  } catch (error) {
    lock.release();
    throw error;
  }
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded';
  readonly epoch: string;
  readonly accounts: EmbeddedAccountStore;
  readonly rooms: EmbeddedRoomStore;
  readonly files: EmbeddedFileStore;
  readonly search: EmbeddedSearchIndex;
  /** [room, seq] -> message */
  private readonly messages: Database<ChatMessage, [string, number]>;
  /** [room, clientId] -> seq: turns a resend into the original message. */
  private readonly clientIds: Database<number, [string, string]>;
  /** room -> last seq */
  private readonly heads: Database<number, string>;
  /** [room, target, seq] -> true for each edit entry: what a delete of the target empties. */
  private readonly edits: Database<true, [string, number, number]>;
  /**
   * room -> its last seq on disk, for each room written since the store opened. LMDB shows a transaction
   * to reads once it commits, a little before its flush (overlapping sync): reads stop here, so that no
   * reader is shown a message before its sender's ack, one that a power cut could still take back and the
   * next send would then get the seq of.
   */
  private readonly durableHeads = new Map<string, number>();
  private readonly listeners = new Set<AppendListener>();
  private queue: QueuedAppend[] = [];
  /** Set while a transaction for the queue is due on the next turn of the event loop. */
  private scheduled: NodeJS.Immediate | undefined;
  /** Settles when the last transaction started has settled. */
  private lastCommit: Promise<void> = Promise.resolve();
  /** Stored messages that readers have not been handed yet, in order. */
  private unannounced: ChatMessage[] = [];
  /** Set while an announcement is due on the next turn of the event loop. */
  private announcing: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly root: RootDatabase,
    private readonly lock: DataDirLock,
    /** Where uploaded files' bytes go. */
    filesDir: string,
  ) {
    this.messages = root.openDB({ name: 'messages' });
    this.clientIds = root.openDB({ name: 'clientIds' });
    this.heads = root.openDB({ name: 'heads' });
    this.edits = root.openDB({ name: 'edits' });
    this.accounts = new EmbeddedAccountStore(root, () => this.closed);
    this.rooms = new EmbeddedRoomStore(root, () => this.closed);
    this.files = new EmbeddedFileStore(root, filesDir, () => this.closed);
    this.search = new EmbeddedSearchIndex(root, this.messages, (room) => this.readableEnd(room));
    const meta = root.openDB<string, string>({ name: 'meta' });
    let epoch = meta.get('epoch');
    if (epoch === undefined) {
      epoch = randomBytes(8).toString('hex');
      meta.putSync('epoch', epoch);
    }
    this.epoch = epoch;
  }

  append(message: NewMessage): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      // Start on the next turn of the event loop, not at once: sends read from many sockets in this turn
      // then share one transaction (a lone message waits a few microseconds, not a commit).
      this.scheduled ??= setImmediate(() => this.commitQueued());
    });
  }

  async readAfter(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    const end: [string, number] = [room, this.readableEnd(room)];
    return this.read(() => Array.from(this.messages.getRange({ start: [room, after + 1], end, limit }), ({ value }) => value));
  }

  async readBefore(room: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
    const start: [string, number] = [room, Math.min(before ?? Number.MAX_SAFE_INTEGER, this.readableEnd(room)) - 1];
    return this.read(() =>
      Array.from(this.messages.getRange({ start, end: [room, 0], reverse: true, limit }), ({ value }) => value).reverse(),
    );
  }

  async byClientId(room: string, clientId: string): Promise<ChatMessage | undefined> {
    return this.read(() => {
      const seq = this.clientIds.get([room, clientId]);
      return seq === undefined || seq >= this.readableEnd(room) ? undefined : this.messages.get([room, seq]);
    });
  }

  async head(room: string): Promise<number> {
    return this.read(() => this.durableHeads.get(room) ?? this.heads.get(room) ?? 0);
  }

  async ping(): Promise<void> {
    this.read(() => this.heads.getStats());
  }

  async removeRoomLog(room: string): Promise<number> {
    let removed = 0;
    for (;;) {
      let count = 0;
      await this.write(() => {
        // Read first, then removed: a cursor is not walked while its own entries go.
        const batch: { key: [string, number]; value: ChatMessage }[] = [];
        let text = 0;
        for (const entry of this.messages.getRange({ start: [room, 0], end: [room, Number.MAX_SAFE_INTEGER], limit: REMOVE_BATCH })) {
          batch.push(entry);
          text += entry.value.text.length;
          if (text >= REMOVE_TEXT) break;
        }
        for (const { key, value } of batch) {
          this.search.remove(value);
          this.clientIds.removeSync([room, value.clientId]);
          this.messages.removeSync(key);
        }
        count = batch.length;
        if (count > 0) return;
        const edits = Array.from(this.edits.getKeys({ start: [room, 0, 0], end: [room, Number.MAX_SAFE_INTEGER, 0], limit: REMOVE_BATCH }));
        for (const key of edits) this.edits.removeSync(key);
        if (edits.length === 0) this.heads.removeSync(room);
        else count = -1;
      });
      if (count === 0) break;
      removed += Math.max(0, count);
    }
    this.durableHeads.delete(room);
    return removed;
  }

  async privateRoomsWithLogs(after: string | undefined, limit: number): Promise<string[]> {
    // Every room written has a head, removed last with its log. A private room's id is `~` and letters, below
    // `~\uffff`; a public room's name never starts with `~`.
    return this.read(() =>
      Array.from(this.heads.getKeys({ start: after ?? '~', end: '~\uffff', limit: limit + 1 }))
        .filter((room) => room !== after && isPrivateRoom(room))
        .slice(0, limit),
    );
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Its feed is what it writes, in order: it has no gaps to report. */
  onFeedGap(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.commitQueued();
    }
    await this.lastCommit;
    await this.search.close();
    // Every transaction has settled: what waits to be announced goes out now.
    clearImmediate(this.announcing);
    this.announce();
    try {
      await this.root.close();
    } finally {
      this.lock.release();
    }
  }

  /** The first seq of `room` that reads may not return yet (see durableHeads). */
  private readableEnd(room: string): number {
    const durable = this.durableHeads.get(room);
    return durable === undefined ? Number.MAX_SAFE_INTEGER : durable + 1;
  }

  /** Runs `writer` in a transaction of its own (not the appends' group commit), unless the store is closed. */
  private async write(writer: () => void): Promise<void> {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    try {
      await this.root.transaction(writer);
    } catch (error) {
      throw new StoreUnavailableError(`writing to the embedded store failed: ${(error as Error).message}`);
    }
  }

  private read<T>(reader: () => T): T {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    try {
      return reader();
    } catch (error) {
      throw new StoreUnavailableError(`reading the embedded store failed: ${(error as Error).message}`);
    }
  }

  /**
   * Writes everything queued in one transaction, without waiting for the transactions before it to be
   * flushed. Once it is durable, and the one before has settled, its appends resolve (the senders' acks)
   * and its messages are announced right after, never held for the transactions still in flight: while
   * senders keep sending one is always in flight, and readers would fall ever further behind the acks
   * (issue 19). Readers get each room's seqs in order, and nothing before the disk has it.
   */
  private commitQueued(): void {
    this.scheduled = undefined;
    const batch = this.queue;
    this.queue = [];
    let results: AppendResult[] = [];
    const committed = this.root.transaction(() => {
      results = batch.map(({ message }) => this.appendInTransaction(message));
    });
    const previous = this.lastCommit;
    this.lastCommit = Promise.allSettled([committed, previous]).then(([outcome]) => {
      if (outcome.status === 'rejected') {
        const failure = new StoreUnavailableError(`writing to the embedded store failed: ${(outcome.reason as Error).message}`);
        for (const queued of batch) queued.reject(failure);
      } else {
        const stored = newlyStored(results);
        for (const { room, seq } of stored) this.durableHeads.set(room, Math.max(seq, this.durableHeads.get(room) ?? 0));
        this.unannounced.push(...stored);
        batch.forEach((queued, i) => queued.resolve(results[i] as AppendResult));
      }
      this.announceSoon();
    });
  }

  /**
   * Announces the stored messages on the next turn of the event loop: after the acks, which the resolved
   * appends send from their own callbacks, so that a sender is not kept waiting behind the fan-out, and
   * together with those of any transaction landing on the same turn (one frame per reader for them all).
   */
  private announceSoon(): void {
    this.announcing ??= setImmediate(() => this.announce());
  }

  private announce(): void {
    this.announcing = undefined;
    const stored = this.unannounced;
    this.unannounced = [];
    if (stored.length > 0) this.emit(stored);
  }

  private appendInTransaction({ room, clientId, author, account, text, files, replyTo, change }: NewMessage): AppendResult {
    // The room's first write since the store opened: what is on disk of it now was flushed before.
    if (!this.durableHeads.has(room)) this.durableHeads.set(room, this.heads.get(room) ?? 0);
    const existing = this.clientIds.get([room, clientId]);
    if (existing !== undefined) {
      const original = this.messages.get([room, existing]);
      if (original) return { message: original, duplicate: true };
    }
    const seq = (this.heads.get(room) ?? 0) + 1;
    const message: ChatMessage = {
      room,
      seq,
      clientId,
      author,
      ...(account ? { account } : {}),
      text,
      ...(files ? { files } : {}),
      at: Date.now(),
      ...(replyTo === undefined ? {} : { replyTo }),
      ...(change ? { change } : {}),
    };
    const stored = change ? this.materialize(message) : message;
    this.messages.putSync([room, seq], stored);
    this.clientIds.putSync([room, clientId], seq);
    this.heads.putSync(room, seq);
    // Marked to be indexed in the transaction that stores it: a crash leaves both or neither.
    if (!change) this.search.add(message);
    return { message: stored, duplicate: false };
  }

  /**
   * Applies the change entry `entry` to its target's record, in the transaction that stores the entry, and
   * returns the entry to store. A delete empties the texts of the target's earlier edits; an edit of a
   * message deleted by then is stored without its text. Left out: the target is below the readable end, so
   * a history read can show the change a moment before its transaction is flushed (durableHeads holds back
   * new entries only); a power cut in that moment takes back a change a reader saw.
   */
  private materialize(entry: ChatMessage): ChatMessage {
    const { room, change } = entry;
    if (!change) return entry;
    const target = this.messages.get([room, change.target]);
    if (!target) return entry;
    const changed = applyChange(target, entry);
    if (changed !== target) this.messages.putSync([room, target.seq], changed);
    // An edit is found by its new words only; a deleted message by none.
    if (changed.text !== target.text || changed.deleted !== target.deleted) this.search.replace(target, changed);
    if (change.kind === 'delete') {
      for (const { key } of this.edits.getRange({ start: [room, target.seq, 0], end: [room, target.seq, Number.MAX_SAFE_INTEGER] })) {
        const edit = this.messages.get([room, key[2]]);
        if (edit) this.messages.putSync([room, key[2]], { ...edit, text: '' });
        this.edits.removeSync(key);
      }
    }
    if (change.kind !== 'edit') return entry;
    if (changed.deleted) return { ...entry, text: '' };
    this.edits.putSync([room, target.seq, entry.seq], true);
    return entry;
  }

  private emit(messages: readonly ChatMessage[]): void {
    for (const listener of this.listeners) listener(messages);
  }
}
