import { describe, expect, it } from 'vitest';
import { complete, completions, mentionAt, mentions, splitMentions } from '../../client/src/mentions';

describe('mentions', () => {
  const people = ['Bo', 'Bob', 'Bo Li', 'Chloé Fontaine-Martel'];

  it('finds a mention of a known name, spaces included, longest name first, and as the room spells it', () => {
    expect(splitMentions('hi @bob and @Bo Li, and @Chloé Fontaine-Martel!', people)).toEqual([
      'hi ',
      { name: 'Bob', text: '@bob' },
      ' and ',
      { name: 'Bo Li', text: '@Bo Li' },
      ', and ',
      { name: 'Chloé Fontaine-Martel', text: '@Chloé Fontaine-Martel' },
      '!',
    ]);
  });

  it('takes a mention whole: not part of a longer name, an address, or a double @', () => {
    expect(mentions("@Bob's turn", 'Bob')).toBe(true);
    expect(mentions('@Bobby', 'Bob')).toBe(false);
    expect(mentions('write to bob@example.com', 'bob')).toBe(false);
    expect(mentions('@@Bob', 'Bob')).toBe(false);
    expect(mentions('Bob without the at', 'Bob')).toBe(false);
    expect(splitMentions('no names known @Bob', [])).toEqual(['no names known @Bob']);
  });

  it('names a name that holds pattern characters literally', () => {
    expect(mentions('@a.b', 'a.b')).toBe(true);
    expect(mentions('@axb', 'a.b')).toBe(false);
  });

  it('sees the mention being typed at the caret, and not an @ inside a word or before a line break', () => {
    expect(mentionAt('hi @Bo', 6)).toEqual({ start: 3, prefix: 'Bo' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, prefix: '' });
    expect(mentionAt('hi @Bo Li', 9)).toEqual({ start: 3, prefix: 'Bo Li' });
    expect(mentionAt('mail bob@exa', 12)).toBeUndefined();
    expect(mentionAt('@Bo\nnext', 8)).toBeUndefined();
    expect(mentionAt('@ Bo', 4)).toBeUndefined();
    expect(mentionAt(`@${'x'.repeat(40)}`, 41)).toBeUndefined();
  });

  it('offers the names a prefix begins first, then those with a word it begins, at most six', () => {
    expect(completions('bo', people)).toEqual(['Bo', 'Bo Li', 'Bob']);
    expect(completions('fon', people)).toEqual(['Chloé Fontaine-Martel']);
    expect(completions('', ['c', 'b', 'a', 'd', 'e', 'f', 'g'])).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('completes the mention being typed with the whole name and a space, keeping what follows the caret', () => {
    const query = { start: 3, prefix: 'Bo' };
    expect(complete('hi @Bo', 6, query, 'Bo Li')).toEqual({ value: 'hi @Bo Li ', caret: 10 });
    expect(complete('hi @Bo, then', 6, query, 'Bob')).toEqual({ value: 'hi @Bob , then', caret: 8 });
    expect(complete('hi @Bo then', 6, query, 'Bob')).toEqual({ value: 'hi @Bob then', caret: 8 });
  });
});
