// The confusable skeleton of a name (Unicode TR39, section 4): two names whose skeletons are equal look
// alike, and only one of them may be taken. What TR39 does with the whole confusables.txt table this does
// with a focused one: the Cyrillic, Greek, Armenian and small-capital letters that pass for Latin ones, and
// Latin's own look-alikes (l I 1, 0 O, rn m, cl d). Fullwidth and mathematical letters need no entry: NFKC
// turns them into plain ones first. The table is case-blind (names are compared after case folding), so a
// letter maps to the Latin letter its capital or its small form passes for; this makes `i` and `l` alike,
// as capital I and small l are. To be replaced by the complete table of a maintained package (see
// README's identity section), behind this same function.

/** Each look-alike (already case-folded) and the Latin letters it passes for. */
const PROTOTYPES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    // Latin's own: the letters that read as one another in common fonts.
    i: 'l', '1': 'l', ı: 'l', ǀ: 'l', '0': 'o', m: 'rn', d: 'cl',
    // Cyrillic (a capital folds to its small letter, which is listed here with what the capital looks like).
    а: 'a', в: 'b', е: 'e', з: '3', к: 'k', м: 'rn', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
    ѕ: 's', і: 'l', ј: 'j', ԁ: 'cl', һ: 'h', ԛ: 'q', ԝ: 'w', ӏ: 'l', ү: 'y', ѡ: 'w', ԍ: 'g', ɡ: 'g',
    // Greek.
    α: 'a', β: 'b', γ: 'y', ε: 'e', ζ: 'z', η: 'h', ι: 'l', κ: 'k', μ: 'rn', ν: 'v', ο: 'o', ρ: 'p', τ: 't',
    υ: 'u', χ: 'x', ω: 'w', ϲ: 'c', ϳ: 'j',
    // Armenian.
    օ: 'o', ս: 'u', հ: 'h', ո: 'n', ց: 'g', զ: 'q',
    // Latin small capitals.
    ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'cl', ᴇ: 'e', ɢ: 'g', ʜ: 'h', ɪ: 'l', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'rn', ɴ: 'n',
    ᴏ: 'o', ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
  }),
);

/**
 * The skeleton of `text`: NFKC, full case folding (upper then lower, so that ß is ss and ς is σ), then
 * every look-alike replaced by what it passes for, in NFD so that accents stay apart from their letters.
 */
export function skeleton(text: string): string {
  const folded = text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFD');
  let result = '';
  for (const char of folded) result += PROTOTYPES.get(char) ?? char;
  return result.normalize('NFD');
}
