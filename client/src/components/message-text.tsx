// A message's text, its Markdown shown as elements (see markdown.ts): never as HTML, whatever it holds.
// Mentions of the room's people stand out, and those of the reader more. Past FOLD_LINES lines it is folded
// behind a "Show more" button, so that one long message (a paste of thousands of lines) does not push the
// whole room out of sight. Each message is isolated in the direction of its own text (dir="auto"), and each
// link left to right, so that direction controls in a message cannot reorder what is around it.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useId, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parseMessage, type Block, type Inline } from '../markdown';
import { splitMentions } from '../mentions';

/** Who a message may mention (the room's people, the reader among them), and who the reader is. */
export const MentionNames = createContext<{ names: readonly string[]; me: string }>({ names: [], me: '' });

interface Props {
  text: string;
  /** The stored message's seq; none for one still on its way. */
  seq?: number;
  /** The message mentions the reader: it is marked. */
  mentionsMe?: boolean;
}

export function MessageText({ text, seq, mentionsMe = false }: Props) {
  // Keyed messages keep their instance, so a message is parsed once, not on every render of the list.
  const blocks = useMemo(() => parseMessage(text), [text]);
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  const [expanded, setExpanded] = useState(false);
  /** Whether the text is taller than the fold: only then is there a button. */
  const [foldable, setFoldable] = useState(false);

  // Measured while folded, and again when the width changes (a narrower window wraps more lines).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || expanded) return;
    const measure = () => setFoldable(el.scrollHeight > el.clientHeight + 1);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [text, expanded]);

  const toggle = () => {
    setExpanded(!expanded);
    // Folding a long message back moves its end up: keep its start in view, where the reader was.
    if (expanded) box.current?.scrollIntoView({ block: 'nearest' });
  };

  const classes = ['text', expanded ? '' : 'folded', foldable && !expanded ? 'clipped' : '', mentionsMe ? 'mentions-me' : ''];
  return (
    <>
      <div class={classes.filter(Boolean).join(' ')} data-seq={seq} dir="auto" id={id} ref={box}>
        {blocks.map(renderBlock)}
      </div>
      {foldable && (
        <button type="button" class="link-button fold-toggle" aria-expanded={expanded} aria-controls={id} onClick={toggle}>
          {expanded ? 'Show less' : 'Show more'}
        </button>
      )}
    </>
  );
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
        <a key={index} href={run.href} target="_blank" rel="noopener noreferrer nofollow" dir="ltr">
          {run.text}
        </a>
      );
    case 'labelled-link':
      return (
        <span key={index}>
          <a href={run.href} target="_blank" rel="noopener noreferrer nofollow">
            {run.label.map(renderInline)}
          </a>
          {run.host && (
            <span class="link-host">
              {' ('}
              <bdi dir="ltr">{run.host}</bdi>)
            </span>
          )}
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
