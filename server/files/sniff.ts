// A file's type, read from its first bytes, never from its name or the type the browser claimed: what
// decides how it is served (server/handlers/files.ts). The list is short on purpose: every type it can
// answer is inert in a browser. Anything it does not know is text/plain (no NUL or control bytes) or
// application/octet-stream, so an HTML or SVG file, whatever it is called, can only ever be text.

/** How many bytes of a file the sniffing looks at: enough for every signature below and a sample of text. */
export const SNIFF_BYTES = 512;

interface Signature {
  type: string;
  /** Bytes at `offset`; undefined entries match any byte. */
  bytes: readonly (number | undefined)[];
  offset?: number;
}

const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));

const SIGNATURES: readonly Signature[] = [
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', bytes: ascii('GIF87a') },
  { type: 'image/gif', bytes: ascii('GIF89a') },
  { type: 'image/webp', bytes: [...ascii('RIFF'), undefined, undefined, undefined, undefined, ...ascii('WEBP')] },
  { type: 'application/pdf', bytes: ascii('%PDF-') },
  { type: 'application/zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: 'application/gzip', bytes: [0x1f, 0x8b] },
  { type: 'video/mp4', bytes: ascii('ftyp'), offset: 4 },
  { type: 'audio/mpeg', bytes: ascii('ID3') },
  { type: 'audio/ogg', bytes: ascii('OggS') },
];

/** The type of a file that starts with `head` (its first SNIFF_BYTES bytes, or all of a shorter file). */
export function sniffType(head: Uint8Array): string {
  for (const { type, bytes, offset = 0 } of SIGNATURES) {
    if (head.length >= offset + bytes.length && bytes.every((byte, i) => byte === undefined || head[offset + i] === byte)) return type;
  }
  return looksLikeText(head) ? 'text/plain' : 'application/octet-stream';
}

/** No NUL and no control characters but tab, line feed, form feed, carriage return and escape. */
function looksLikeText(head: Uint8Array): boolean {
  for (const byte of head) {
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1b) return false;
    if (byte === 0x7f) return false;
  }
  return true;
}
