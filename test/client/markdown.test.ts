import { describe, expect, it } from 'vitest';
import { parseMessage, type Block, type Inline } from '../../client/src/markdown';

const text = (value: string): Inline => ({ kind: 'text', text: value });
const paragraph = (...content: Inline[]): Block => ({ kind: 'paragraph', content });
const link = (href: string): Inline => ({ kind: 'link', href, text: href });

describe('message Markdown', () => {
  it('reads bold, italics, strikethrough and inline code, and keeps the words between them', () => {
    expect(parseMessage('**bold** _it_ ~~gone~~ `x < y`')).toEqual([
      paragraph(
        { kind: 'strong', children: [text('bold')] },
        text(' '),
        { kind: 'em', children: [text('it')] },
        text(' '),
        { kind: 'del', children: [text('gone')] },
        text(' '),
        { kind: 'code', text: 'x < y' },
      ),
    ]);
  });

  it('reads fenced code as it was typed, quotes, and lists, and a line break as a break', () => {
    expect(parseMessage('```js\nconst a = "<b>**not bold**</b>";\n  indented();\n```')).toEqual([
      { kind: 'code', text: 'const a = "<b>**not bold**</b>";\n  indented();' },
    ]);
    expect(parseMessage('> said\nthis')).toEqual([{ kind: 'quote', blocks: [paragraph(text('said'), { kind: 'break' }, text('this'))] }]);
    expect(parseMessage('- milk\n- [x] eggs\n\n3. three\n4. four')).toEqual([
      { kind: 'list', ordered: false, start: 1, items: [[paragraph(text('milk'))], [paragraph(text('☑ '), text('eggs'))]] },
      { kind: 'list', ordered: true, start: 3, items: [[paragraph(text('three'))], [paragraph(text('four'))]] },
    ]);
    expect(parseMessage('one\ntwo')).toEqual([paragraph(text('one'), { kind: 'break' }, text('two'))]);
  });

  it('leaves as text what a chat does not mean as Markdown: headings, rules, tables, HTML, indented lines', () => {
    expect(parseMessage('# lobby is where we meet')).toEqual([paragraph(text('# lobby is where we meet'))]);
    expect(parseMessage('a\n---')).toEqual([paragraph(text('a'), { kind: 'break' }, text('---'))]);
    expect(parseMessage('<img src=x onerror=alert(1)><script>alert(2)</script>')).toEqual([paragraph(text('<img src=x onerror=alert(1)><script>alert(2)</script>'))]);
    expect(parseMessage('| a | b |\n| - | - |')).toEqual([paragraph(text('| a | b |'), { kind: 'break' }, text('| - | - |'))]);
    expect(parseMessage('    four spaces')).toEqual([paragraph(text('    four spaces'))]);
  });

  it('shows a lone "-", "1." or ">" as typed, not as an empty list or quote', () => {
    for (const typed of ['-', '1.', '>', '```']) expect(parseMessage(typed)).toEqual([paragraph(text(typed))]);
  });

  it('keeps a URL whole, whatever _, * or ~ it holds, and a URL in code stays code', () => {
    const urls = ['https://x.org/~a~b', 'https://x.org/a_b_c_d', 'https://x.org/*x*y'];
    expect(parseMessage(urls.join(' '))).toEqual([paragraph(link(urls[0]!), text(' '), link(urls[1]!), text(' '), link(urls[2]!))]);
    expect(parseMessage('**https://x.org/a** `https://x.org/b`')).toEqual([
      paragraph({ kind: 'strong', children: [link('https://x.org/a')] }, text(' '), { kind: 'code', text: 'https://x.org/b' }),
    ]);
    expect(parseMessage('```\nhttps://x.org/c\n```')).toEqual([{ kind: 'code', text: 'https://x.org/c' }]);
    expect(parseMessage('https://x.org/a_ and ~~https://x.org/old~~')).toEqual([
      paragraph(link('https://x.org/a_'), text(' and '), { kind: 'del', children: [link('https://x.org/old')] }),
    ]);
  });

  it('shows the real host beside a labelled link, and keeps a link to anything but http(s) as text', () => {
    expect(parseMessage('[bank.com](https://evil.example/login)')).toEqual([
      paragraph({ kind: 'labelled-link', href: 'https://evil.example/login', label: [text('bank.com')], host: 'evil.example' }),
    ]);
    expect(parseMessage('[see x.org](https://x.org/docs)')).toEqual([
      paragraph({ kind: 'labelled-link', href: 'https://x.org/docs', label: [text('see '), text('x.org')], host: undefined }),
    ]);
    expect(parseMessage('[bücher](https://bücher.example/)')).toEqual([
      paragraph({ kind: 'labelled-link', href: 'https://xn--bcher-kva.example/', label: [text('bücher')], host: 'xn--bcher-kva.example' }),
    ]);
    expect(parseMessage('[click](javascript:alert(1))')).toEqual([paragraph(text('[click](javascript:alert(1))'))]);
    expect(parseMessage('![pic](https://x.org/p.png)')).toEqual([
      paragraph({ kind: 'labelled-link', href: 'https://x.org/p.png', label: [text('pic')], host: 'x.org' }),
    ]);
  });

  it('shows as typed a text nested deeper than a conversation goes, up to past what the lexer can hold', () => {
    for (const typed of ['> '.repeat(7) + 'deep', '> '.repeat(2000) + 'deeper']) expect(parseMessage(typed)).toEqual([paragraph(text(typed))]);
    expect(parseMessage('> '.repeat(6) + 'six')).not.toEqual([paragraph(text('> '.repeat(6) + 'six'))]);
  });

  it('does not let a text forge the marker that keeps links whole', () => {
    const forged = '\uE0000\uE000 then https://x.org/real';
    expect(parseMessage(forged)).toEqual([paragraph(text('\uE0000\uE000 then '), link('https://x.org/real'))]);
  });
});
