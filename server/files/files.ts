// Files in messages: an upload is stored first (its type read from its bytes, within the uploader's
// limits), then a send names it in `files`, and the message carries what was stored. Deleting a message
// deletes its files, deleting a private room all of the room's; an upload no message took is removed after
// UPLOAD_TTL_MINUTES. An account holds up to MAX_USER_FILE_BYTES of files; guests, who cost nothing to make,
// hold theirs together per client address (MAX_GUEST_FILE_BYTES_PER_IP), counted from the stored files, so a
// guest that goes frees nothing by going.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Session } from '../accounts/accounts';
import type { AppContext } from '../context';
import { ApiError } from '../errors';
import { formatBytes } from '../format';
import { ErrorCode, FILE_ID_PATTERN, INLINE_IMAGE_TYPES, MAX_FILE_NAME_LENGTH, type ChatMessage, type FileAttachment } from '../protocol';
import { mayReadFiles, mayUploadFiles } from './access';
import { sniffType, SNIFF_BYTES } from './sniff';
import { GuestAddressFull, type AttachRefusal, type StoredFile } from './store';

/**
 * Uploads one person may stream at once. Their limits are checked as each begins, so this bounds how far
 * uploads side by side can pass MAX_USER_FILE_BYTES together (by this many files at most).
 */
const UPLOADS_AT_ONCE = 3;
/** Unsent uploads removed per sweep, at most (the next sweep goes on). */
const SWEEP_BATCH = 1000;

/** The uploads being streamed now, per person (Session.userId). */
export class UploadsUnderWay {
  private readonly counts = new Map<string, number>();

  /** Counts one more upload for `owner`, or refuses it (rate_limited) past UPLOADS_AT_ONCE; returns its end. */
  begin(owner: string): () => void {
    const count = this.counts.get(owner) ?? 0;
    if (count >= UPLOADS_AT_ONCE) throw new ApiError(ErrorCode.rateLimited, `at most ${UPLOADS_AT_ONCE} uploads at once`, 1000);
    this.counts.set(owner, count + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.counts.get(owner) ?? 1) - 1;
      if (left === 0) this.counts.delete(owner);
      else this.counts.set(owner, left);
    };
  }
}

/** Who uploads: the session, and the address the per-IP limits count (server/limits.ts clientIp). */
export interface Uploader {
  session: Session | undefined;
  ip: string;
}

export interface Upload {
  room: string;
  /** The name as given: cleaned here (see cleanFileName). */
  name: string;
  width?: number;
  height?: number;
  /** The Content-Length the client declared, when it did: a body over the limits is refused before any of it is read. */
  declaredLength?: number;
  body: AsyncIterable<Buffer>;
}

/**
 * Stores an upload of `session` to `room`, within MAX_FILE_BYTES and the person's limits (bytes held,
 * uploads waiting for a send), and for a guest within what the guests of its address hold together;
 * refused before reading when the declared length is over, cut off once the bytes are. Its type is read
 * from its first bytes.
 */
