// Message text as Markdown, the subset a chat needs: bold, italics, strikethrough, inline code, fenced code
// blocks, quotes, lists and links. marked's lexer reads it into a small tree that the page renders as
// elements, never as an HTML string: raw HTML in a message stays text. What a chat does not want (headings
// from "# lobby", rules from "---", tables, indented code, reference links, HTML) is not read as Markdown.
import { Lexer, Tokenizer, type Token, type Tokens } from 'marked';
import { splitLinks, type TextPart } from './links';

/** A run of text within a block. */
export type Inline =
  | { kind: 'text'; text: string }
  /** A URL written in the text, shown as written. */
  | { kind: 'link'; href: string; text: string }
  /** `[label](url)`: the label, with the host it really goes to shown beside it unless the label names it. */
  | { kind: 'labelled-link'; href: string; label: Inline[]; host: string | undefined }
  | { kind: 'strong' | 'em' | 'del'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'break' };

/** A block of a message. */
export type Block =
  | { kind: 'paragraph'; content: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'quote'; blocks: Block[] }
  | { kind: 'list'; ordered: boolean; start: number; items: Block[][] };

/**
 * The lexer's rules for what a chat does not want read as Markdown, switched off (a rule that finds nothing
 * leaves the text as text): headings ("# lobby"), rules ("---"), HTML, link definitions, tables, indented code
 * (a pasted indented line is text; code is fenced), and links found by marked itself (the linkifier finds
 * them: see protectLinks).
 */
const SWITCHED_OFF = ['heading', 'lheading', 'hr', 'html', 'def', 'table', 'code', 'tag', 'autolink', 'url', 'reflink'] as const;

function chatTokenizer(): Tokenizer {
  const tokenizer = new Tokenizer();
  for (const rule of SWITCHED_OFF) tokenizer[rule] = () => undefined;
  return tokenizer;
}

/** Quotes and lists nested deeper than this are not a conversation but an attack on the layout (or the stack). */
const MAX_NESTING = 6;

/**
 * Reads a message's text into blocks. A text with nothing Markdown would show (a lone "-" or ">") stays as
 * typed, and so does one nested past MAX_NESTING.
 */
export function parseMessage(text: string): Block[] {
  const protectedText = protectLinks(text);
  const lexer = new Lexer({ gfm: true, breaks: true, tokenizer: chatTokenizer() });
  let blocks: Block[];
  try {
    blocks = toBlocks(lexer.lex(protectedText.text), protectedText);
  } catch {
    return plainText(text); // nested past what the lexer's recursion can hold
  }
  return blocks.every(showsSomething) && nesting(blocks) <= MAX_NESTING ? blocks : plainText(text);
}

function nesting(blocks: readonly Block[]): number {
  let deepest = 0;
  for (const block of blocks) {
    if (block.kind === 'quote') deepest = Math.max(deepest, 1 + nesting(block.blocks));
    if (block.kind === 'list') for (const item of block.items) deepest = Math.max(deepest, 1 + nesting(item));
  }
  return deepest;
}

/**
 * The links of a text, each replaced by a marker before Markdown reads it, so that a URL is one unit whose
 * `_`, `*` and `~` never become emphasis. The marker is a private-use character absent from the text
 * around the link's index.
 */
interface ProtectedText {
  text: string;
  links: TextPart[];
  marker: RegExp;
}

function protectLinks(text: string): ProtectedText {
  const parts = withoutClosingEmphasis(splitLinks(text));
  const links = parts.filter((part) => part.href !== undefined);
  let code = 0xe000;
  while (text.includes(String.fromCharCode(code))) code++;
  const mark = String.fromCharCode(code);
  let index = 0;
  const replaced = parts.map((part) => (part.href === undefined ? part.text : `${mark}${index++}${mark}`)).join('');
  return { text: replaced, links, marker: new RegExp(`${mark}(\\d+)${mark}`, 'g') };
}

/**
 * Links opened inside emphasis ("**https://x.org/a**"), without the emphasis's closing characters, which a
 * linkifier takes into the URL: a URL can end with "*", "_" or "~", but not when the same opened before it.
 */
function withoutClosingEmphasis(parts: TextPart[]): TextPart[] {
  const result: TextPart[] = [];
  for (const part of parts) {
    const before = result.at(-1);
    const opener = /[*_~]+$/.exec(before?.text ?? '')?.[0];
    const closer = /[*_~]+$/.exec(part.text)?.[0];
    if (part.href === undefined || !opener || !closer || closer.length >= part.text.length) {
      result.push(part);
      continue;
    }
    const href = part.href.endsWith(closer) ? part.href.slice(0, -closer.length) : part.href;
    result.push({ text: part.text.slice(0, -closer.length), href }, { text: closer });
  }
  return result;
}

/** Text with its link markers turned back into links (or into their text, in code). */
function restoreLinks(text: string, { links, marker }: ProtectedText, asText = false): Inline[] {
  const runs: Inline[] = [];
  let from = 0;
  for (const match of text.matchAll(marker)) {
    const link = links[Number(match[1])];
    if (!link) continue;
    if (match.index > from) runs.push({ kind: 'text', text: text.slice(from, match.index) });
    runs.push(asText || !link.href ? { kind: 'text', text: link.text } : { kind: 'link', href: link.href, text: link.text });
    from = match.index + match[0].length;
  }
  if (from < text.length) runs.push({ kind: 'text', text: text.slice(from) });
  return runs;
}

