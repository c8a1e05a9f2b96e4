// Who is in a room and who is typing: over WebSocket `people` frames and over HTTP for long-poll readers.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Presence } from '../server/presence';
import { ErrorCode, PEOPLE_LIST_LIMIT, type PeopleState } from '../server/protocol';
import { autoCleanup, createSession, http, ofType, startTestServer, subscribedSocket, TestSocket, type FrameOf } from './helpers';

autoCleanup();

describe('Presence', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('publishes a room only when its picture changes, coalescing changes, and expires pollers and typists', () => {
    vi.useFakeTimers();
    const published: PeopleState[] = [];
    const presence = new Presence({ pollGraceMs: 30_000, typingMs: 5000, debounceMs: 250 }, (_room, state) => published.push(state));
    presence.joined('lobby', 'Ana');
    presence.joined('lobby', 'Ana'); // a second tab
    presence.joined('lobby', undefined);
    presence.polled('lobby', 'Cy');
    vi.advanceTimersByTime(250);
    expect(published).toEqual([{ room: 'lobby', present: ['Ana', 'Cy'], presentCount: 2, typing: [], guests: 1 }]);

    presence.left('lobby', 'Ana'); // one tab of two: still present
    presence.polled('lobby', 'Cy'); // still polling: nothing new
    presence.typing('lobby', 'Cy');
    presence.typing('lobby', 'Cy');
    vi.advanceTimersByTime(250);
    expect(published.at(-1)).toEqual({ room: 'lobby', present: ['Ana', 'Cy'], presentCount: 2, typing: ['Cy'], guests: 1 });
    expect(published).toHaveLength(2);

    presence.sent('lobby', 'Cy');
    vi.advanceTimersByTime(250);
    expect(published.at(-1)?.typing).toEqual([]);
    presence.typing('lobby', 'Ana');
    vi.advanceTimersByTime(6000); // typing lapses without a message
    expect(published.at(-1)).toMatchObject({ present: ['Ana', 'Cy'], typing: [] });
    vi.advanceTimersByTime(30_000); // Cy stopped polling
    expect(published.at(-1)).toMatchObject({ present: ['Ana'], typing: [] });
    presence.left('lobby', 'Ana');
    presence.left('lobby', undefined);
    vi.advanceTimersByTime(250);
    expect(published.at(-1)).toEqual({ room: 'lobby', present: [], presentCount: 0, typing: [], guests: 0 });
    const count = published.length;
    vi.advanceTimersByTime(60_000);
    expect(published).toHaveLength(count);
    presence.close();
  });

  it('keeps typing only for someone present, and at most maxPolledRooms rooms for long-poll readers alone (issue 14, item 6b)', () => {
    vi.useFakeTimers();
    const presence = new Presence({ pollGraceMs: 30_000, typingMs: 5000, debounceMs: 250, maxPolledRooms: 10_000 }, () => undefined);
    // Typing into 20,000 rooms one is not in holds nothing.
    for (let i = 0; i < 20_000; i++) presence.typing(`typed-${i}`, 'Spy');
    presence.polled('typed-0', 'Ana');
    expect(presence.state('typed-0')).toMatchObject({ present: ['Ana'], typing: [] });

    // Polling 20,000 rooms keeps the last 10,000 polled; a room a WebSocket reads is never forgotten.
    presence.joined('lobby', 'Ana');
    presence.polled('lobby', 'Spy');
    for (let i = 0; i < 20_000; i++) presence.polled(`polled-${i}`, 'Spy');
    expect(presence.state('polled-9999').presentCount).toBe(0);
    expect(presence.state('polled-10000').present).toEqual(['Spy']);
    expect(presence.state('polled-19999').present).toEqual(['Spy']);
    expect(presence.state('typed-0').presentCount).toBe(0);
    expect(presence.state('lobby').present).toEqual(['Ana', 'Spy']);

    // Once its last socket leaves, a room is kept for its pollers, and counts among the polled rooms.
    presence.left('lobby', 'Ana');
    presence.polled('one-more', 'Spy');
    expect(presence.state('lobby').present).toEqual(['Spy']);
    expect(presence.state('polled-10000').presentCount).toBe(0);
    presence.close();
  });

  it('publishes a room of thousands less often, without delaying a small room', () => {
    vi.useFakeTimers();
    const published: { room: string; at: number; guests: number }[] = [];
    const presence = new Presence({ pollGraceMs: 30_000, typingMs: 5000, debounceMs: 250, maxFramesPerSecond: 4000 }, (room, state) =>
      published.push({ room, at: Date.now(), guests: state.guests }),
    );
    const start = Date.now();
    for (let i = 0; i < 10_000; i++) presence.joined('big', undefined);
    vi.advanceTimersByTime(250);
    expect(published).toEqual([{ room: 'big', at: start + 250, guests: 10_000 }]);
    // 10,000 readers at 4,000 frames a second: the next picture of 'big' waits 2.5 s; 'small' does not.
    presence.joined('big', undefined);
    presence.joined('small', 'Ana');
    vi.advanceTimersByTime(250);
    expect(published.at(-1)).toEqual({ room: 'small', at: start + 500, guests: 0 });
    vi.advanceTimersByTime(2000);
    expect(published.filter((p) => p.room === 'big')).toHaveLength(1);
    vi.advanceTimersByTime(250);
    expect(published.at(-1)).toEqual({ room: 'big', at: start + 2750, guests: 10_001 });
    presence.close();
  });

  it('names the first PEOPLE_LIST_LIMIT of a room of 10,000 nicknames, and counts them all', () => {
    const presence = new Presence({ pollGraceMs: 30_000, typingMs: 5000, debounceMs: 250 }, () => undefined);
    const nicks = Array.from({ length: 10_000 }, (_, i) => `reader ${String(i).padStart(5, '0')}`);
    for (const nick of [...nicks].reverse()) presence.joined('big', nick);
    presence.polled('big', 'Ana'); // a long-poll reader sorts in with the rest
    presence.typing('big', 'reader 09999');
    const state = presence.state('big');
    expect(state.presentCount).toBe(10_001);
    expect(state.present).toEqual(['Ana', ...nicks.slice(0, PEOPLE_LIST_LIMIT - 1)]);
    expect(state.typing).toEqual(['reader 09999']); // present, though past the names listed
    expect(JSON.stringify(state).length).toBeLessThan(3000);
    presence.left('big', 'Ana'); // polling still: present
    presence.left('big', 'reader 00000');
    expect(presence.state('big').present.slice(0, 2)).toEqual(['Ana', 'reader 00001']);
    presence.close();
  });

  it('keeps its list in the order a sort of everyone present gives, whatever comes and goes', () => {
    const names = ['ana', 'Ana', 'Ána', 'bo', 'Bo', 'cy', 'Zoë', 'zoe', 'éa', 'Ea', '李', 'Ω'];
    const step = fc.record({ nick: fc.constantFrom(...names), kind: fc.constantFrom('join', 'leave', 'poll', 'expire') });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        vi.useFakeTimers();
        const presence = new Presence({ pollGraceMs: 1000, typingMs: 5000, debounceMs: 250 }, () => undefined);
        const sockets = new Map<string, number>();
        const polling = new Set<string>();
        for (const { nick, kind } of steps) {
          if (kind === 'join') {
            presence.joined('r', nick);
            sockets.set(nick, (sockets.get(nick) ?? 0) + 1);
          } else if (kind === 'leave' && sockets.has(nick)) {
            presence.left('r', nick);
            const left = sockets.get(nick)! - 1;
            if (left === 0) sockets.delete(nick);
            else sockets.set(nick, left);
          } else if (kind === 'poll') {
            presence.polled('r', nick);
            polling.add(nick);
          } else if (kind === 'expire') {
            vi.advanceTimersByTime(2000); // every poll lapses at the next sweep
            polling.clear();
          }
        }
        const everyone = [...new Set([...sockets.keys(), ...polling])];
        const sorted = everyone.sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' }) || (a < b ? -1 : a > b ? 1 : 0));
        const state = presence.state('r');
        presence.close();
        vi.useRealTimers();
        expect(state.present).toEqual(sorted);
        expect(state.presentCount).toBe(sorted.length);
      }),
    );
  });
});

