// Sizes as the page shows them beside a file and as the server's quota refusals write them: one function.
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../server/format';

describe('a size, as people read it', () => {
  it('counts bytes, then KB, MB and GB of 1,024, with a decimal only below 10 (and none when it is 0)', () => {
    expect([0, 1, 548, 1023].map(formatBytes)).toEqual(['0 bytes', '1 byte', '548 bytes', '1023 bytes']);
    expect([1024, 1536, 12.3 * 1024, 500 * 1024 ** 2, 10 * 1024 ** 3].map(formatBytes)).toEqual(['1 KB', '1.5 KB', '12 KB', '500 MB', '10 GB']);
  });

  it('goes up a unit when the rounded figure would reach 1,024 of this one', () => {
    expect([1024 ** 2 - 1, 1024 ** 2 - 400, 1024 ** 3 - 1].map(formatBytes)).toEqual(['1 MB', '1 MB', '1 GB']);
    expect(formatBytes(1023.4 * 1024)).toBe('1023 KB');
  });
});
