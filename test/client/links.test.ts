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

  it('shows a host that could pass for another as the browser reaches it, in punycode (issue 14, item 8b)', () => {
    const shown = (text: string) => splitLinks(text).flatMap((part) => (part.href ? [[part.text, part.href]] : []));
    // Cyrillic а among Latin letters: looks like apple.com, goes to xn--pple-43d.com.
    expect(shown('log in at https://\u0430pple.com/login now')).toEqual([['https://xn--pple-43d.com/login', 'https://xn--pple-43d.com/login']]);
    expect(shown('\u0430pple.com')).toEqual([['xn--pple-43d.com', 'https://xn--pple-43d.com/']]);
    // All Cyrillic letters that look Latin (аррӏе), Greek (ορεn), and a Latin letter that is not a-z (ɑ).
    expect(shown('https://\u0430\u0440\u0440\u04cf\u0435.com/')).toEqual([['https://xn--80ak6aa92e.com/', 'https://xn--80ak6aa92e.com/']]);
    expect(shown('https://\u03bf\u03c1\u03b5n.org/')[0]?.[0]).toMatch(/^https:\/\/xn--/);
    expect(shown('https://\u0251pple.com')).toEqual([['https://xn--pple-p5b.com', 'https://xn--pple-p5b.com/']]);
    // Hosts that cannot pass for another stay as written: accented Latin, Japanese, ASCII.
    expect(shown('https://bücher.de/straße')).toEqual([['https://bücher.de/straße', 'https://xn--bcher-kva.de/stra%C3%9Fe']]);
    expect(shown('https://søg.dk')).toEqual([['https://søg.dk', 'https://xn--sg-lka.dk/']]);
    expect(shown('https://例え.jp/')).toEqual([['https://例え.jp/', 'https://xn--r8jz45g.jp/']]);
    expect(shown('https://x.org/a')).toEqual([['https://x.org/a', 'https://x.org/a']]);
    // Full-width letters are the ASCII host they map to.
    expect(shown('https://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/')).toEqual([['https://example.com/', 'https://example.com/']]);
  });

  it('shows a link without the direction controls that would reorder it (issue 14, item 8c)', () => {
    // U+202E (right-to-left override) makes "…/moc.elgoog" read "…/google.com".
    expect(splitLinks('see https://example.com/\u202Emoc.elgoog')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/moc.elgoog', href: 'https://example.com/%E2%80%AEmoc.elgoog' },
    ]);
    for (const control of ['\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u2066', '\u2067', '\u2068', '\u2069']) {
      const [link] = splitLinks(`https://example.com/a${control}b`);
      expect(link?.text, `U+${control.codePointAt(0)?.toString(16)}`).toBe('https://example.com/ab');
    }
  });

  it('leaves a URL with a user name as text: https://bank.example@evil.example goes to evil.example', () => {
    expect(linksIn('https://bank.example@evil.example/login')).toEqual([]);
    expect(linksIn('https://user:pass@x.org/')).toEqual([]);
  });
});
