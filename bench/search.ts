// The `search` scenario: what the search index costs a send, what it costs on disk, and how fast a search
// answers over a log of 1,000,000 messages in 100 rooms on the embedded store.
// - Send cost, same run: the store as shipped against the same store with its index writes left out (the
//   only difference), taking turns: a lone send's time (one at a time, waiting for each), the rate of many
//   senders at once (group commit; the clock stops once the index has caught up), and the file's size.
// - The log: built through the store's own append (100 rooms, words drawn from a Zipf vocabulary of
//   10,000, 4 to 16 words a message); its size on disk, log and index apart.
// - Search: a Parley process (dist/server.js) on that DATA_DIR, asked over HTTP one search at a time, with a
//   mix of queries (a common word, a middling one, a rare one, two words, a phrase, a room or author
//   filter, a second page); p50 and p99 of each kind and of all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { openEmbeddedStore, type EmbeddedStore } from '../server/store/embedded';
import type { SearchResponse } from '../server/protocol';
import { percentile } from './scenarios';

export interface SearchBenchOptions {
  messages: number;
  rooms: number;
  /** Runs a Parley process on a DATA_DIR; resolves with its URL and how to stop it. */
  startServer(dataDir: string): Promise<{ url: string; stop(): Promise<void> }>;
  step(label: string): void;
}

export interface SendCostRow {
  index: 'on' | 'off';
  loneSendP50Ms: number;
  loneSendP99Ms: number;
  concurrentPerSecond: number;
  /** The data file's used size after these 122,000 messages (LMDB's high-water mark: freed pages included). */
  fileMB: number;
}

export interface SearchLatencyRow {
  query: string;
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanResults: number;
}

export interface SearchBenchResult {
  sendCost: SendCostRow[];
  build: { messages: number; rooms: number; seconds: number; perSecond: number; logMB: number; indexMB: number; fileMB: number; indexEntries: number };
  latency: SearchLatencyRow[];
}

const VOCABULARY = 10_000;
const AUTHORS = 200;
const SYLLABLES = ['ka', 'lo', 'mi', 'ten', 'dra', 'vo', 'sel', 'pun', 'ri', 'gat', 'ne', 'shu', 'bor', 'fi', 'den', 'mar'];

/** A word per rank: the same words every run. */
function word(rank: number): string {
  let text = '';
  for (let n = rank + SYLLABLES.length; n > 0; n = Math.floor(n / SYLLABLES.length)) text += SYLLABLES[n % SYLLABLES.length];
  return text;
}

/** A deterministic source of numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Ranks drawn with Zipf weights (s = 1), by inverting the cumulative weights. */
function zipf(size: number, next: () => number): () => number {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank++) cumulative[rank] = total += 1 / (rank + 1);
  return () => {
    const target = next() * total;
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] ?? 0) < target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

function messageMaker(seed: number, rooms: number): () => { room: string; author: string; text: string } {
  const next = random(seed);
  const rank = zipf(VOCABULARY, next);
  return () => {
    const words: string[] = [];
    const length = 4 + Math.floor(next() * 13);
    for (let i = 0; i < length; i++) words.push(word(rank()));
    return { room: `room-${Math.floor(next() * rooms)}`, author: `user${Math.floor(next() * AUTHORS)}`, text: words.join(' ') };
  };
}

let clientIds = 0;
const clientId = () => `bench-${(++clientIds).toString(36).padStart(8, '0')}`;

/** Appends `count` messages with `inFlight` appends waiting at any time. */
async function appendMany(store: EmbeddedStore, count: number, inFlight: number, make: () => { room: string; author: string; text: string }, progress?: (done: number) => void): Promise<void> {
  let started = 0;
  let done = 0;
  const sender = async () => {
    while (started < count) {
      started++;
      await store.append({ ...make(), clientId: clientId() });
      if (++done % 50_000 === 0) progress?.(done);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, sender));
}

/** One store, index on or off: a lone send's time, then the rate of 256 senders at once. */
async function sendCost(index: 'on' | 'off', rooms: number): Promise<SendCostRow> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-search-'));
  const store = openEmbeddedStore(dir);
  // The "before": the same store with the index's writes left out, and nothing else changed.
  if (index === 'off') store.search.add = () => undefined;
  let row: Omit<SendCostRow, 'fileMB'>;
  try {
    const make = messageMaker(7, rooms);
    await appendMany(store, 20_000, 256, make);
    const lone: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const start = performance.now();
      await store.append({ ...make(), clientId: clientId() });
      lone.push(performance.now() - start);
    }
    const start = performance.now();
    await appendMany(store, 100_000, 256, make);
    // What the index still owes is written before the clock stops: its cost is in the rate.
    await store.search.flush();
    row = { index, loneSendP50Ms: round(percentile(lone, 50)), loneSendP99Ms: round(percentile(lone, 99)), concurrentPerSecond: Math.round(100_000 / ((performance.now() - start) / 1000)) };
  } finally {
    await store.close();
  }
  const fileMB = diskUse(dir).fileMB;
  rmSync(dir, { recursive: true, force: true });
  return { ...row, fileMB };
}

