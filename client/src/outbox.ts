// Messages typed but not yet acknowledged by the server. They are kept in localStorage, so a reload or
// a lost connection loses nothing: each is resent, with the same clientId, until the server has it.
import type { ChangeRequest, ErrorCode, FileAttachment, SendRequest } from '../../server/protocol';

export interface OutgoingMessage {
  clientId: string;
  room: string;
  /** The message's text, or an edit's new text; empty for a delete or a reaction. */
  text: string;
  /** A reply to this seq. */
  replyTo?: number;
  /** Not a message but a change to an earlier one: an edit, a delete, a reaction. */
  change?: ChangeRequest;
  author: string;
  /** Files uploaded before the send, which the message carries. */
  files?: FileAttachment[];
  createdAt: number;
  /** pending: will be (re)sent whenever a transport is up. failed: the server refused it; the user may retry. */
  state: 'pending' | 'failed';
  error?: { code: ErrorCode; message: string };
}

const KEY_PREFIX = 'parley.outbox.';

type EntryStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;

/**
 * Each entry is its own localStorage key, so two tabs of the same browser never overwrite each other's
 * outbox; if both resend one message, the server turns the second copy into the first.
 */
export class Outbox {
  /** Used when localStorage is unavailable (disabled, or private mode): the outbox lasts as long as the page. */
  private readonly memory = new Map<string, OutgoingMessage>();

  constructor(private readonly storage: EntryStorage | undefined = safeLocalStorage()) {}

  forRoom(room: string): OutgoingMessage[] {
    return this.all()
      .filter((entry) => entry.room === room)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  pending(room: string): OutgoingMessage[] {
    return this.forRoom(room).filter((entry) => entry.state === 'pending');
  }

  add(entry: Omit<OutgoingMessage, 'state' | 'createdAt'>): OutgoingMessage {
    const added: OutgoingMessage = { ...entry, state: 'pending', createdAt: Date.now() };
    this.write(added);
    return added;
  }

  /** The server holds it now: it leaves the outbox and shows as a normal message. */
  remove(clientId: string): boolean {
    const existed = this.read(clientId) !== undefined;
    this.memory.delete(clientId);
    try {
      this.storage?.removeItem(KEY_PREFIX + clientId);
    } catch {
      // Storage disabled: the memory copy was the only one.
    }
    return existed;
  }

  fail(clientId: string, error: { code: ErrorCode; message: string }): void {
    const entry = this.read(clientId);
    if (entry) this.write({ ...entry, state: 'failed', error });
  }

  retry(clientId: string): void {
    const entry = this.read(clientId);
    if (entry) {
      const { error: _error, ...rest } = entry;
      this.write({ ...rest, state: 'pending' });
    }
  }

  private all(): OutgoingMessage[] {
    const entries = new Map(this.memory);
    try {
      for (let i = 0; this.storage && i < this.storage.length; i++) {
        const key = this.storage.key(i);
        if (!key?.startsWith(KEY_PREFIX)) continue;
        const entry = this.read(key.slice(KEY_PREFIX.length));
        if (entry) entries.set(entry.clientId, entry);
      }
    } catch {
      // Storage disabled: what is in memory is all there is.
    }
    return [...entries.values()];
  }

  private read(clientId: string): OutgoingMessage | undefined {
    try {
      const raw = this.storage?.getItem(KEY_PREFIX + clientId);
      if (raw) {
        const parsed: unknown = JSON.parse(raw);
        if (isOutgoingMessage(parsed)) return parsed;
      }
    } catch {
      // Unreadable entry or storage disabled: fall back to memory.
    }
    return this.memory.get(clientId);
  }

  private write(entry: OutgoingMessage): void {
    try {
      if (this.storage) {
        this.storage.setItem(KEY_PREFIX + entry.clientId, JSON.stringify(entry));
        return;
      }
    } catch {
      // Storage full or disabled: keep it in memory for this page's lifetime.
    }
    this.memory.set(entry.clientId, entry);
  }
}

function isOutgoingMessage(value: unknown): value is OutgoingMessage {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.clientId === 'string' &&
    typeof entry.room === 'string' &&
    typeof entry.text === 'string' &&
    typeof entry.author === 'string' &&
    typeof entry.createdAt === 'number' &&
    (entry.files === undefined || Array.isArray(entry.files)) &&
    (entry.state === 'pending' || entry.state === 'failed')
  );
}

/** What is sent for `entry`, over either transport: a delete or a reaction carries no text; files go by id. */
export function sendBody({ clientId, text, replyTo, change, files }: OutgoingMessage): SendRequest {
  const textless = change?.kind === 'delete' || change?.kind === 'reaction';
  return {
    clientId,
    ...(textless ? {} : { text }),
    ...(files && files.length > 0 ? { files: files.map((file) => file.id) } : {}),
    ...(replyTo === undefined ? {} : { replyTo }),
    ...(change ? { change } : {}),
  };
}

function safeLocalStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

/** A fresh message id. crypto.getRandomValues works on plain-HTTP pages too, unlike randomUUID. */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
