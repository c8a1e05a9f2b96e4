// The files part of the MongoDB store: GridFS (the driver's GridFSBucket, bucket `files`), so that every
// instance serves every file and MongoDB's replication keeps them. A file's record is its GridFS files
// document: `length` and `uploadDate` are GridFS's own, the rest is in `metadata`.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GridFSBucket, ReadPreference, type Collection, type CollectionOptions, type Db, type ObjectId } from 'mongodb';
import { privateRoomsAfter } from '../store/mongo-private-rooms';
import { StoreUnavailableError } from '../store/store';
import { GuestAddressFull, refuseAttach, type AttachRefusal, type FileStore, type FileUsage, type NewFile, type PutLimits, type StoredFile } from './store';

const BUCKET = 'files';
/** Files a deleted room's removal deletes per round trip. */
const REMOVE_BATCH = 1000;

interface FileMetadata {
  room: string;
  session: string;
  owner: string;
  type: string;
  width?: number;
  height?: number;
  /** Whether a message holds the file: the sweep's index looks at this, with uploadDate. */
  attached: boolean;
  clientId?: string;
  /** A guest's upload: the address whose guests it counts for (NewFile.guestAddress). */
  guestAddress?: string;
}

/** A GridFS files document with Parley's metadata; `_id` is the file's random id (GridFS takes any _id). */
interface FileDocument {
  _id: string;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata: FileMetadata;
}

interface ChunkDocument {
  files_id: string;
}

/** Creates the indexes the files' queries use (idempotent): called when the store opens. */
export async function createFileIndexes(db: Db): Promise<void> {
  await db.collection(`${BUCKET}.files`).createIndexes([
    { key: { 'metadata.owner': 1 }, name: 'owner' },
    // Sparse: accounts' files, and those stored before addresses were kept, have none.
    { key: { 'metadata.guestAddress': 1 }, name: 'guestAddress', sparse: true },
    { key: { 'metadata.attached': 1, uploadDate: 1 }, name: 'attached_uploadDate' },
    { key: { 'metadata.room': 1 }, name: 'room' },
  ]);
}

export class MongoFileStore implements FileStore {
  private readonly bucket: GridFSBucket;
  private readonly files: Collection<FileDocument>;
  private readonly chunks: Collection<ChunkDocument>;

  constructor(
    db: Db,
    /** The log's read and write concerns: a file acked is on a majority, and reads see only what is. */
    options: CollectionOptions,
    private readonly operationTimeoutMs: number,
    private readonly isClosed: () => boolean,
  ) {
    this.bucket = new GridFSBucket(db, { bucketName: BUCKET, readPreference: ReadPreference.primary, ...(options.writeConcern ? { writeConcern: options.writeConcern } : {}) });
    this.files = db.collection<FileDocument>(`${BUCKET}.files`, options);
    this.chunks = db.collection<ChunkDocument>(`${BUCKET}.chunks`, options);
  }

  async put(file: NewFile, body: AsyncIterable<Buffer>, limits?: PutLimits): Promise<StoredFile> {
    this.checkOpen();
    const { id, name, ...rest } = file;
    const metadata: FileMetadata = {
      room: rest.room,
      session: rest.session,
      owner: rest.owner,
      type: rest.type,
      attached: false,
      ...dimensions(rest),
      ...(rest.guestAddress !== undefined ? { guestAddress: rest.guestAddress } : {}),
    };
    // GridFS takes any _id; the driver's types name ObjectId only.
    const upload = this.bucket.openUploadStreamWithId(id as unknown as ObjectId, name, { metadata });
    try {
      await pipeline(body, upload);
    } catch (error) {
      // The files document is written last, on a complete upload: what is left are chunks.
      await this.chunks.deleteMany({ files_id: id }).catch(() => undefined);
      if (error instanceof Error && error.name.startsWith('Mongo')) throw new StoreUnavailableError(`storing a file in GridFS failed: ${error.message}`);
      throw error;
    }
    const stored = await this.get(id);
    if (!stored) throw new StoreUnavailableError('GridFS did not keep the file it acknowledged');
    if (limits && stored.guestAddress !== undefined) await this.holdToAddressBound(stored, stored.guestAddress, limits.guestAddressBytes);
    return stored;
  }

  /**
   * GridFS writes the record as the upload ends, with no condition: the address's bound is checked after,
   * against what is stored (majority-acknowledged writes, majority reads from the primary), and the file is
   * removed again when it passes it. Of two files racing for the last bytes, the later to be counted sees
   * the other (both may see each other: then neither is kept), so the bound holds across instances. If the
   * removal fails, the unsent file goes with the sweep of UPLOAD_TTL_MINUTES.
   */
  private async holdToAddressBound(stored: StoredFile, address: string, maxBytes: number): Promise<void> {
    const held = (await this.sum({ 'metadata.guestAddress': address })).bytes;
    if (held <= maxBytes) return;
    await this.remove([stored.id]);
    throw new GuestAddressFull(held - stored.size);
  }

  async get(id: string): Promise<StoredFile | undefined> {
    const doc = await this.guard(() => this.files.findOne({ _id: id }, { maxTimeMS: this.operationTimeoutMs }));
    return doc ? toStoredFile(doc) : undefined;
  }

  async open(id: string): Promise<Readable | undefined> {
    if (!(await this.get(id))) return undefined;
    return this.bucket.openDownloadStream(id as unknown as ObjectId);
  }

