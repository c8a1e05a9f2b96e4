// The links in a message's text, found by linkifyjs: http(s) URLs and bare domains (example.com), with
// balanced parentheses kept in (…/Chat_(disambiguation)) and trailing punctuation left out ("see x.org.").
import { find } from 'linkifyjs';

/** A run of a message's text: plain, or a link to `href`. */
export interface TextPart {
  text: string;
  href?: string;
}

/**
 * Runs of text between characters that a pasted URL never holds unescaped, so that these end a link:
 * markup (<b>), quotes ("…", `…`, «…», “…”, ‘…’) and an ellipsis. linkifyjs would take <, > and " into a path.
 */
const LINKABLE_RUN = /[^<>"`«»“”‘’…]+/g;

/** Splits text into plain runs and links; only http and https links, so javascript: or mailto: stay text. */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let plainFrom = 0;
  for (const run of text.matchAll(LINKABLE_RUN)) {
    for (const link of find(run[0], 'url', { defaultProtocol: 'https' })) {
      const href = webHref(link.href);
      if (!href) continue;
      const start = run.index + link.start;
      if (start > plainFrom) parts.push({ text: text.slice(plainFrom, start) });
      parts.push({ text: link.value, href });
      plainFrom = run.index + link.end;
    }
  }
  if (plainFrom < text.length) parts.push({ text: text.slice(plainFrom) });
  return parts;
}

function webHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