export async function searchScenario({ messages, rooms, startServer, step }: SearchBenchOptions): Promise<SearchBenchResult> {
  const sendCostRows: SendCostRow[] = [];
  for (let round = 1; round <= 2; round++) {
    for (const index of ['off', 'on'] as const) {
      step(`search: send cost, index ${index}, round ${round} of 2`);
      sendCostRows.push(await sendCost(index, rooms));
    }
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-search-'));
  try {
    step(`search: building a log of ${messages} messages in ${rooms} rooms`);
    const store = openEmbeddedStore(dataDir);
    const started = performance.now();
    await appendMany(store, messages, 512, messageMaker(1, rooms), (done) => process.stdout.write(`\r    ${done} messages            `));
    await store.search.flush();
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    const build = { messages, rooms, seconds: round(seconds), perSecond: Math.round(messages / seconds), ...diskUse(dataDir) };

    step('search: latency over HTTP, one search at a time');
    const server = await startServer(dataDir);
    try {
      return { sendCost: sendCostRows, build, latency: await latencies(server.url, rooms) };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The log's pages (messages, clientIds, heads: their own trees) and the rest of the used file, which is the
 * index: LMDB's statistics of a dupsort database count its main tree, not the trees of each key's values.
 */
function diskUse(dataDir: string): { logMB: number; indexMB: number; fileMB: number; indexEntries: number } {
  const root = open({ path: join(dataDir, 'parley.lmdb'), readOnly: true });
  type Stats = { pageSize: number; treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number; entryCount: number; lastPageNumber: number };
  const pages = (stats: Stats) => stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
  const pageSize = (root.getStats() as Stats).pageSize;
  const log = ['messages', 'clientIds', 'heads'].reduce((sum, name) => sum + pages(root.openDB({ name }).getStats() as Stats), 0);
  const used = (root.getStats() as Stats).lastPageNumber + 1;
  const entries = (root.openDB({ name: 'searchPostings', dupSort: true }).getStats() as Stats).entryCount;
  void root.close();
  const mb = (count: number) => round((count * pageSize) / 1024 / 1024);
  return { logMB: mb(log), indexMB: mb(used - log), fileMB: mb(used), indexEntries: entries };
}

async function latencies(url: string, rooms: number): Promise<SearchLatencyRow[]> {
  const next = random(99);
  const pick = (from: number, to: number) => word(from + Math.floor(next() * (to - from)));
  const kinds: Record<string, () => string> = {
    'a common word (rank 1-10)': () => `q=${pick(0, 10)}`,
    'a middling word (rank 100-1000)': () => `q=${pick(100, 1000)}`,
    'a rare word (rank 5000-10000)': () => `q=${pick(5000, 10_000)}`,
    'two common words': () => `q=${pick(0, 10)}+${pick(10, 50)}`,
    'two middling words': () => `q=${pick(100, 300)}+${pick(100, 300)}`,
    'a phrase of two common words': () => `q=${encodeURIComponent(`"${pick(0, 5)} ${pick(0, 5)}"`)}`,
    'a common word in one room': () => `q=${pick(0, 10)}&room=room-${Math.floor(next() * rooms)}`,
    'a middling word by one author': () => `q=${pick(100, 1000)}&author=user${Math.floor(next() * AUTHORS)}`,
  };
  const rows: SearchLatencyRow[] = [];
  const all: number[] = [];
  const ask = async (query: string): Promise<{ ms: number; body: SearchResponse }> => {
    const start = performance.now();
    const response = await fetch(`${url}/api/search?${query}`);
    const body = (await response.json()) as SearchResponse;
    if (!response.ok) throw new Error(`search ${query} answered ${response.status}: ${JSON.stringify(body)}`);
    return { ms: performance.now() - start, body };
  };
  for (let i = 0; i < 20; i++) await ask(kinds['a common word (rank 1-10)']!()); // warm up
  for (const [label, make] of Object.entries(kinds)) {
    const times: number[] = [];
    let results = 0;
    for (let i = 0; i < 200; i++) {
      const { ms, body } = await ask(make());
      times.push(ms);
      results += body.results.length;
    }
    all.push(...times);
    rows.push({ query: label, count: times.length, p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), meanResults: round(results / times.length) });
  }
  // The second page of a common word.
  const second: number[] = [];
  for (let i = 0; i < 200; i++) {
    const common = word(i % 10);
    const first = await ask(`q=${common}`);
    if (!first.body.next) continue;
    second.push((await ask(`q=${common}&before=${encodeURIComponent(first.body.next)}`)).ms);
  }
  all.push(...second);
  rows.push({ query: 'the next page of a common word', count: second.length, p50Ms: round(percentile(second, 50)), p99Ms: round(percentile(second, 99)), meanResults: 20 });
  rows.push({ query: 'all of the above', count: all.length, p50Ms: round(percentile(all, 50)), p99Ms: round(percentile(all, 99)), meanResults: Number.NaN });
  return rows;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
