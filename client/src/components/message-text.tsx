// A message's text, folded past FOLD_LINES lines behind a "Show more" button, so that one long message (a
// paste of thousands of lines) does not push the whole room out of sight. Each message is isolated in the
// direction of its own text (dir="auto"), so that direction controls in it cannot reorder what is around it.
import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { Linkified } from './linkified';

export function MessageText({ text, seq }: { text: string; seq?: number }) {
  const paragraph = useRef<HTMLParagraphElement>(null);
  const id = useId();
  const [expanded, setExpanded] = useState(false);
  /** Whether the text is taller than the fold: only then is there a button. */
  const [foldable, setFoldable] = useState(false);

  // Measured while folded, and again when the width changes (a narrower window wraps more lines).
  useLayoutEffect(() => {
    const el = paragraph.current;
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
    if (expanded) paragraph.current?.scrollIntoView({ block: 'nearest' });
  };

  return (
    <>
      <p class={`text${expanded ? '' : ' folded'}${foldable && !expanded ? ' clipped' : ''}`} data-seq={seq} dir="auto" id={id} ref={paragraph}>
        <Linkified text={text} />
      </p>
      {foldable && (
        <button type="button" class="link-button fold-toggle" aria-expanded={expanded} aria-controls={id} onClick={toggle}>
          {expanded ? 'Show less' : 'Show more'}
        </button>
      )}
    </>
  );
}