export async function storeUpload(ctx: Pick<AppContext, 'store' | 'config' | 'rooms' | 'uploads'>, { session, ip }: Uploader, upload: Upload): Promise<FileAttachment> {
  if (!session) throw new ApiError(ErrorCode.unauthenticated, 'sign in, or pick a guest nickname, before uploading (POST /api/session)');
  if (!(await mayUploadFiles(ctx, session, upload.room))) throw new ApiError(ErrorCode.notFound, `there is no room ${upload.room}`);
  const { config, store } = ctx;
  const end = ctx.uploads.begin(session.userId);
  try {
    const usage = await store.files.usage(session.userId);
    if (usage.unattached >= config.maxPendingFiles) {
      throw new ApiError(ErrorCode.quotaExceeded, `you have ${usage.unattached} uploads waiting to be sent (at most ${config.maxPendingFiles}): send them, or wait for them to expire`);
    }
    let quota = personalQuota(config.maxUserFileBytes, usage.bytes);
    if (session.guest) {
      const shared = guestsQuota(config.maxGuestFileBytesPerIp, (await store.files.guestUsage(ip)).bytes);
      // The tighter bound speaks; on a tie the guests' (its refusal tells of signing up).
      if (shared.left <= quota.left) quota = shared;
    }
    if (quota.left <= 0) throw quota.full();
    const overLimit = quota.left < config.maxFileBytes ? quota.over : fileTooLarge(config.maxFileBytes);
    const allowed = Math.min(quota.left, config.maxFileBytes);
    if (upload.declaredLength !== undefined && upload.declaredLength > allowed) throw overLimit();
    const { head, rest } = await readHead(atMost(upload.body, allowed, overLimit), SNIFF_BYTES);
    if (head.length === 0) throw new ApiError(ErrorCode.invalidRequest, 'the file is empty');
    const type = sniffType(head);
    const image = INLINE_IMAGE_TYPES.has(type) && upload.width !== undefined && upload.height !== undefined;
    const stored = await store.files.put(
      {
        id: newFileId(),
        room: upload.room,
        session: session.id,
        owner: session.userId,
        name: cleanFileName(upload.name),
        type,
        ...(image ? { width: upload.width, height: upload.height } : {}),
        ...(session.guest ? { guestAddress: ip } : {}),
      },
      rest,
      { guestAddressBytes: config.maxGuestFileBytesPerIp },
    ).catch((error: unknown) => {
      // Other guests of the address stored files while this one streamed in.
      if (error instanceof GuestAddressFull) throw guestsQuota(config.maxGuestFileBytesPerIp, error.held).over();
      throw error;
    });
    // The room may have been deleted (its last member left), or the uploader removed from it, while the bytes
    // came in: a deletion removes the files it finds, and this one was not stored yet. Asked again now that it
    // is, the same question goes the other way: whichever came last removes the file.
    try {
      await mayUploadFiles(ctx, session, upload.room);
    } catch (error) {
      await store.files.remove([stored.id]);
      throw error;
    }
    return attachmentOf(stored);
  } finally {
    end();
  }
}

/**
 * Checks that `ids` are uploads of `session` to `room`, not sent with another message, and marks them as
 * the message `clientId`'s (a resend with the same clientId finds them its own): what the message carries.
 */
export async function attachFiles(ctx: Pick<AppContext, 'store' | 'config'>, session: Session, room: string, clientId: string, ids: readonly string[]): Promise<FileAttachment[]> {
  if (ids.length > ctx.config.maxFilesPerMessage) {
    throw new ApiError(ErrorCode.tooLarge, `a message carries at most ${ctx.config.maxFilesPerMessage} files (this one has ${ids.length})`);
  }
  const attached = await ctx.store.files.attach(ids, room, session.id, clientId);
  if (!Array.isArray(attached)) throw refusedAttach(attached);
  return attached.map(attachmentOf);
}

/**
 * Deletes the files `message` carries: what deleting a message calls (appendMessage, once the delete is
 * stored). Safe to call again: files already gone are ignored.
 */
export async function deleteMessageFiles(ctx: Pick<AppContext, 'store'>, message: Pick<ChatMessage, 'files'>): Promise<void> {
  if (message.files && message.files.length > 0) await ctx.store.files.remove(message.files.map((file) => file.id));
}

/**
 * A resend answered with the message stored first (`stored`): files it named that the message does not carry
 * were attached to its clientId all the same; no message carries them, so no delete would ever remove them.
 */
export async function removeUncarriedFiles(ctx: Pick<AppContext, 'store'>, sent: readonly FileAttachment[], stored: Pick<ChatMessage, 'files'>): Promise<void> {
  const carried = new Set((stored.files ?? []).map((file) => file.id));
  const uncarried = sent.filter((file) => !carried.has(file.id)).map((file) => file.id);
  if (uncarried.length > 0) await ctx.store.files.remove(uncarried);
}

/** Removes uploads no message took within UPLOAD_TTL_MINUTES, a batch at a time; how many it removed. */
export function sweepExpiredUploads(ctx: Pick<AppContext, 'store' | 'config'>, now = Date.now()): Promise<number> {
  return ctx.store.files.sweepUnattached(now - ctx.config.uploadTtlMs, SWEEP_BATCH);
}

