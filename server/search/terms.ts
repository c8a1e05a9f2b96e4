// How text becomes search terms, the same way for a message and for a query, on both stores: words are
// runs of letters and digits; case and the accents of Latin, Greek and Cyrillic letters are folded
// ("Café" is "cafe"); English words are stemmed (Porter: "deploying", "deployed" and "deploys" are all
// "deploy"); Chinese and Japanese, written without spaces, are cut into single characters and pairs of
// neighbours (bigrams), so a query of any run of them finds it. Thai and other scripts without spaces are
// one word per run: found by the whole run only.
import { stemmer } from 'stemmer';

/** One word (or one CJK character) of a text, and where it is: UTF-16 offsets, end exclusive. */
export interface Token {
  term: string;
  start: number;
  end: number;
  /** A Chinese or Japanese character: its neighbours in the same run make bigrams. */
  cjk: boolean;
}

/** The longest term kept, in UTF-16 code units: longer words are cut, in messages and queries alike. */
const MAX_TERM_LENGTH = 32;
/** The most distinct terms one message is indexed under: bounds the cost of one send. */
export const MAX_TERMS_PER_MESSAGE = 1000;

const WORD = /[\p{L}\p{N}\p{M}]+/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const CJK_RUN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu;
/** A mark on a letter of a script whose readers take it as an accent (é, ñ, ö, й stays й after NFC). */
const ACCENT = /([\p{Script=Latin}\p{Script=Greek}])\p{M}+/gu;
const ENGLISH_WORD = /^[a-z]{3,}$/;
/** Nothing to fold but case: most words of most chats, folded without normalizing (a third of the time of a send's indexing). */
const ASCII = /^[\x00-\x7f]*$/;

/** `text` with case and accents folded, as names and words are compared. */
export function fold(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  return text.normalize('NFKD').replace(ACCENT, '$1').normalize('NFC').toLowerCase();
}

/** The tokens of `text`, in order. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const word of text.matchAll(WORD)) {
    const start = word.index;
    // A CJK run inside the word: its characters one by one; what is around it, words of their own.
    let last = 0;
    for (const run of word[0].matchAll(CJK_RUN)) {
      if (run.index > last) tokens.push(wordToken(word[0].slice(last, run.index), start + last));
      let offset = run.index;
      for (const char of run[0]) {
        tokens.push({ term: char, start: start + offset, end: start + offset + char.length, cjk: true });
        offset += char.length;
      }
      last = run.index + run[0].length;
    }
    if (last < word[0].length) tokens.push(wordToken(word[0].slice(last), start + last));
  }
  return tokens;
}

/**
 * Stems already made: a chat's words are few and repeat (Zipf), and a lookup costs a tenth of a stemming.
 * Bounded: emptied when full, as the words in use then come back at once.
 */
const stems = new Map<string, string>();
const MAX_STEMS = 50_000;

function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    if (stems.size >= MAX_STEMS) stems.clear();
    stems.set(word, (stemmed = stemmer(word)));
  }
  return stemmed;
}

function wordToken(word: string, start: number): Token {
  const folded = fold(word);
  const term = ENGLISH_WORD.test(folded) ? stem(folded) : folded;
  return { term: term.slice(0, MAX_TERM_LENGTH), start, end: start + word.length, cjk: false };
}

/** Two neighbouring CJK characters of one run, as one term. */
function bigrams(tokens: readonly Token[]): string[] {
  const pairs: string[] = [];
  for (let i = 1; i < tokens.length; i++) {
    const before = tokens[i - 1]!;
    const token = tokens[i]!;
    if (before.cjk && token.cjk && before.end === token.start) pairs.push(before.term + token.term);
  }
  return pairs;
}

/** The distinct terms a message is found by: its words, and its CJK characters and bigrams (at most MAX_TERMS_PER_MESSAGE). */
export function indexTerms(text: string): string[] {
  const tokens = tokenize(text);
  const terms = new Set<string>();
  for (const term of [...tokens.map((token) => token.term), ...bigrams(tokens)]) {
    if (terms.size >= MAX_TERMS_PER_MESSAGE) break;
    terms.add(term);
  }
  return [...terms];
}

/**
 * What a query asks for: every term (all must be in a message), and the runs of terms that must stand
 * next to each other in it, in order (a quoted phrase, and a run of CJK characters).
 */
export interface ParsedQuery {
  /** Distinct; a CJK run of two or more characters is asked for by its bigrams, which are rarer. */
  terms: string[];
  sequences: string[][];
  /** The terms whose every occurrence is highlighted (words outside a phrase or a CJK run). */
  loose: string[];
}

const QUOTED = /"([^"]*)"?/g;

/** Reads a query: words, and "quoted phrases". */
export function parseQuery(query: string): ParsedQuery {
  const terms = new Set<string>();
  const loose = new Set<string>();
  const sequences: string[][] = [];
  const add = (part: string, quoted: boolean) => {
    const tokens = tokenize(part);
    if (quoted && tokens.length > 1) sequences.push(tokens.map((token) => token.term));
    // CJK runs: bigrams to find them, the run to check they stand together.
    let run: Token[] = [];
    const endRun = () => {
      if (run.length === 1) {
        terms.add(run[0]!.term);
        if (!quoted) loose.add(run[0]!.term);
      }
      if (run.length > 1) {
        for (const pair of bigrams(run)) terms.add(pair);
        if (!quoted) sequences.push(run.map((token) => token.term));
      }
      run = [];
    };
    for (const token of tokens) {
      if (token.cjk && (run.length === 0 || run.at(-1)!.end === token.start)) {
        run.push(token);
        continue;
      }
      endRun();
      if (token.cjk) run.push(token);
      else {
        terms.add(token.term);
        if (!quoted) loose.add(token.term);
      }
    }
    endRun();
  };
  let last = 0;
  for (const match of query.matchAll(QUOTED)) {
    add(query.slice(last, match.index), false);
    add(match[1] ?? '', true);
    last = match.index + match[0].length;
  }
  add(query.slice(last), false);
  return { terms: [...terms], sequences, loose: [...loose] };
}

/**
 * Whether `text` matches `query` beyond what the index tells (its sequences stand together in it), and the
 * spans to highlight: each occurrence of a sequence, and of a loose term. Undefined when it does not match.
 */
export function matchText(text: string, query: ParsedQuery): [number, number][] | undefined {
  const tokens = tokenize(text);
  const spans: [number, number][] = [];
  for (const sequence of query.sequences) {
    let found = false;
    for (let i = 0; i + sequence.length <= tokens.length; i++) {
      if (sequence.every((term, j) => tokens[i + j]!.term === term)) {
        spans.push([tokens[i]!.start, tokens[i + sequence.length - 1]!.end]);
        found = true;
      }
    }
    if (!found) return undefined;
  }
  const loose = new Set(query.loose);
  for (const token of tokens) if (loose.has(token.term)) spans.push([token.start, token.end]);
  return mergeSpans(spans);
}

function mergeSpans(spans: [number, number][]): [number, number][] {
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}
