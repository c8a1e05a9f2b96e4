// What a file is, read from its bytes (server/files/sniff.ts), and the name it is shown and saved under
// (cleanFileName): the two things an uploader controls that the server must not take on trust.
import { describe, expect, it } from 'vitest';
import { cleanFileName } from '../server/files/files';
import { sniffType } from '../server/files/sniff';
import { MAX_FILE_NAME_LENGTH } from '../server/protocol';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

describe('sniffType', () => {
  it.each([
    ['image/png', bytes([0x89], 'PNG\r\n\x1a\n', [0, 0, 0, 13])],
    ['image/jpeg', bytes([0xff, 0xd8, 0xff, 0xe0])],
    ['image/gif', bytes('GIF89a')],
    ['image/gif', bytes('GIF87a')],
    ['image/webp', bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 ')],
    ['application/pdf', bytes('%PDF-1.7\n')],
    ['application/zip', bytes('PK', [3, 4])],
    ['application/gzip', bytes([0x1f, 0x8b, 8])],
    ['video/mp4', bytes([0, 0, 0, 0x20], 'ftypisom')],
    ['audio/mpeg', bytes('ID3', [4, 0])],
    ['audio/ogg', bytes('OggS')],
  ])('reads %s from its signature', (type, head) => {
    expect(sniffType(head)).toBe(type);
  });

  it('reads markup, whatever it says it is, as plain text', () => {
    for (const markup of ['<!doctype html><script>alert(1)</script>', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', '<?xml version="1.0"?><x/>', 'Grüße\tà tous\r\n']) {
      expect(sniffType(Buffer.from(markup))).toBe('text/plain');
    }
  });

  it('reads anything else with control bytes as application/octet-stream', () => {
    expect(sniffType(bytes('MZ', [0x90, 0]))).toBe('application/octet-stream');
    expect(sniffType(bytes('RIFF', [1, 2, 3, 4], 'WAVE'))).toBe('application/octet-stream');
    expect(sniffType(bytes([0x89], 'PN'))).toBe('text/plain'); // too short to be a PNG, and no control byte
  });
});

describe('cleanFileName', () => {
  it('keeps the last part of a path, without control, bidi or line-separator characters', () => {
    expect(cleanFileName('C:\\Users\\ana\\report.pdf')).toBe('report.pdf');
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(cleanFileName('two\nlines\u2028.txt')).toBe('twolines.txt');
    expect(cleanFileName('Cafe\u0301.txt')).toBe('Café.txt');
  });

  it('names a file that has no name left "file"', () => {
    expect(cleanFileName('   ')).toBe('file');
    expect(cleanFileName('dir/')).toBe('file');
  });

  it('cuts a long name before its extension', () => {
    const cut = cleanFileName(`${'ä'.repeat(500)}.jpeg`);
    expect([...cut]).toHaveLength(MAX_FILE_NAME_LENGTH);
    expect(cut.endsWith('ää.jpeg')).toBe(true);
  });
});
