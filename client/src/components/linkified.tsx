// Message text, shown as text (never as HTML), with http(s) links made clickable.
import { useMemo } from 'preact/hooks';
import { splitLinks } from '../links';

export function Linkified({ text }: { text: string }) {
  // Keyed messages keep their instance, so a message is split once, not on every render of the list.
  const parts = useMemo(() => splitLinks(text), [text]);
  return (
    <>
      {parts.map((part) =>
        part.href ? (
          <a href={part.href} target="_blank" rel="noopener noreferrer nofollow">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </>
  );
}
