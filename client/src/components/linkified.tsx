// Message text, shown as text (never as HTML), with http(s) links made clickable. Each link is isolated and
// left to right, so that direction controls in the text around it cannot reorder what it shows.
import { useMemo } from 'preact/hooks';
import { splitLinks } from '../links';

export function Linkified({ text }: { text: string }) {
  // Keyed messages keep their instance, so a message is split once, not on every render of the list.
  const parts = useMemo(() => splitLinks(text), [text]);
  return (
    <>
      {parts.map((part) =>
        part.href ? (
          <a href={part.href} target="_blank" rel="noopener noreferrer nofollow" dir="ltr">
            {part.text}
          </a>
        ) : (
          part.text
        ),
      )}
    </>
  );
}
