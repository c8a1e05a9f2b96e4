// The files part of the embedded store: each file's bytes in a file of its own under DATA_DIR/files, its
// record in LMDB beside the rooms' logs. The bytes are written to a temporary name, flushed, then renamed,
// and only then is the record written: a record always has its bytes. What a crash can leave behind (a
// temporary file, bytes whose record was not yet written or already removed) is removed when the store opens.
// A room's files are found by an index of their own, kept in the same transactions as the records.
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Database, RootDatabase } from 'lmdb';
import { StoreUnavailableError } from '../store/store';
import { GuestAddressFull, refuseAttach, type AttachRefusal, type FileStore, type FileUsage, type NewFile, type PutLimits, type StoredFile } from './store';

const NO_USAGE: FileUsage = { files: 0, bytes: 0, unattached: 0 };

export class EmbeddedFileStore implements FileStore {
  /** id -> record */
  private readonly records: Database<StoredFile, string>;
  /** owner -> what they hold, kept in the transactions that change it. */
  private readonly usages: Database<FileUsage, string>;
  /** guestAddress -> what the guests of that address hold together, kept the same way. */
  private readonly guestUsages: Database<FileUsage, string>;
  /** [createdAt, id] -> true, for each file not attached to a message: what the sweep looks at. */
  private readonly unattached: Database<true, [number, string]>;
  /** [room, id] -> true, for each file: what removing a deleted room's files reads. */
  private readonly roomFiles: Database<true, [string, string]>;
  private readonly tmp: string;

