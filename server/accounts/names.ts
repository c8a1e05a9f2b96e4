// The names people are known by, accounts' usernames and guests' nicknames alike: checked so that none
// can pass for another (TR39: no invisible characters, one script, a confusable skeleton per name), and
// reduced to the key that the store keeps unique.
import { MAX_NICK_LENGTH, NICK_PATTERN } from '../protocol';
import { skeleton } from './confusables';

/** A name that may be used: as it is shown (NFKC), and the key no other name may share. */
export interface CheckedName {
  name: string;
  key: string;
}

/** Characters that show nothing, or a blank: format and control characters, fillers, every space but U+0020. */
const INVISIBLE = /(?! )[\p{Default_Ignorable_Code_Point}\p{C}\p{Z}\u2800]/u;

/** The invisible characters people use to impersonate, by name; the rest are named by their code point. */
const INVISIBLE_NAMES: Readonly<Record<string, string>> = {
  '\u3164': 'HANGUL FILLER',
  '\u115F': 'HANGUL CHOSEONG FILLER',
  '\u1160': 'HANGUL JUNGSEONG FILLER',
  '\uFFA0': 'HALFWIDTH HANGUL FILLER',
  '\u200B': 'ZERO WIDTH SPACE',
  '\u200C': 'ZERO WIDTH NON-JOINER',
  '\u200D': 'ZERO WIDTH JOINER',
  '\u200E': 'LEFT-TO-RIGHT MARK',
  '\u200F': 'RIGHT-TO-LEFT MARK',
  '\u202E': 'RIGHT-TO-LEFT OVERRIDE',
  '\u2060': 'WORD JOINER',
  '\uFEFF': 'ZERO WIDTH NO-BREAK SPACE',
  '\u00AD': 'SOFT HYPHEN',
  '\u00A0': 'NO-BREAK SPACE',
  '\u2800': 'BRAILLE PATTERN BLANK',
};

/**
 * Scripts a name's letters are told apart by, by their Script_Extensions (TR39): a letter shared by several
 * scripts, such as the Japanese long-vowel mark ー (Hiragana and Katakana), belongs to each of them. A letter
 * of none of these counts as "another script".
 */
const SCRIPTS = [
  'Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari',
  'Bengali', 'Gurmukhi', 'Gujarati', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao',
  'Tibetan', 'Myanmar', 'Khmer', 'Ethiopic', 'Cherokee', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo',
].map((script) => ({ script, pattern: new RegExp(`\\p{Script_Extensions=${script}}`, 'u') }));

/** Scripts written together in one language (TR39's "highly restrictive" level): Japanese, Korean, Chinese. */
const WRITTEN_WITH_HAN = new Set(['Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo']);

/** The name as it will be shown and its key, or why it cannot be used (a sentence for the form, about `what`). */
export function checkName(raw: string, what: 'nickname' | 'username'): CheckedName | { problem: string } {
  const trimmed = raw.trim();
  const name = trimmed.normalize('NFKC');
  const invisible = [...trimmed, ...name].find((char) => INVISIBLE.test(char));
  if (invisible !== undefined) {
    return { problem: `a ${what} cannot contain invisible or blank characters (it has ${describe(invisible)})` };
  }
  if (name.length === 0) return { problem: `a ${what} is required` };
  if ([...name].length > MAX_NICK_LENGTH) return { problem: `a ${what} has at most ${MAX_NICK_LENGTH} characters` };
  if (!NICK_PATTERN.test(name)) {
    return { problem: `a ${what} uses letters, digits, spaces and . _ ' -, starting with a letter or digit` };
  }
  if (name.includes('  ')) return { problem: `a ${what} has no two spaces in a row` };
  const mixed = mixedScripts(name);
  if (mixed) return { problem: `a ${what} ${mixed}` };
  return { name, key: skeleton(name) };
}

/**
 * How `name` mixes scripts ("cannot mix scripts: …"), or undefined when its letters share one (TR39's
 * resolved script set is not empty; Han counts with Hiragana, Katakana, Hangul and Bopomofo, as Japanese,
 * Korean and Chinese write them together).
 */
function mixedScripts(name: string): string | undefined {
  let shared: Set<string> | undefined;
  let first = '';
  for (const char of name) {
    if (!/\p{L}/u.test(char)) continue;
    const scripts = scriptsOf(char);
    if (!shared) {
      shared = scripts;
      first = char;
      continue;
    }
    const both = new Set([...shared].filter((script) => scripts.has(script)));
    if (both.size === 0) return `cannot mix scripts: "${first}" is ${[...scriptsOf(first)][0]} and "${char}" is ${[...scripts][0]}`;
    shared = both;
  }
  return undefined;
}

/** The scripts a letter is written in, by its Script_Extensions; the ones written with Han count as one. */
function scriptsOf(char: string): Set<string> {
  const scripts = SCRIPTS.filter(({ pattern }) => pattern.test(char)).map(({ script }) => script);
  if (scripts.length === 0) return new Set(['another script']);
  if (scripts.some((script) => WRITTEN_WITH_HAN.has(script))) scripts.push(...WRITTEN_WITH_HAN);
  return new Set(scripts);
}

function describe(char: string): string {
  const code = `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const name = INVISIBLE_NAMES[char];
  return name ? `${code} ${name}` : code;
}
