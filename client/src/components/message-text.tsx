// A message's text, its Markdown shown as elements (see markdown.ts): never as HTML, whatever it holds.
// Mentions of the room's people stand out, and those of the reader more.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useMemo, useRef, useState } from 'preact/hooks';
import { parseMessage, type Block, type Inline } from '../markdown';
import { splitMentions } from '../mentions';

/** Who a message may mention (the room's people, the reader among them), and who the reader is. */
export const MentionNames = createContext<{ names: readonly string[]; me: string }>({ names: [], me: '' });

export function MessageText({ text }: { text: string }) {
  // Keyed messages keep their instance, so a message is parsed once, not on every render of the list.
  const blocks = useMemo(() => parseMessage(text), [text]);
  return <>{blocks.map(renderBlock)}</>;
}

function renderBlock(block: Block, index: number): ComponentChildren {
  switch (block.kind) {
    case 'paragraph':
      return <p key={index}>{block.content.map(renderInline)}</p>;
    case 'code':
      return <CodeBlock key={index} text={block.text} />;
    case 'quote':
      return <blockquote key={index}>{block.blocks.map(renderBlock)}</blockquote>;
    case 'list': {
      const items = block.items.map((item, i) => <li key={i}>{item.map(renderBlock)}</li>);
      return block.ordered ? (
        <ol key={index} start={block.start}>
          {items}
        </ol>
      ) : (
        <ul key={index}>{items}</ul>
      );
    }
  }
}

function renderInline(run: Inline, index: number): ComponentChildren {
  switch (run.kind) {
    case 'text':
      return <Mentions key={index} text={run.text} />;
    case 'link':
      return (
        <a key={index} href={run.href} target="_blank" rel="noopener noreferrer nofollow">
          {run.text}
        </a>
      );
    case 'labelled-link':
      return (
        <span key={index}>
          <a href={run.href} target="_blank" rel="noopener noreferrer nofollow">
            {run.label.map(renderInline)}
          </a>
          {run.host && <span class="link-host"> ({run.host})</span>}
        </span>
      );
    case 'strong':
      return <strong key={index}>{run.children.map(renderInline)}</strong>;
    case 'em':
      return <em key={index}>{run.children.map(renderInline)}</em>;
    case 'del':
      return <del key={index}>{run.children.map(renderInline)}</del>;
    case 'code':
      return <code key={index}>{run.text}</code>;
    case 'break':
      return <br key={index} />;
  }
}

/** Text with its mentions marked: the reader's own as `mention me`, for the eye and for assistive technology. */
function Mentions({ text }: { text: string }) {
  const { names, me } = useContext(MentionNames);
  const parts = splitMentions(text, names);
  if (parts.length === 1 && typeof parts[0] === 'string') return <>{text}</>;
  const mine = me.toLocaleLowerCase();
  return (
    <>
      {parts.map((part, index) =>
        typeof part === 'string' ? (
          part
        ) : (
          <span key={index} class={part.name.toLocaleLowerCase() === mine ? 'mention me' : 'mention'}>
            {part.text}
          </span>
        ),
      )}
    </>
  );
}

/**
 * A fenced code block: monospace, scrolled sideways rather than wrapped, with a button that copies it. Where
 * the page may not write the clipboard (plain http on another host), the button selects the code instead.
 */
function CodeBlock({ text }: { text: string }) {
  const pre = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState<'copied' | 'selected' | undefined>();
  const selectCode = () => {
    if (pre.current) getSelection()?.selectAllChildren(pre.current);
    setCopied('selected');
  };
  const copy = () => {
    void copyText(text).then((ok) => (ok ? setCopied('copied') : selectCode()), selectCode);
    setTimeout(() => setCopied(undefined), 2000);
  };
  return (
    <div class="code-block">
      <pre ref={pre} tabIndex={0}>
        <code>{text}</code>
      </pre>
      <button type="button" class="copy-code" onClick={copy} aria-label="Copy code">
        {copied === 'copied' ? 'Copied' : copied === 'selected' ? 'Selected: press Ctrl+C' : 'Copy'}
      </button>
    </div>
  );
}

/** Copies text with the Clipboard API, which needs a secure context (https or localhost). */
async function copyText(text: string): Promise<boolean> {
  if (!navigator.clipboard) return false;
  await navigator.clipboard.writeText(text);
  return true;
}
