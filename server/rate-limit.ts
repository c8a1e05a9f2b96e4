// Token buckets, one per key (a session, an IP): each holds up to `burst` tokens and refills at `perSecond`.
// There is no timer per key: a bucket is refilled from the clock when it is used. Memory stays bounded:
// at most `maxKeys` buckets are kept (the least recently used goes first), and `sweep` drops the full ones,
// which hold nothing a fresh bucket would not.

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