/** The file `id` and its bytes, for `session` to fetch: not_found when it does not exist or they may not read its room. */
export async function openFile(ctx: AppContext, session: Session | undefined, id: string): Promise<{ file: StoredFile; body: Readable }> {
  const missing = () => new ApiError(ErrorCode.notFound, 'there is no such file (it may have been deleted with its message)');
  if (!FILE_ID_PATTERN.test(id)) throw missing();
  const file = await ctx.store.files.get(id);
  // A room they may not read gets the answer a missing file gets: the id tells them nothing.
  if (!file || !(await mayReadFiles(ctx, session, file.room))) throw missing();
  const body = await ctx.store.files.open(id);
  if (!body) throw missing();
  return { file, body };
}

/**
 * A name fit to show and to offer when saving: the last part of a path, without control or bidirectional
 * override characters, at most MAX_FILE_NAME_LENGTH characters (cut before the extension).
 */
export function cleanFileName(given: string): string {
  const base = given.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const clean = base.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '').trim();
  const chars = [...clean];
  if (chars.length === 0) return 'file';
  if (chars.length <= MAX_FILE_NAME_LENGTH) return clean;
  const dot = clean.lastIndexOf('.');
  const extension = dot > 0 ? [...clean.slice(dot)].slice(0, 16).join('') : '';
  return chars.slice(0, MAX_FILE_NAME_LENGTH - [...extension].length).join('') + extension;
}

function newFileId(): string {
  return randomBytes(16).toString('base64url');
}

function attachmentOf({ id, name, size, type, width, height }: StoredFile): FileAttachment {
  return { id, name, size, type, ...(width !== undefined && height !== undefined ? { width, height } : {}) };
}

function fileTooLarge(maxBytes: number): () => ApiError {
  return () => new ApiError(ErrorCode.tooLarge, `a file has at most ${formatBytes(maxBytes)}`);
}

/** The bytes of files an upload may still add under one bound, and the refusals when it is full, or passed. */
interface Quota {
  left: number;
  full: () => ApiError;
  over: () => ApiError;
}

/** A person's own bound: MAX_USER_FILE_BYTES, of which they hold `held`. */
function personalQuota(maxBytes: number, held: number): Quota {
  const left = maxBytes - held;
  return {
    left,
    full: () => new ApiError(ErrorCode.quotaExceeded, `you hold ${formatBytes(held)} of files, your limit of ${formatBytes(maxBytes)}: delete some messages with files first`),
    over: () => new ApiError(ErrorCode.quotaExceeded, `this file would pass your limit of ${formatBytes(maxBytes)} of files (${formatBytes(left)} left): delete some messages with files first`),
  };
}

/** The bound the guests of one address share: MAX_GUEST_FILE_BYTES_PER_IP, of which they hold `held`. */
function guestsQuota(maxBytes: number, held: number): Quota {
  const left = maxBytes - held;
  const refusal = (why: string) => () => new ApiError(ErrorCode.quotaExceeded, why);
  const remedy = 'sign up for an account to have a quota of your own, or delete some of your messages with files';
  if (maxBytes === 0) {
    const off = refusal('guests cannot upload files on this server: sign up for an account to send files');
    return { left, full: off, over: off };
  }
  return {
    left,
    full: refusal(`guests on your network already hold ${formatBytes(held)} of files, all that guests of one address may hold together (${formatBytes(maxBytes)}): ${remedy}`),
    over: refusal(`this file would pass the ${formatBytes(maxBytes)} of files that guests on your network may hold together (${formatBytes(Math.max(0, left))} left): ${remedy}`),
  };
}

function refusedAttach({ id, reason }: AttachRefusal): ApiError {
  const why = {
    missing: 'does not exist: it expired unsent, or was never uploaded (upload it again)',
    not_yours: 'was not uploaded by this session',
    other_room: 'was uploaded to another room',
    attached_elsewhere: 'is already sent with another message',
  }[reason];
  return new ApiError(ErrorCode.invalidRequest, `the file ${id} ${why}`);
}

/** The first `bytes` bytes of `body` (fewer when it is shorter), and all of it again, from the start. */
async function readHead(body: AsyncIterable<Buffer>, bytes: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const iterator = body[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    read.push(next.value);
    length += next.value.length;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* read;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head: Buffer.concat(read).subarray(0, bytes), rest: rest() };
}

/** `body`, throwing `tooLarge()` instead of the chunk that passes `maxBytes`. */
async function* atMost(body: AsyncIterable<Buffer>, maxBytes: number, tooLarge: () => ApiError): AsyncGenerator<Buffer> {
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw tooLarge();
    yield chunk;
  }
}