  constructor(
    private readonly root: RootDatabase,
    /** Where the bytes go: DATA_DIR/files. */
    private readonly dir: string,
    /** Whether the store is closed: then every call fails as an unreachable store would. */
    private readonly isClosed: () => boolean,
  ) {
    this.records = root.openDB({ name: 'files' });
    this.usages = root.openDB({ name: 'fileUsage' });
    this.guestUsages = root.openDB({ name: 'guestFileUsage' });
    this.unattached = root.openDB({ name: 'unattachedFiles' });
    this.roomFiles = root.openDB({ name: 'roomFiles' });
    // Files stored before the index existed (every record has its entry since): indexed once, in one
    // transaction, so that an index with entries is a whole one.
    if (this.roomFiles.getKeysCount({ limit: 1 }) === 0 && this.records.getKeysCount({ limit: 1 }) > 0) {
      root.transactionSync(() => {
        for (const { key, value } of this.records.getRange()) this.roomFiles.putSync([value.room, key], true);
      });
    }
    this.tmp = join(dir, 'tmp');
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true });
    for (const name of readdirSync(dir)) {
      if (name !== 'tmp' && !this.records.doesExist(name)) rmSync(join(dir, name), { force: true });
    }
  }


  async put(file: NewFile, body: AsyncIterable<Buffer>, limits?: PutLimits): Promise<StoredFile> {
    this.checkOpen();
    const partial = join(this.tmp, file.id);
    let size = 0;
    try {
      await pipeline(
        body,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(partial, { flags: 'wx' }),
      );
      await flush(partial);
      await rename(partial, this.pathOf(file.id));
      await flush(this.dir);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    const stored: StoredFile = { ...file, size, createdAt: Date.now() };
    let refusal: GuestAddressFull | undefined;
    try {
      // The address's bound is checked in the transaction that writes the record: writes take turns, so a
      // file racing this one is either counted here already or counts this one.
      refusal = await this.write(() => {
        const held = file.guestAddress === undefined ? 0 : (this.guestUsages.get(file.guestAddress) ?? NO_USAGE).bytes;
        if (limits && file.guestAddress !== undefined && held + size > limits.guestAddressBytes) return new GuestAddressFull(held);
        this.records.putSync(file.id, stored);
        this.unattached.putSync([stored.createdAt, file.id], true);
        this.roomFiles.putSync([file.room, file.id], true);
        this.count(stored, { files: 1, bytes: size, unattached: 1 });
        return undefined;
      });
    } catch (error) {
      await rm(this.pathOf(file.id), { force: true });
      throw error;
    }
    if (refusal) {
      await rm(this.pathOf(file.id), { force: true });
      throw refusal;
    }
    return stored;
  }

  async get(id: string): Promise<StoredFile | undefined> {
    return this.read(() => this.records.get(id));
  }

  async open(id: string): Promise<Readable | undefined> {
    if (!(await this.get(id))) return undefined;
    const stream = createReadStream(this.pathOf(id));
    return new Promise((resolve, reject) => {
      stream.once('ready', () => resolve(stream));
      stream.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') resolve(undefined); // removed since the record was read
        else reject(new StoreUnavailableError(`reading a file failed: ${error.message}`));
      });
    });
  }

  attach(ids: readonly string[], room: string, session: string, clientId: string): Promise<StoredFile[] | AttachRefusal> {
    return this.write(() => {
      const files: StoredFile[] = [];
      for (const id of ids) {
        const file = this.records.get(id);
        const refusal = refuseAttach(id, file, room, session, clientId);
        if (refusal) return refusal;
        files.push(file as StoredFile);
      }
      return files.map((file) => {
        if (file.clientId !== undefined) return file;
        const attached: StoredFile = { ...file, clientId };
        this.records.putSync(file.id, attached);
        this.unattached.removeSync([file.createdAt, file.id]);
        this.count(file, { files: 0, bytes: 0, unattached: -1 });
        return attached;
      });
    });
  }

  async remove(ids: readonly string[]): Promise<void> {
    await this.removeFiles(() => ids);
  }

  async removeRoom(room: string): Promise<number> {
    return this.removeFiles(() => Array.from(this.roomFiles.getKeys({ start: [room, ''], end: [room, '\uffff'] }), ([, id]) => id));
  }

  async privateRoomsWithFiles(after: string | undefined, limit: number): Promise<string[]> {
    return this.read(() => {
      const rooms: string[] = [];
      // From one room to the next past all its files' entries: one seek per room. A private room's id is `~`
      // and letters, below `~\uffff`; a public room's name never starts with `~`.
      let start: [string, string] = after === undefined ? ['~', ''] : [after, '\uffff'];
      while (rooms.length < limit) {
        const [next] = Array.from(this.roomFiles.getKeys({ start, end: ['~\uffff', ''], limit: 1 }));
        if (!next) break;
        rooms.push(next[0]);
        start = [next[0], '\uffff'];
      }
      return rooms;
    });
  }

  async usage(owner: string): Promise<FileUsage> {
    return this.read(() => this.usages.get(owner) ?? NO_USAGE);
  }

  async guestUsage(address: string): Promise<FileUsage> {
    return this.read(() => this.guestUsages.get(address) ?? NO_USAGE);
  }

  async sweepUnattached(before: number, limit: number): Promise<number> {
    const expired = await this.read(() => Array.from(this.unattached.getKeys({ start: [0, ''], end: [before, ''], limit }), ([, id]) => id));
    if (expired.length > 0) await this.remove(expired);
    return expired.length;
  }

  /** Removes a file's record (in a write transaction); whether there was one. */
  private removeRecord(id: string): boolean {
    const file = this.records.get(id);
    if (!file) return false;
    this.records.removeSync(id);
    this.roomFiles.removeSync([file.room, id]);
    if (file.clientId === undefined) this.unattached.removeSync([file.createdAt, id]);
    this.count(file, { files: -1, bytes: -file.size, unattached: file.clientId === undefined ? -1 : 0 });
    return true;
  }

  /**
   * Removes the records of the files `select` names (read in the write transaction), then their bytes; how
   * many it removed. Bytes a crash leaves between the two are removed when the store opens: they have no
   * record any more.
   */
  private async removeFiles(select: () => readonly string[]): Promise<number> {
    const removed = await this.write(() => select().filter((id) => this.removeRecord(id)));
    for (const id of removed) await rm(this.pathOf(id), { force: true });
    return removed.length;
  }

  /** Adds `change` to what the file's owner holds, and its address's guests (in a write transaction). */
  private count(file: StoredFile, change: FileUsage): void {
    addUsage(this.usages, file.owner, change);
    if (file.guestAddress !== undefined) addUsage(this.guestUsages, file.guestAddress, change);
  }

  /** Ids are random base64url (see files.ts), checked before they get here: never a path of their own. */
  private pathOf(id: string): string {
    return join(this.dir, id);
  }

  private checkOpen(): void {
    if (this.isClosed()) throw new StoreUnavailableError('the store is closed');
  }

  private read<T>(reader: () => T): T {
    this.checkOpen();
    try {
      return reader();
    } catch (error) {
      throw new StoreUnavailableError(`reading the embedded store failed: ${(error as Error).message}`);
    }
  }

  /** Runs `writer` in a write transaction: it sees no other write between its reads and its own writes. */
  private async write<T>(writer: () => T): Promise<T> {
    this.checkOpen();
    try {
      return await this.root.transaction(writer);
    } catch (error) {
      throw new StoreUnavailableError(`writing to the embedded store failed: ${(error as Error).message}`);
    }
  }
}

/** Adds `change` to the usage under `key`; a usage of no files is removed. */
function addUsage(usages: Database<FileUsage, string>, key: string, change: FileUsage): void {
  const usage = usages.get(key) ?? NO_USAGE;
  const sum: FileUsage = {
    files: Math.max(0, usage.files + change.files),
    bytes: Math.max(0, usage.bytes + change.bytes),
    unattached: Math.max(0, usage.unattached + change.unattached),
  };
  if (sum.files === 0) usages.removeSync(key);
  else usages.putSync(key, sum);
}

/** Flushes a file or directory to disk (fsync). */
async function flush(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
