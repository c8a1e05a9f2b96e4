// How the MongoDB stores go round the private rooms holding messages or files, a room per index seek: the
// ranges they ask for, and where a batch ends. Each seek is the callers' findOne; here it is the same range
// test over room ids kept in order, which MongoDB applies on the room index.
import { describe, expect, it } from 'vitest';
import { privateRoomsAfter, type PrivateRoomRange } from '../server/store/mongo-private-rooms';

const held = ['lobby', '~aaaa', '~bbbb', '~cccc', 'zeta'].sort();

function firstIn(range: PrivateRoomRange): Promise<string | undefined> {
  const low = '$gte' in range ? (room: string) => room >= range.$gte : (room: string) => room > range.$gt;
  return Promise.resolve(held.find((room) => low(room) && room < range.$lt));
}

describe('the private rooms a MongoDB collection holds something of', () => {
  it('are listed in id order, a batch at a time, without public rooms', async () => {
    expect(await privateRoomsAfter(firstIn, undefined, 2)).toEqual(['~aaaa', '~bbbb']);
    expect(await privateRoomsAfter(firstIn, '~bbbb', 2)).toEqual(['~cccc']);
    expect(await privateRoomsAfter(firstIn, '~cccc', 2)).toEqual([]);
  });
});
