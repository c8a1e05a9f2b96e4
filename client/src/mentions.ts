// Mentions: "@Name" in a message calls that person. Names may hold spaces ("Chloé Fontaine-Martel"), so a
// mention is found by the names the page knows (the room's people and the reader), longest first, not by
// a pattern for a name; a mention is whole: "@Bo" does not mention "Bob", and "bo@example.com" no one.

/** A run of text: plain, or a mention of `name` as the room spells it. */
export type MentionPart = string | { name: string; text: string };

/** Letters and digits: a mention ends where they do not (so "@Bob's" mentions Bob, "@Bobby" does not). */
const WORD_CHAR = /[\p{L}\p{N}_]/u;

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Names whose mentions are shown, without repeats, longest first so that "@Bo Li" is not read as "@Bo". */
function byLength(names: Iterable<string>): string[] {
  return [...new Set(names)].filter((name) => name.length > 0).sort((a, b) => b.length - a.length);
}

const patterns = new Map<string, RegExp | undefined>();

/** One pattern for a set of names, kept: a list renders hundreds of messages with the same names. */
function patternFor(names: Iterable<string>): RegExp | undefined {
  const sorted = byLength(names);
  const key = sorted.join('\n');
  if (!patterns.has(key)) {
    if (patterns.size > 50) patterns.clear();
    patterns.set(key, sorted.length ? new RegExp(`(?<![\\p{L}\\p{N}_@])@(${sorted.map(escape).join('|')})(?![\\p{L}\\p{N}_])`, 'giu') : undefined);
  }
  return patterns.get(key);
}

/** Splits text into plain runs and mentions of any of `names` (case-insensitive), each naming who it calls. */
export function splitMentions(text: string, names: Iterable<string>): MentionPart[] {
  const pattern = patternFor(names);
  if (!pattern || !text.includes('@')) return [text];
  const lower = new Map([...new Set(names)].map((name) => [name.toLocaleLowerCase(), name]));
  const parts: MentionPart[] = [];
  let from = 0;
  for (const match of text.matchAll(pattern)) {
    const written = match[1] ?? '';
    if (match.index > from) parts.push(text.slice(from, match.index));
    parts.push({ name: lower.get(written.toLocaleLowerCase()) ?? written, text: match[0] });
    from = match.index + match[0].length;
  }
  if (from < text.length) parts.push(text.slice(from));
  return parts;
}

/** Whether `text` mentions `name`. */
export function mentions(text: string, name: string): boolean {
  return splitMentions(text, [name]).some((part) => typeof part !== 'string');
}

/** A mention being typed: the "@" at `start`, and what follows it up to the caret. */
export interface MentionQuery {
  start: number;
  prefix: string;
}

/** The longest a name may be: past it, an "@" long before the caret is not a mention being typed. */
const MAX_NAME_LENGTH = 32;

/**
 * The mention being typed at the caret, if any: an "@" at the start or after a space or punctuation,
 * followed by at most a name's length of text without a line break.
 */
export function mentionAt(value: string, caret: number): MentionQuery | undefined {
  const before = value.slice(Math.max(0, caret - MAX_NAME_LENGTH - 1), caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return undefined;
  const prefix = before.slice(at + 1);
  if (prefix.includes('\n') || prefix.startsWith(' ')) return undefined;
  const start = caret - before.length + at;
  const previous = value[start - 1];
  if (previous !== undefined && (WORD_CHAR.test(previous) || previous === '@')) return undefined;
  return { start, prefix };
}

/** The names that complete `prefix`, best first: those it begins, then those with a word it begins. At most `limit`. */
export function completions(prefix: string, names: Iterable<string>, limit = 6): string[] {
  const wanted = prefix.toLocaleLowerCase();
  const starts: string[] = [];
  const inside: string[] = [];
  for (const name of new Set(names)) {
    const lower = name.toLocaleLowerCase();
    if (lower.startsWith(wanted)) starts.push(name);
    else if (lower.split(/[ ._'-]/).some((word) => word.startsWith(wanted))) inside.push(name);
  }
  const order = (a: string, b: string) => a.localeCompare(b);
  return [...starts.sort(order), ...inside.sort(order)].slice(0, limit);
}

/** The field's text with the mention being typed replaced by `@name ` , and where the caret goes after it. */
export function complete(value: string, caret: number, query: MentionQuery, name: string): { value: string; caret: number } {
  const inserted = `@${name} `;
  const rest = value.slice(caret).replace(/^ /, '');
  return { value: value.slice(0, query.start) + inserted + rest, caret: query.start + inserted.length };
}
