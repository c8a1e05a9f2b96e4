import { describe, expect, it } from 'vitest';
import { pathForRoom, routeForPath, toRoomName } from '../../client/src/routes';

describe('room URLs', () => {
  it('reads the room from /r/<room>, and / is the lobby', () => {
    expect(routeForPath('/')).toEqual({ kind: 'room', room: 'lobby', path: '/' });
    expect(routeForPath('/r/dev')).toEqual({ kind: 'room', room: 'dev', path: '/r/dev' });
    expect(routeForPath('/r/release_2026-q1')).toEqual({ kind: 'room', room: 'release_2026-q1', path: '/r/release_2026-q1' });
    expect(pathForRoom('lobby')).toBe('/');
    expect(pathForRoom('dev')).toBe('/r/dev');
  });

  it('reads a private room\'s id exactly, /r/~ and its 20 characters', () => {
    const id = '~k3jq7xw2mb5zr4tdp6ne';
    expect(routeForPath(`/r/${id}`)).toEqual({ kind: 'room', room: id, path: `/r/${id}` });
    expect(pathForRoom(id)).toBe(`/r/${id}`);
    // Not an id (too short): no room by that name, as for any name with characters rooms do not have.
    expect(routeForPath('/r/~abc')).toMatchObject({ kind: 'not-a-room', problem: 'characters' });
  });

  it('takes a room spelled loosely (case, full width, spaces around, a trailing slash) to that room, with its canonical path', () => {
    for (const path of ['/r/Dev', '/r/DEV/', '/r/dev/', '/r/%EF%BD%84%EF%BD%85%EF%BD%96', '/r/%20dev%20']) {
      expect(routeForPath(path), path).toEqual({ kind: 'room', room: 'dev', path: '/r/dev' });
    }
    expect(routeForPath('/r/Lobby')).toEqual({ kind: 'room', room: 'lobby', path: '/' });
  });

  it('says a name that cannot be a room is none, and offers what the join field would make of it', () => {
    expect(routeForPath('/r/has%20space')).toEqual({ kind: 'not-a-room', name: 'has space', problem: 'characters', suggestion: 'has-space' });
    const tooLong = 'a'.repeat(41);
    expect(routeForPath(`/r/${tooLong.toUpperCase()}`)).toMatchObject({ problem: 'too-long' });
    expect(routeForPath(`/r/${tooLong}`)).toEqual({ kind: 'not-a-room', name: tooLong, problem: 'too-long', suggestion: 'a'.repeat(40) });
    expect(routeForPath('/r/-dev')).toEqual({ kind: 'not-a-room', name: '-dev', problem: 'characters', suggestion: 'dev' });
    expect(routeForPath('/r/a/b')).toEqual({ kind: 'not-a-room', name: 'a/b', problem: 'characters', suggestion: 'a-b' });
    expect(routeForPath('/r/!!!')).toEqual({ kind: 'not-a-room', name: '!!!', problem: 'characters', suggestion: undefined });
    // A broken escape is shown as typed rather than breaking the page.
    expect(routeForPath('/r/%E0%A4')).toEqual({ kind: 'not-a-room', name: '%E0%A4', problem: 'characters', suggestion: 'e0-a4' });
  });

  it('turns what a user types into a valid room name', () => {
    expect(named('#Team Chat!')).toBe('team-chat');
    expect(named('  release_2026 ')).toBe('release_2026');
    expect(named('Team - Chat')).toBe('team-chat');
    expect(named('x'.repeat(100))).toBe('x'.repeat(40));
    // Cut at 40 characters, never leaving a dash at the end.
    expect(named(`${'a'.repeat(39)} b`)).toBe('a'.repeat(39));
  });

  it('spells accented and other Latin letters in ASCII', () => {
    expect(named('Ünïcode Räum')).toBe('unicode-raum');
    expect(named('Straße')).toBe('strasse');
    expect(named('Æbleskiver Ødegård')).toBe('aebleskiver-odegard');
    expect(named('Łódź')).toBe('lodz');
    expect(named('Đorđe')).toBe('dorde');
    expect(named('Þór Œuvre')).toBe('thor-oeuvre');
    expect(named('İstanbul Çay')).toBe('istanbul-cay');
    expect(named('Ｆｕｌｌ ｗｉｄｔｈ ﬁle')).toBe('full-width-file');
    expect(named('🎉 party 🎉')).toBe('party');
  });

  it('says why input makes no name: nothing but punctuation, or letters with no ASCII spelling', () => {
    expect(named('!!!')).toBe('error: A room name needs a letter or a digit (a-z, 0-9).');
    expect(named('#')).toBe('error: A room name needs a letter or a digit (a-z, 0-9).');
    expect(named('Чат')).toBe('error: Room names are written with a-z, 0-9, - and _: type “Чат” in Latin letters.');
    expect(named('会議')).toBe('error: Room names are written with a-z, 0-9, - and _: type “会議” in Latin letters.');
    // Part of a name is not silently dropped: "Чат team" is not #team.
    expect(named('Чат team Ελλάδα')).toBe('error: Room names are written with a-z, 0-9, - and _: type “Чат Ελλάδα” in Latin letters.');
    expect(named('release ٣')).toMatch(/type “٣”/);
  });
});

function named(typed: string): string {
  const result = toRoomName(typed);
  return result.ok ? result.name : `error: ${result.error}`;
}
