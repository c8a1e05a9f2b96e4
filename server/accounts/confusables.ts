// The confusable skeleton of a name (Unicode TR39, section 4): two names whose skeletons are equal look
// alike, and only one of them may be taken. The table is Unicode's confusables.txt, as the unhomoglyph
// package holds it (6,300 look-alikes: Cyrillic а for a, Greek ο for o, ꓲ and 1 for l, m for rn, ...).
// Names are compared case-blind, which TR39's table is not, so the skeleton is taken before and after case
// folding (capital I passes for l, and so must small i); a short supplement adds what the table leaves out
// and a reader still confuses: Latin small capitals, d for cl and w for vv.
import unhomoglyph from 'unhomoglyph';

/** Look-alikes (case-folded, after the TR39 table) that the table does not map, and what they pass for. */
const SUPPLEMENT: ReadonlyMap<string, string> = new Map(
  Object.entries({
    // Case-blind: capital I is l in the table, so small i is too.
    i: 'l',
    d: 'cl',
    // As the table has m for rn: w for vv.
    w: 'vv',
    // Latin small capitals.
    ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'cl', ᴇ: 'e', ɢ: 'g', ʜ: 'h', ɪ: 'l', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'rn', ɴ: 'n',
    ᴏ: 'o', ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
  }),
);

/**
 * The skeleton of `text`: NFKC (fullwidth and mathematical letters become plain ones), TR39's table, full
 * case folding (upper then lower, so that ß is ss and ς is σ), the table again and the supplement, in NFD
 * so that accents stay apart from their letters.
 */
export function skeleton(text: string): string {
  // Folding can take more than one round: ẞ lowers to ß, which only the next round turns into ss.
  let key = text;
  for (let round = 0; round < 4; round++) {
    const next = skeletonRound(key);
    if (next === key) break;
    key = next;
  }
  return key;
}

function skeletonRound(text: string): string {
  const mapped = unhomoglyph(text.normalize('NFKC').normalize('NFD'));
  const folded = unhomoglyph(mapped.toUpperCase().toLowerCase().normalize('NFD'));
  let result = '';
  for (const char of folded) result += SUPPLEMENT.get(char) ?? char;
  return result.normalize('NFD');
}
