// The embedded store: each room's log in LMDB under DATA_DIR, for a single process without MongoDB.
// Sends that arrive together are written in one transaction (group commit): a lone message is written
// at once, and while a write is on disk the next ones queue and go in the following transaction.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { ChatMessage } from '../protocol';
import {
  StoreUnavailableError,
  type AppendListener,
  type AppendResult,
  type MessageStore,
  type NewMessage,
  newlyStored,
} from './store';

interface QueuedAppend {
  message: NewMessage;
  resolve: (result: AppendResult) => void;
  reject: (error: Error) => void;
}

/** Opens (or creates) the store under `dir`. */
export function openEmbeddedStore(dir: string): EmbeddedStore {
  mkdirSync(dir, { recursive: true });
  const root = open({ path: `${dir}/parley.lmdb` });
  return new EmbeddedStore(root);
}

export class EmbeddedStore implements MessageStore {
  readonly kind = 'embedded';
  readonly epoch: string;
  /** [room, seq] -> message */
  private readonly messages: Database<ChatMessage, [string, number]>;
  /** [room, clientId] -> seq: turns a resend into the original message. */
  private readonly clientIds: Database<number, [string, string]>;
  /** room -> last seq */
  private readonly heads: Database<number, string>;
  private readonly listeners = new Set<AppendListener>();
  private queue: QueuedAppend[] = [];
  private writing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly root: RootDatabase) {
    this.messages = root.openDB({ name: 'messages' });
    this.clientIds = root.openDB({ name: 'clientIds' });
    this.heads = root.openDB({ name: 'heads' });
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
      // then share the first transaction (a lone message waits a few microseconds, not a commit).
      this.writing ??= new Promise<void>((started) => setImmediate(started)).then(() => this.writeQueued());
    });
  }

  async readAfter(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    return this.read(() =>
      Array.from(this.messages.getRange({ start: [room, after + 1], end: [room, Number.MAX_SAFE_INTEGER], limit }), ({ value }) => value),
    );
  }

  async readBefore(room: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
    const start: [string, number] = [room, (before ?? Number.MAX_SAFE_INTEGER) - 1];
    return this.read(() =>
      Array.from(this.messages.getRange({ start, end: [room, 0], reverse: true, limit }), ({ value }) => value).reverse(),
    );
  }

  async head(room: string): Promise<number> {
    return this.read(() => this.heads.get(room) ?? 0);
  }

  async ping(): Promise<void> {
    this.read(() => this.heads.getStats());
  }

  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.root.close();
  }

  private read<T>(reader: () => T): T {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    try {
      return reader();
    } catch (error) {
      throw new StoreUnavailableError(`reading the embedded store failed: ${(error as Error).message}`);
    }
  }

  /** Writes everything queued, a transaction per turn, until the queue is empty. */
  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      let results: AppendResult[] = [];
      try {
        await this.root.transaction(() => {
          results = batch.map(({ message }) => this.appendInTransaction(message));
        });
      } catch (error) {
        const failure = new StoreUnavailableError(`writing to the embedded store failed: ${(error as Error).message}`);
        for (const queued of batch) queued.reject(failure);
        continue;
      }
      const stored = newlyStored(results);
      if (stored.length > 0) this.emit(stored);
      batch.forEach((queued, i) => queued.resolve(results[i] as AppendResult));
    }
    this.writing = undefined;
  }

  private appendInTransaction({ room, clientId, author, text }: NewMessage): AppendResult {
    const existing = this.clientIds.get([room, clientId]);
    if (existing !== undefined) {
      const original = this.messages.get([room, existing]);
      if (original) return { message: original, duplicate: true };
    }
    const seq = (this.heads.get(room) ?? 0) + 1;
    const message: ChatMessage = { room, seq, clientId, author, text, at: Date.now() };
    this.messages.putSync([room, seq], message);
    this.clientIds.putSync([room, clientId], seq);
    this.heads.putSync(room, seq);
    return { message, duplicate: false };
  }

  private emit(messages: readonly ChatMessage[]): void {
    for (const listener of this.listeners) listener(messages);
  }
}
