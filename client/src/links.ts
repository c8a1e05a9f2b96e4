// The links in a message's text, found by linkifyjs: http(s) URLs and bare domains (example.com), with
// balanced parentheses kept in (…/Chat_(disambiguation)) and trailing punctuation left out ("see x.org.").
// A link shows where it goes: a host that could pass for another (аpple.com, in Cyrillic and Latin) is shown
// as the browser will reach it (xn--pple-43d.com), and direction controls cannot reorder what is shown.
import { find } from 'linkifyjs';

/** A run of a message's text: plain, or a link to `href`, shown as `text`. */
export interface TextPart {
  text: string;
  href?: string;
}

/**
 * Runs of text between characters that a pasted URL never holds unescaped, so that these end a link:
 * markup (<b>), quotes ("…", `…`, «…», “…”, ‘…’) and an ellipsis. linkifyjs would take <, > and " into a path.
 */
const LINKABLE_RUN = /[^<>"`«»“”‘’…]+/g;

/** Splits text into plain runs and links; only http and https links, so javascript: or mailto: stay text. */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let plainFrom = 0;
  for (const run of text.matchAll(LINKABLE_RUN)) {
    for (const link of find(run[0], 'url', { defaultProtocol: 'https' })) {
      const href = webHref(link.href);
      if (!href) continue;
      const start = run.index + link.start;
      if (start > plainFrom) parts.push({ text: text.slice(plainFrom, start) });
      parts.push({ text: shownLink(link.value, href), href });
      plainFrom = run.index + link.end;
    }
  }
  if (plainFrom < text.length) parts.push({ text: text.slice(plainFrom) });
  return parts;
}

/**
 * An http(s) URL, normalized as the browser will follow it; undefined for anything else, and for a URL with
 * a user name or password: https://bank.example@evil.example goes to evil.example.
 */
function webHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.username || url.password ? undefined : url.href;
  } catch {
    return undefined;
  }
}

/**
 * Direction controls: embeddings and overrides (U+202A-202E), isolates (U+2066-2069), and the marks
 * (U+200E, U+200F). Inside a URL they only serve to make it read as another ("…/\u202Emoc.elgoog" shows as
 * "…/google.com").
 */
const DIRECTION_CONTROLS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/**
 * What a link shows: its text without direction controls, and with its host as the browser will reach it
 * (punycode) when the host as written could pass for another.
 */
function shownLink(value: string, href: string): string {
  const shown = value.replace(DIRECTION_CONTROLS, '');
  const host = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#:]*)/i.exec(shown)?.[1] ?? '';
  if (readableHost(host)) return shown;
  const { hostname } = new URL(href);
  // The host as written must map to the one reached (the URL parser lowercases it, maps its dots and
  // letters), or it is not the host: then the whole URL is shown as it is followed.
  if (asciiHost(host) !== hostname) return href;
  const at = shown.indexOf(host);
  return shown.slice(0, at) + hostname + shown.slice(at + host.length);
}

function asciiHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Scripts with letters that look like Latin ones (Cyrillic а, Greek ο): a host label in them, alone or
 * mixed, could pass for a Latin one.
 */
const LATIN_LOOKALIKE_SCRIPTS = ['Cyrillic', 'Greek', 'Armenian', 'Cherokee', 'Coptic'];
/** The scripts a label is told apart by; letters of others count as one script, 'other'. */
const SCRIPTS = ['Latin', ...LATIN_LOOKALIKE_SCRIPTS, 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo', 'Arabic', 'Hebrew', 'Thai', 'Devanagari'].map(
  (name) => ({ name, letter: new RegExp(`\\p{Script=${name}}`, 'u') }),
);
/** Scripts that go together in one label (Japanese, Chinese and Korean writing), as UTS #39's highly restrictive level allows. */
const SCRIPT_MIXES = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];
/** Latin letters beyond a-z that do not decompose to one of them plus accents, yet are everyday letters. */
const PLAIN_LATIN_LETTERS = 'ßæøœðþłđ';

/**
 * Whether a host can be shown as written: each label is ASCII, or in one script that has no Latin lookalikes
 * (or a mix of those Japanese, Chinese and Korean use), and its Latin letters are a-z with accents.
 */
function readableHost(host: string): boolean {
  if (/^[\x00-\x7f]*$/.test(host)) return true;
  return host.split(/[.\u3002\uff0e\uff61]/).every(readableLabel);
}

function readableLabel(label: string): boolean {
  const scripts = new Set<string>();
  for (const char of label.toLowerCase()) {
    if (!/\p{L}/u.test(char)) continue;
    const script = SCRIPTS.find(({ letter }) => letter.test(char))?.name ?? 'other';
    if (script === 'Latin' && !/^[a-z]$/.test(char.normalize('NFD').replace(/\p{M}/gu, '')) && !PLAIN_LATIN_LETTERS.includes(char)) return false;
    scripts.add(script);
  }
  if (LATIN_LOOKALIKE_SCRIPTS.some((script) => scripts.has(script))) return false;
  return scripts.size <= 1 || SCRIPT_MIXES.some((mix) => [...scripts].every((script) => mix.includes(script)));
}
