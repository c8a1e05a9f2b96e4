import { describe, expect, it } from 'vitest';
import { splitLinks } from '../../client/src/links';

/** The links found in `text`, as [shown text, href]; checks on the way that no character was lost or added. */
function linksIn(text: string): [string, string][] {
  const parts = splitLinks(text);
  expect(parts.map((part) => part.text).join('')).toBe(text);
  return parts.flatMap((part) => (part.href ? [[part.text, part.href] as [string, string]] : []));
}

describe('links in message text', () => {
  it('keeps balanced parentheses in a link, and leaves out an unbalanced closing one', () => {
    const wiki = 'https://en.wikipedia.org/wiki/Chat_(disambiguation)';
    expect(linksIn(wiki)).toEqual([[wiki, wiki]]);
    expect(linksIn(`(see ${wiki})`)).toEqual([[wiki, wiki]]);
    expect(linksIn('https://x.org/a_(b)_c.')).toEqual([['https://x.org/a_(b)_c', 'https://x.org/a_(b)_c']]);
    expect(linksIn('(https://x.org/path)')).toEqual([['https://x.org/path', 'https://x.org/path']]);
  });

  it('leaves trailing punctuation out of the link', () => {
    for (const end of ['.', ',', '!', '?', ':', ';', '...', '?!']) {
      expect(linksIn(`see https://x.org/docs${end}`), end).toEqual([['https://x.org/docs', 'https://x.org/docs']]);
    }
    expect(linksIn('https://x.org/a?b=c&d=e.')).toEqual([['https://x.org/a?b=c&d=e', 'https://x.org/a?b=c&d=e']]);
    expect(linksIn('https://x.org/a,b')).toEqual([['https://x.org/a,b', 'https://x.org/a,b']]);
  });

  it('leaves quotes, brackets, markup and ellipses around a link out of it', () => {
    const plain: [string, string][] = [['https://x.org/a', 'https://x.org/a']];
    for (const text of ['"https://x.org/a"', "'https://x.org/a'", '<https://x.org/a>', '[https://x.org/a]', '{https://x.org/a}', '`https://x.org/a`', '«https://x.org/a»', '“https://x.org/a”', '‘https://x.org/a’', 'https://x.org/a…']) {
      expect(linksIn(text), text).toEqual(plain);
    }
    expect(linksIn('<b>https://x.org/a</b>')).toEqual(plain);
    expect(linksIn('<a href="https://x.org/a">x</a>')).toEqual(plain);
    expect(linksIn('https://x.org/a"><script>alert(1)</script>')).toEqual(plain);
  });

  it('links ports, query strings, fragments, IP addresses and internationalized domains', () => {
    expect(linksIn('http://localhost:8888/r/dev')).toEqual([['http://localhost:8888/r/dev', 'http://localhost:8888/r/dev']]);
    const query = 'https://x.org:8443/search?q=a+b&page=(2)#results';
    expect(linksIn(query)).toEqual([[query, query]]);
    expect(linksIn('http://192.168.1.10/admin')).toEqual([['http://192.168.1.10/admin', 'http://192.168.1.10/admin']]);
    expect(linksIn('https://bücher.de/straße')).toEqual([['https://bücher.de/straße', 'https://xn--bcher-kva.de/stra%C3%9Fe']]);
    expect(linksIn('HTTPS://X.ORG/Path')).toEqual([['HTTPS://X.ORG/Path', 'https://x.org/Path']]);
  });

  it('links bare domains over https, and several links in one message', () => {
    expect(linksIn('example.com')).toEqual([['example.com', 'https://example.com/']]);
    expect(linksIn('try www.x.org/path?a=b.')).toEqual([['www.x.org/path?a=b', 'https://www.x.org/path?a=b']]);
    expect(linksIn('a.org and http://b.org, then c.org!')).toEqual([
      ['a.org', 'https://a.org/'],
      ['http://b.org', 'http://b.org/'],
      ['c.org', 'https://c.org/'],
    ]);
  });

  it('links nothing but http(s): script, mail and file URLs, email addresses and markup stay text', () => {
    for (const text of [
      'javascript:alert(1)',
      '[x](javascript:alert(1))',
      '<a href="javascript:alert(1)">x</a>',
      'mailto:me@x.org',
      'write to me@x.org',
      'ftp://x.org/file',
      'file:///etc/passwd',
      'data:text/html,<script>alert(1)</script>',
      '<img src=x onerror="window.__xss=1">',
      '<b>bold</b> and <i>not a link</i>',
      'https://x.org:99999/',
      'version 1.2.3 and a...b',
      '#hashtag @mention',
      '',
    ]) {
      expect(linksIn(text), text).toEqual([]);
    }
  });

  it('keeps the text around links as it was, newlines included', () => {
    expect(splitLinks('first line\nhttps://x.org\nlast line')).toEqual([
      { text: 'first line\n' },
      { text: 'https://x.org', href: 'https://x.org/' },
      { text: '\nlast line' },
    ]);
  });
});
