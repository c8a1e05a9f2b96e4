// Token buckets, one per key (a session, an IP): each holds up to `burst` tokens and refills at `perSecond`.
// There is no timer per key: a bucket is refilled from the clock when it is used. Memory stays bounded:
// at most `maxKeys` buckets are kept (the least recently used goes first), and `sweep` drops the full ones,
// which hold nothing a fresh bucket would not. Also: one bucket without a key (a socket's own), counts of what
// a key holds open, and turns per key.

export interface BucketRate {
  /** Tokens a key may spend at once. */
  burst: number;
  /** Tokens given back per second. */
  perSecond: number;
}

/** A take that succeeded, or how long until one token is back. */
export type Take = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

/** Default bound on the keys one TokenBuckets remembers. */
const DEFAULT_MAX_KEYS = 100_000;

export class TokenBuckets {
  /** In least-recently-used order: a Map iterates in insertion order, and every take re-inserts its key. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rate: BucketRate,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {}

  /** Spends one of `key`'s tokens, or says how long to wait for one. */
  take(key: string, now = Date.now()): Take {
    const bucket = this.refilled(key, now);
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / this.rate.perSecond) };
  }

  /** Forgets every bucket that has refilled completely (called now and then by the server's sweep). */
  sweep(now = Date.now()): void {
    for (const key of [...this.buckets.keys()]) {
      if (this.refilled(key, now).tokens >= this.rate.burst) this.buckets.delete(key);
    }
  }

  /** Keys remembered now (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.rate.burst, at: now };
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.rate.burst, bucket.tokens + (elapsed * this.rate.perSecond) / 1000);
    bucket.at = now;
    return bucket;
  }
}

/** One token bucket, for one holder (a socket's own budget): no key, no map. */
export class TokenBucket {
  private tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  private at: number;

  constructor(
    private readonly rate: BucketRate,
    now = Date.now(),
  ) {
    this.tokens = rate.burst;
    this.at = now;
  }

  /**
   * How many ms until `cost` tokens are there (at most the burst: more could never be); 0 when they are now.
   * Spends nothing: see `spend`.
   */
  msUntil(cost: number, now = Date.now()): number {
    this.tokens = Math.min(this.rate.burst, this.tokens + (Math.max(0, now - this.at) * this.rate.perSecond) / 1000);
    this.at = now;
    const missing = Math.min(cost, this.rate.burst) - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.rate.perSecond);
  }

  /** Spends `cost` tokens (at most the burst), once `msUntil` said they are there. */
  spend(cost: number): void {
    this.tokens -= Math.min(cost, this.rate.burst);
  }
}

/** Counts what a key holds open right now (sockets, held long-polls), against a cap per key and a total. */
export class OpenCounts {
  private readonly perKey = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxPerKey: number,
    private readonly maxTotal = Number.POSITIVE_INFINITY,
  ) {}

  /** Takes a slot for `key`: 'ok', or which cap is full. */
  open(key: string): 'ok' | 'key-full' | 'total-full' {
    if (this.total >= this.maxTotal) return 'total-full';
    const held = this.perKey.get(key) ?? 0;
    if (held >= this.maxPerKey) return 'key-full';
    this.perKey.set(key, held + 1);
    this.total++;
    return 'ok';
  }

  /** Gives back a slot taken by `open`. */
  close(key: string): void {
    const held = this.perKey.get(key);
    if (held === undefined) return;
    if (held <= 1) this.perKey.delete(key);
    else this.perKey.set(key, held - 1);
    this.total--;
  }

  get count(): number {
    return this.total;
  }
}

/** How long turns may run one after another before the next waits for the event loop to poll for I/O. */
const SLICE_MS = 10;
/** Turns running at once, across all keys (more than one only while one waits on its store). */
const AT_ONCE = 4;

/**
 * Turns at bulk work (answers read from the store), so that no client can keep the process from serving the
 * others: a key (an IP) has one turn at a time and keys take theirs in rotation; at most AT_ONCE run at once;
 * and once turns have run for SLICE_MS, the next waits until the event loop has polled for I/O.
 */
export class Turns {
  /** The keys waiting, in rotation order (a Map keeps insertion order), each with its waiters in order. */
  private readonly waiting = new Map<string, (() => void)[]>();
  /** The keys with a turn now. */
  private readonly running = new Set<string>();
  /** When the first turn of this slice began; undefined until one does. A slice lasts one phase of the loop. */
  private sliceStart: number | undefined;
  /** Set while a used-up slice waits for the event loop to poll. */
  private paused = false;

  /** Resolves at `key`'s turn with the function that ends it (once: calling it again does nothing). */
  take(key: string): Promise<() => void> {
    return new Promise((resolve) => {
      const start = () => resolve(this.ending(key));
      const queue = this.waiting.get(key);
      if (queue) queue.push(start);
      else this.waiting.set(key, [start]);
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const key of [...this.waiting.keys()]) {
      if (this.paused || this.running.size >= AT_ONCE) return;
      if (this.running.has(key)) continue;
      if (this.sliceUsedUp()) {
        this.pauseUntilPolled();
        return;
      }
      const queue = this.waiting.get(key) ?? [];
      const start = queue.shift();
      this.waiting.delete(key);
      if (queue.length > 0) this.waiting.set(key, queue); // to the back of the rotation
      this.running.add(key);
      start?.();
    }
  }

  /** Whether this slice has run SLICE_MS; opens one, until the loop's next check phase, if none is open. */
  private sliceUsedUp(): boolean {
    const now = performance.now();
    if (this.sliceStart === undefined) {
      this.sliceStart = now;
      setImmediate(() => (this.sliceStart = undefined));
      return false;
    }
    return now - this.sliceStart >= SLICE_MS;
  }

  private pauseUntilPolled(): void {
    this.paused = true;
    // The first immediate may run in this very turn of the loop (after an I/O callback); the one it sets
    // runs after the loop has polled for I/O again.
    setImmediate(() =>
      setImmediate(() => {
        this.paused = false;
        this.sliceStart = undefined;
        this.dispatch();
      }),
    );
  }

  private ending(key: string): () => void {
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.running.delete(key);
      this.dispatch();
    };
  }
}

/**
 * Work that is heavy on CPU and memory (a password hash), run at most `atOnce` at a time, with at most
 * `maxWaiting` more waiting their turn in order: past that a caller is refused at once instead of queued.
 */
export class BoundedSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly atOnce: number,
    private readonly maxWaiting: number,
  ) {}

  /** `work`'s result when it has run in a slot, or undefined (without running it) when every slot and place in line is taken. */
  async run<T>(work: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }> {
    if (this.running >= this.atOnce) {
      if (this.waiting.length >= this.maxWaiting) return { ran: false };
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return { ran: true, result: await work() };
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
