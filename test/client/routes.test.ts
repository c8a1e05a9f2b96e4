import { describe, expect, it } from 'vitest';
import { pathForRoom, roomFromPath, toRoomName } from '../../client/src/routes';

describe('room URLs', () => {
  it('reads the room from /r/<room>, and / is the lobby', () => {
    expect(roomFromPath('/')).toBe('lobby');
    expect(roomFromPath('/r/dev')).toBe('dev');
    expect(roomFromPath('/r/Dev/')).toBe('dev');
    expect(roomFromPath('/r/not%20valid!')).toBe('lobby');
    expect(pathForRoom('lobby')).toBe('/');
    expect(pathForRoom('dev')).toBe('/r/dev');
  });

  it('turns what a user types into a valid room name', () => {
    expect(toRoomName('#Team Chat!')).toBe('team-chat');
    expect(toRoomName('  release_2026 ')).toBe('release_2026');
    expect(toRoomName('!!!')).toBeUndefined();
    expect(toRoomName('x'.repeat(100))).toHaveLength(40);
  });
});
