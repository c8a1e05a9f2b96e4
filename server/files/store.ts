// The one interface both stores keep for uploaded files (the contract suite, test/files.contract.ts, holds
// them to it): a file's bytes and its record, who uploaded it to which room, and the message it belongs to.
import type { Readable } from 'node:stream';

/** What is known of a file before its bytes are stored. */
export interface NewFile {
  /** A random id (server/files/files.ts makes it): names the file in URLs and in messages. */
  id: string;
  room: string;
  /** The session that uploaded it (Session.id): only it may attach the file to a message. */
  session: string;
  /** The person that uploaded it (Session.userId): their quota counts it. */
  owner: string;
  /** The name as the uploader gave it (shown, and offered when saved); never used to find a type. */
  name: string;
  /** The type read from the content (server/files/sniff.ts). */
  type: string;
  /** For images: the size the uploader's browser measured, so that a thumbnail keeps its place as it loads. */
  width?: number;
  height?: number;
  /**
   * A guest's upload only: the client address it came from (server/limits.ts clientIp). The files of every
   * guest of one address count together against MAX_GUEST_FILE_BYTES_PER_IP, also once those guests are gone.
   * Absent for an account's upload, and on files stored before addresses were kept: those count against
   * their owner alone, as before. Never shown to anyone (a message carries a FileAttachment).
   */
  guestAddress?: string;
}

export interface StoredFile extends NewFile {
  size: number;
  /** When it was stored, in ms since the epoch. */
  createdAt: number;
  /** The message (its room's clientId) the file was attached to; absent while the upload waits for a send. */
  clientId?: string;
}

/** What `put` holds a file to, besides the bytes its body may yield. */
export interface PutLimits {
  /** Bytes the files of `file.guestAddress` may hold together, this one included (MAX_GUEST_FILE_BYTES_PER_IP). */
  guestAddressBytes: number;
}

/** `put` kept nothing: with the file, the guests of its address would hold more than PutLimits allow. */
export class GuestAddressFull extends Error {
  override name = 'GuestAddressFull';
  constructor(
    /** What the address's guests hold without this file, as the store last counted. */
    readonly held: number,
  ) {
    super(`the guests of this address hold ${held} bytes of files`);
  }
}

/** Why `attach` refused a file: it does not exist, or belongs to someone else, another room, another message. */
export type AttachRefusal = { id: string; reason: 'missing' | 'not_yours' | 'other_room' | 'attached_elsewhere' };

export interface FileStore {
  /**
   * Stores the bytes `body` yields under `file.id`, durably, then its record. If `body` throws (the upload was
   * cut off or passed a limit), nothing is kept and the error is thrown again. With `limits`, a guest's file
   * (`file.guestAddress`) is kept only if its address's guests then hold at most `guestAddressBytes`; else
   * nothing is kept and put throws GuestAddressFull. This is checked against what is stored, as the record is
   * written: two puts racing for an address's last bytes never both pass (on MongoDB, neither may).
   */
  put(file: NewFile, body: AsyncIterable<Buffer>, limits?: PutLimits): Promise<StoredFile>;
  /** The file's record, or undefined. */
  get(id: string): Promise<StoredFile | undefined>;
  /** The file's bytes, or undefined when it does not exist (any more). */
  open(id: string): Promise<Readable | undefined>;
  /**
   * Marks the files as belonging to the message `clientId` of `room`, all or none: each must have been
   * uploaded by `session` to `room`, and be unattached or attached to this same clientId (a resend).
   * Resolves with their records, in the order asked, or with the first refusal (then nothing changed).
   */
  attach(ids: readonly string[], room: string, session: string, clientId: string): Promise<StoredFile[] | AttachRefusal>;
  /** Removes the files, bytes and records; ids that do not exist are ignored. */
  remove(ids: readonly string[]): Promise<void>;
  /**
   * Removes every file uploaded to `room`, sent or waiting for a send, bytes and records: the room was
   * deleted. Resolves with how many it removed; safe to call again (a call cut short is finished by the next).
   */
  removeRoom(room: string): Promise<number>;
  /**
   * Up to `limit` private rooms (ids starting with `~`) that hold files, in id order, after `after` when given:
   * what the sweep of deleted rooms' files pages through.
   */
  privateRoomsWithFiles(after: string | undefined, limit: number): Promise<string[]>;
  /** What `owner` holds: files and bytes in all, and how many wait for a send (unattached). */
  usage(owner: string): Promise<FileUsage>;
  /** What the guests of `address` hold together: the files stored with that guestAddress. */
  guestUsage(address: string): Promise<FileUsage>;
  /** Removes up to `limit` unattached files stored before `before`; resolves with how many it removed. */
  sweepUnattached(before: number, limit: number): Promise<number>;
}

export interface FileUsage {
  files: number;
  bytes: number;
  unattached: number;
}

/** Why `file` (with this id) may not go with the message `clientId` that `session` sends to `room`; undefined when it may. */
export function refuseAttach(id: string, file: StoredFile | undefined, room: string, session: string, clientId: string): AttachRefusal | undefined {
  if (!file) return { id, reason: 'missing' };
  if (file.session !== session) return { id, reason: 'not_yours' };
  if (file.room !== room) return { id, reason: 'other_room' };
  if (file.clientId !== undefined && file.clientId !== clientId) return { id, reason: 'attached_elsewhere' };
  return undefined;
}