describe('people in a room, end to end', () => {
  const nextPeople = (socket: TestSocket, check: (frame: FrameOf<'people'>) => boolean) =>
    socket.next(ofType('people', check));

  it('shows who reads the room over WebSocket and long-poll, who is typing, and who left', async () => {
    const { url, wsUrl } = await startTestServer({ WAIT_TIMEOUT_MS: '2000' });
    const ana = await createSession(url, 'Ana');
    const ben = await createSession(url, 'Ben');
    const cy = await createSession(url, 'Cy');
    const { socket: anaSocket } = await subscribedSocket(wsUrl, 'den', { cookie: ana, after: 0 });
    // The state comes right after `subscribed`.
    expect(await nextPeople(anaSocket, () => true)).toMatchObject({ present: ['Ana'], typing: [], guests: 0 });

    const { socket: benSocket } = await subscribedSocket(wsUrl, 'den', { cookie: ben, after: 0 });
    await nextPeople(anaSocket, (f) => f.present.join() === 'Ana,Ben');

    // Cy long-polls with her session: present too, and she can see the room over HTTP.
    const held = http(url, 'GET', '/wait?room=den&after=0', { cookie: cy });
    await nextPeople(anaSocket, (f) => f.present.join() === 'Ana,Ben,Cy');
    const overHttp = await http<PeopleState>(url, 'GET', '/api/rooms/den/people', { cookie: cy });
    expect(overHttp.body).toEqual({ room: 'den', present: ['Ana', 'Ben', 'Cy'], presentCount: 3, typing: [], guests: 0 });

    // Typing, over WebSocket and over HTTP; a stored message ends it.
    benSocket.send({ type: 'typing', room: 'den' });
    await nextPeople(anaSocket, (f) => f.typing.join() === 'Ben');
    expect((await http(url, 'POST', '/api/rooms/den/typing', { cookie: cy })).status).toBe(204);
    await nextPeople(anaSocket, (f) => f.typing.join() === 'Ben,Cy');
    await benSocket.sendMessage('den', 'done typing');
    await nextPeople(anaSocket, (f) => f.typing.join() === 'Cy');

    // Leaving is shown; nothing of this reaches the log.
    await benSocket.close();
    await nextPeople(anaSocket, (f) => !f.present.includes('Ben'));
    const log = await http<{ messages: unknown[] }>(url, 'GET', '/api/rooms/den/messages');
    expect(log.body.messages).toHaveLength(1);
    await held;
  });

  it('refuses typing without a nickname, and typing from a page of another origin', async () => {
    const { url, wsUrl } = await startTestServer();
    const anonymous = await TestSocket.open(wsUrl);
    anonymous.send({ type: 'typing', room: 'den' });
    expect(await anonymous.next(ofType('error'))).toMatchObject({ code: ErrorCode.unauthenticated });
    expect((await http(url, 'POST', '/api/rooms/den/typing')).status).toBe(401);
    const cookie = await createSession(url, 'Eve');
    const foreign = await http(url, 'POST', '/api/rooms/den/typing', { cookie, headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
  });
});