  async attach(ids: readonly string[], room: string, session: string, clientId: string): Promise<StoredFile[] | AttachRefusal> {
    const claimed: string[] = [];
    for (const id of ids) {
      // Claimed one by one with a condition: two sends cannot both take a file (only one update matches).
      const result = await this.guard(() =>
        this.files.updateOne(
          { _id: id, 'metadata.room': room, 'metadata.session': session, 'metadata.attached': false },
          { $set: { 'metadata.attached': true, 'metadata.clientId': clientId } },
        ),
      );
      if (result.modifiedCount === 1) {
        claimed.push(id);
        continue;
      }
      const file = await this.get(id);
      const refusal = refuseAttach(id, file, room, session, clientId);
      if (refusal) {
        // All or none: what this call claimed is let go again.
        if (claimed.length > 0) {
          await this.guard(() =>
            this.files.updateMany({ _id: { $in: claimed }, 'metadata.clientId': clientId }, { $set: { 'metadata.attached': false }, $unset: { 'metadata.clientId': '' } }),
          );
        }
        return refusal;
      }
    }
    const docs = await this.guard(() => this.files.find({ _id: { $in: [...ids] } }, { maxTimeMS: this.operationTimeoutMs }).toArray());
    const byId = new Map(docs.map((doc) => [doc._id, toStoredFile(doc)]));
    return ids.map((id) => byId.get(id)).filter((file): file is StoredFile => file !== undefined);
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    // The record first: once it is gone the file is not served, whatever happens to the chunks.
    await this.guard(() => this.files.deleteMany({ _id: { $in: [...ids] } }));
    await this.guard(() => this.chunks.deleteMany({ files_id: { $in: [...ids] } }));
  }

  async removeRoom(room: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await this.guard(() => this.files.find({ 'metadata.room': room }, { projection: { _id: 1 }, limit: REMOVE_BATCH, maxTimeMS: this.operationTimeoutMs }).toArray());
      if (batch.length === 0) return removed;
      const ids = batch.map((doc) => doc._id);
      // The chunks first, then the records: a record is what finds the room's files again, so a failure
      // between the two leaves records (of a room nobody can read) for the next call to finish, never chunks
      // that nothing names. An upload still streaming into the room has no record yet: its chunks stay.
      await this.guard(() => this.chunks.deleteMany({ files_id: { $in: ids } }));
      removed += (await this.guard(() => this.files.deleteMany({ _id: { $in: ids } }))).deletedCount;
    }
  }

  privateRoomsWithFiles(after: string | undefined, limit: number): Promise<string[]> {
    // From one room to the next on the `room` index.
    return privateRoomsAfter(
      async (range) =>
        (await this.guard(() => this.files.findOne({ 'metadata.room': range }, { projection: { 'metadata.room': 1 }, sort: { 'metadata.room': 1 }, maxTimeMS: this.operationTimeoutMs })))?.metadata.room,
      after,
      limit,
    );
  }

  async usage(owner: string): Promise<FileUsage> {
    return this.sum({ 'metadata.owner': owner });
  }

  async guestUsage(address: string): Promise<FileUsage> {
    return this.sum({ 'metadata.guestAddress': address });
  }

  /** The files, bytes and unattached files of the records that `match` (an indexed field) selects. */
  private async sum(match: Record<string, string>): Promise<FileUsage> {
    const [sums] = await this.guard(() =>
      this.files
        .aggregate<FileUsage>(
          [
            { $match: match },
            {
              $group: {
                _id: null,
                files: { $sum: 1 },
                bytes: { $sum: '$length' },
                unattached: { $sum: { $cond: ['$metadata.attached', 0, 1] } },
              },
            },
            { $project: { _id: 0, files: 1, bytes: 1, unattached: 1 } },
          ],
          { maxTimeMS: this.operationTimeoutMs },
        )
        .toArray(),
    );
    return sums ?? { files: 0, bytes: 0, unattached: 0 };
  }

  async sweepUnattached(before: number, limit: number): Promise<number> {
    const expired = await this.guard(() =>
      this.files.find({ 'metadata.attached': false, uploadDate: { $lt: new Date(before) } }, { projection: { _id: 1 }, limit, maxTimeMS: this.operationTimeoutMs }).toArray(),
    );
    await this.remove(expired.map((doc) => doc._id));
    return expired.length;
  }

  private checkOpen(): void {
    if (this.isClosed()) throw new StoreUnavailableError('the store is closed');
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    this.checkOpen();
    try {
      return await work();
    } catch (error) {
      throw new StoreUnavailableError(`MongoDB (files): ${(error as Error).message}`);
    }
  }
}

function dimensions({ width, height }: { width?: number; height?: number }): { width?: number; height?: number } {
  return width !== undefined && height !== undefined ? { width, height } : {};
}

function toStoredFile({ _id, length, uploadDate, filename, metadata }: FileDocument): StoredFile {
  return {
    id: _id,
    room: metadata.room,
    session: metadata.session,
    owner: metadata.owner,
    name: filename,
    type: metadata.type,
    ...dimensions(metadata),
    size: length,
    createdAt: uploadDate.getTime(),
    ...(metadata.clientId !== undefined ? { clientId: metadata.clientId } : {}),
    ...(metadata.guestAddress !== undefined ? { guestAddress: metadata.guestAddress } : {}),
  };
}