function restoredText(text: string, links: ProtectedText): string {
  return restoreLinks(text, links, true)
    .map((run) => (run.kind === 'text' ? run.text : ''))
    .join('');
}

function toBlocks(tokens: Token[], links: ProtectedText): Block[] {
  const blocks: Block[] = [];
  for (const token of tokens) {
    const block = toBlock(token as Tokens.Generic, links);
    if (block) blocks.push(block);
  }
  return blocks;
}

function toBlock(token: Tokens.Generic, links: ProtectedText): Block | undefined {
  switch (token.type) {
    case 'paragraph':
    case 'text':
      return { kind: 'paragraph', content: toInlines(token.tokens ?? [{ type: 'text', raw: token.raw, text: token.text }], links) };
    case 'code':
      return { kind: 'code', text: restoredText((token as Tokens.Code).text, links) };
    case 'blockquote':
      return { kind: 'quote', blocks: toBlocks(token.tokens ?? [], links) };
    case 'list': {
      const list = token as Tokens.List;
      return {
        kind: 'list',
        ordered: list.ordered,
        start: typeof list.start === 'number' ? list.start : 1,
        items: list.items.map((item) => listItem(item, links)),
      };
    }
    case 'space':
      return undefined;
    default:
      return { kind: 'paragraph', content: restoreLinks(token.raw, links) };
  }
}

/** A list item's blocks; a task box ("- [ ] milk") shows as the box character. */
function listItem(item: Tokens.ListItem, links: ProtectedText): Block[] {
  const blocks = toBlocks(item.tokens.filter((token) => token.type !== 'checkbox'), links);
  if (!item.task) return blocks;
  const box: Inline = { kind: 'text', text: item.checked ? '☑ ' : '☐ ' };
  const [first, ...rest] = blocks;
  if (first?.kind === 'paragraph') return [{ kind: 'paragraph', content: [box, ...first.content] }, ...rest];
  return [{ kind: 'paragraph', content: [box] }, ...blocks];
}

function toInlines(tokens: Token[], links: ProtectedText): Inline[] {
  return tokens.flatMap((token) => toInline(token as Tokens.Generic, links));
}

function toInline(token: Tokens.Generic, links: ProtectedText): Inline[] {
  switch (token.type) {
    case 'text':
    case 'escape':
      return token.tokens ? toInlines(token.tokens, links) : restoreLinks(token.text, links);
    case 'strong':
    case 'em':
    case 'del':
      return [{ kind: token.type, children: toInlines(token.tokens ?? [], links) }];
    case 'codespan':
      return [{ kind: 'code', text: restoredText(token.text, links) }];
    case 'br':
      return [{ kind: 'break' }];
    case 'link':
    case 'image':
      return labelledLink(token as Tokens.Link | Tokens.Image, links);
    default:
      return restoreLinks(token.raw, links);
  }
}

/**
 * `[label](url)` (or an image, which is not loaded: a link to it): only to http(s), and with the host it goes
 * to shown beside a label that is not the URL itself, so that "[bank.com](https://evil.example)" cannot hide
 * where it leads. Anything else stays as typed.
 */
function labelledLink(token: Tokens.Link | Tokens.Image, links: ProtectedText): Inline[] {
  const href = webUrl(restoredText(token.href, links));
  if (!href) return restoreLinks(token.raw, links);
  const label: Inline[] = token.type === 'image' || !token.tokens ? restoreLinks(token.text || href.href, links) : toInlines(token.tokens, links);
  const shown = unlinked(label);
  const namesHost = plainOf(shown).toLowerCase().includes(href.host);
  return [{ kind: 'labelled-link', href: href.href, label: shown, host: namesHost ? undefined : href.host }];
}

/** A label's runs with links turned to text: a link inside a link is not one. */
function unlinked(runs: Inline[]): Inline[] {
  return runs.map((run) => {
    if (run.kind === 'link') return { kind: 'text', text: run.text };
    if (run.kind === 'strong' || run.kind === 'em' || run.kind === 'del') return { ...run, children: unlinked(run.children) };
    return run;
  });
}

function webUrl(candidate: string): URL | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a block shows anything: a "-" alone is an empty list to Markdown, and a dash to the person who typed it. */
function showsSomething(block: Block): boolean {
  switch (block.kind) {
    case 'paragraph':
      return block.content.length > 0;
    case 'code':
      return block.text.length > 0;
    case 'quote':
      return block.blocks.length > 0 && block.blocks.every(showsSomething);
    case 'list':
      return block.items.every((item) => item.length > 0 && item.every(showsSomething));
  }
}

function plainText(text: string): Block[] {
  const content = splitLinks(text).map((part): Inline => (part.href ? { kind: 'link', href: part.href, text: part.text } : { kind: 'text', text: part.text }));
  return [{ kind: 'paragraph', content }];
}

/** The text a reader sees in runs. */
export function plainOf(runs: readonly Inline[]): string {
  return runs
    .map((run) => {
      switch (run.kind) {
        case 'text':
        case 'link':
        case 'code':
          return run.text;
        case 'labelled-link':
          return plainOf(run.label);
        case 'strong':
        case 'em':
        case 'del':
          return plainOf(run.children);
        case 'break':
          return '\n';
      }
    })
    .join('');
}
