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

/** Scripts a name's letters are told apart by; a letter of none of these counts as "another script". */
const SCRIPTS = [
  'Latin', 'Cyrillic', 'Greek', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari',
  'Bengali', 'Gurmukhi', 'Gujarati', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao',
  'Tibetan', 'Myanmar', 'Khmer', 'Ethiopic', 'Cherokee', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Bopomofo',
].map((script) => ({ script, pattern: new RegExp(`\\p{Script=${script}}`, 'u') }));

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

/** How `name` mixes scripts ("cannot mix scripts: …"), or undefined when it keeps to one. */
function mixedScripts(name: string): string | undefined {
  const seen = new Map<string, string>();
  for (const char of name) {
    if (!/\p{L}/u.test(char)) continue;
    const script = SCRIPTS.find(({ pattern }) => pattern.test(char))?.script ?? 'another script';
    if (!seen.has(script)) seen.set(script, char);
  }
  const scripts = [...seen.keys()];
  if (scripts.length <= 1 || scripts.every((script) => WRITTEN_WITH_HAN.has(script))) return undefined;
  const [first, second] = scripts as [string, string];
  return `cannot mix scripts: "${seen.get(first)}" is ${first} and "${seen.get(second)}" is ${second}`;
}

function describe(char: string): string {
  const code = `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  const name = INVISIBLE_NAMES[char];
  return name ? `${code} ${name}` : code;
}
