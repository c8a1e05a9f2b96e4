// How text becomes search terms (server/search/terms.ts), the same for a message and a query on both stores,
// and the MongoDB search as the driver would send it (no server: the filter through the driver's own BSON).
import fc from 'fast-check';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { SEARCH_INDEX, searchFields, searchFilter } from '../server/search/mongo-index';
import { indexTerms, matchText, MAX_TERMS_PER_MESSAGE, parseQuery } from '../server/search/terms';

const marked = (text: string, query: string) => matchText(text, parseQuery(query))?.map(([start, end]) => text.slice(start, end));

describe('search terms', () => {
  it('fold case and accents and stem English words, in messages and queries alike', () => {
    expect(indexTerms('Deploying the CAFÉ crème')).toEqual(['deploi', 'the', 'cafe', 'creme']);
    expect(parseQuery('deployed Cafe').terms).toEqual(['deploi', 'cafe']);
    expect(marked('Deploying the CAFÉ crème', 'cafe deploys')).toEqual(['Deploying', 'CAFÉ']);
    // Letters whose marks are not accents to their readers are left whole.
    expect(indexTerms('Привет йод')).toEqual(['привет', 'йод']);
  });

  it('cut Chinese and Japanese into characters and pairs, and need a run of them to stand together', () => {
    expect(indexTerms('部署了')).toEqual(['部', '署', '了', '部署', '署了']);
    expect(parseQuery('部署').terms).toEqual(['部署']);
    expect(marked('我们今天部署了', '部署')).toEqual(['部署']);
    expect(marked('部门的署名', '部署')).toBeUndefined();
    // Mixed with Latin letters in one word: both halves are found.
    expect(indexTerms('v2部署')).toEqual(['v2', '部', '署', '部署']);
  });

  it('read quoted phrases, and an unclosed quote to the end', () => {
    expect(parseQuery('"on friday" deploy')).toEqual({ terms: ['on', 'fridai', 'deploi'], sequences: [['on', 'fridai']], loose: ['deploi'] });
    expect(marked('deploy on friday', '"on friday')).toEqual(['on friday']);
    expect(marked('friday on deploy', '"on friday"')).toBeUndefined();
    expect(parseQuery('?! … ""').terms).toEqual([]);
  });

  it('take any Unicode text without failing, and mark only spans of the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 40 }), (text, query) => {
        const terms = indexTerms(text);
        expect(terms.length).toBeLessThanOrEqual(MAX_TERMS_PER_MESSAGE);
        const parsed = parseQuery(query);
        for (const [start, end] of matchText(text, parsed) ?? []) {
          expect(0 <= start && start < end && end <= text.length).toBe(true);
        }
        // A message is found by each of its own words.
        expect(terms).toEqual(expect.arrayContaining(parseQuery(text).terms));
      }),
      { numRuns: 300 },
    );
  });

  it('bound what one message costs to index', () => {
    const words = Array.from({ length: 3000 }, (_, i) => `w${i}x`).join(' ');
    expect(indexTerms(words)).toHaveLength(MAX_TERMS_PER_MESSAGE);
    expect(indexTerms('a'.repeat(4000))).toEqual(['a'.repeat(32)]);
  });
});

describe('MongoDB search at the driver boundary', () => {
  it('stores the terms with a message, and asks the text index for all of them within the scope', () => {
    expect(searchFields({ room: 'ops', seq: 1, clientId: 'abcdefgh', author: 'Ann', text: 'Deploying now', at: 1 })).toEqual({ terms: ['deploi', 'now'] });
    // Every message stored since search has the field (none: found by no word); the backfill looks for those without.
    expect(searchFields({ room: 'ops', seq: 2, clientId: 'abcdefgi', author: 'Ann', text: 'later', at: 2, change: { kind: 'edit', target: 1 } })).toEqual({ terms: [] });
    expect(searchFields({ room: 'ops', seq: 1, clientId: 'abcdefgh', author: 'Ann', text: '', at: 1, deleted: 'author' })).toEqual({ terms: [] });
    expect(SEARCH_INDEX).toMatchObject({ key: { terms: 'text' }, default_language: 'none' });
    const filter = searchFilter({
      terms: ['deploi', 'fridai'],
      scope: { privateRooms: new Set(['~abcdefghijklmnopqrst']) },
      author: 'a.n+n',
      since: 10,
      below: { at: 20, room: 'ops', seq: 3 },
      limit: 21,
      scanLimit: 1000,
    });
    const sent = BSON.deserialize(BSON.serialize(filter));
    expect(sent.$text).toEqual({ $search: 'deploi fridai' });
    expect(sent.terms).toEqual({ $all: ['deploi', 'fridai'] });
    expect(sent.author.$regex).toBe('^a\\.n\\+n$');
    expect(sent.at).toEqual({ $gte: 10 });
    expect(sent.$and[0].$or[1]).toEqual({ room: { $in: ['~abcdefghijklmnopqrst'] } });
    expect(String(sent.$and[0].$or[0].room.$not)).toBe('/^~/');
    expect(sent.$and[1].$or).toHaveLength(3);
  });
});
