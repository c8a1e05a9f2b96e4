// The hand-checked fast path of the /wait query against the schema it stands in for.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WaitQuery, wellFormedWaitQuery, type WaitQueryValues } from '../server/validation';

const roomish = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,45}$/),
  // Private rooms' ids, and near misses.
  fc.stringMatching(/^~[a-z0-9]{18,22}$/),
  fc.constantFrom('', 'Lobby', '-x', 'a b', 'é', 'x'.repeat(40), 'x'.repeat(41), `~${'a'.repeat(20)}`, `~${'A'.repeat(20)}`, '~'),
  fc.string({ maxLength: 50 }),
);
const cursorish = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('', '-1', '1.5', '1e3', ' 1', '01', '9007199254740991', '9007199254740992', '9999999999999999', '12345678901234567'),
  fc.string({ maxLength: 20 }),
);
const epochish = fc.oneof(fc.stringMatching(/^[0-9a-f]{0,16}$/), fc.string({ maxLength: 80 }));
const values = fc.record(
  { room: roomish, after: cursorish, epoch: epochish },
  { requiredKeys: [] },
) as fc.Arbitrary<Partial<WaitQueryValues>>;

describe('wellFormedWaitQuery', () => {
  it('accepts only what WaitQuery accepts, and reads it the same', () => {
    fc.assert(
      fc.property(values, (partial) => {
        const query: WaitQueryValues = { room: partial.room, after: partial.after, epoch: partial.epoch };
        const quick = wellFormedWaitQuery(query);
        const schema = WaitQuery.safeParse(query);
        if (quick !== undefined) expect(schema).toEqual({ success: true, data: quick });
      }),
      { numRuns: 5000 },
    );
  });

  it('takes the query a long-poll client sends every time, with or without an epoch', () => {
    expect(wellFormedWaitQuery({ room: 'lobby', after: '42', epoch: undefined })).toEqual({ room: 'lobby', after: 42 });
    expect(wellFormedWaitQuery({ room: 'team-7_b', after: '0', epoch: 'c4ba0f8a712c3161' })).toEqual({ room: 'team-7_b', after: 0, epoch: 'c4ba0f8a712c3161' });
    expect(wellFormedWaitQuery({ room: '~k3jq7xw2mb5zr4tdp6ne', after: '3', epoch: undefined })).toEqual({ room: '~k3jq7xw2mb5zr4tdp6ne', after: 3 });
    // Without a cursor (the first request), or bad: left to the schema and its error messages.
    expect(wellFormedWaitQuery({ room: 'lobby', after: undefined, epoch: undefined })).toBeUndefined();
    expect(wellFormedWaitQuery({ room: 'Lobby', after: '1', epoch: undefined })).toBeUndefined();
    expect(wellFormedWaitQuery({ room: 'lobby', after: '9007199254740992', epoch: undefined })).toBeUndefined();
  });
});
