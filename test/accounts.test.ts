// Accounts, guests and sessions over real HTTP and WebSocket (server/accounts/, server/handlers/session.ts):
// nobody can take or pass for another's name, a session is a random id the store keeps, and ending one
// closes what it holds open.
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Accounts } from '../server/accounts/accounts';
import { ErrorCode, type ErrorResponse, type SessionListResponse, type SessionLookupResponse, type SessionResponse } from '../server/protocol';
import { checkName } from '../server/accounts/names';
import { openEmbeddedStore } from '../server/store/embedded';
import {
  autoCleanup,
  createSession,
  deferCleanup,
  http,
  newClientId,
  ofType,
  postMessage,
  signIn,
  signUp,
  startTestServer,
  subscribedSocket,
  TestSocket,
  withTimeout,
} from './helpers';

autoCleanup();

const PASSWORD = 'correct horse battery';


/** An embedded store in a directory of its own, closed and removed after the test. */
async function scratchStore(): Promise<ReturnType<typeof openEmbeddedStore>> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-sessions-'));
  const store = openEmbeddedStore(dir);
  deferCleanup(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}
describe('impersonation', () => {
  it('refuses every look-alike of a taken name, and every invisible or mixed-script name, saying why', async () => {
    const { url } = await startTestServer();
    await signUp(url, 'Alice');
    await createSession(url, 'Bob'); // a guest holds Bob
    const attempts: { what: string; name: string; code: string; message: RegExp }[] = [
      { what: 'a second visitor picking "Alice"', name: 'Alice', code: ErrorCode.nameTaken, message: /^"Alice" is taken by an account/ },
      { what: 'another case', name: 'ALICE', code: ErrorCode.nameTaken, message: /^"ALICE" looks too like "Alice", which an account has/ },
      { what: 'Cyrillic А', name: '\u0410lice', code: ErrorCode.invalidName, message: /^a (nickname|username) cannot mix scripts: "А" is Cyrillic and "l" is Latin$/ },
      { what: 'all Cyrillic look-alikes', name: '\u0410\u04CF\u0456\u0441\u0435', code: ErrorCode.nameTaken, message: /looks too like "Alice"/ },
      { what: 'fullwidth Ａ', name: '\uFF21lice', code: ErrorCode.nameTaken, message: /^"Alice" is taken by an account/ },
      { what: 'capital I for l', name: 'AIice', code: ErrorCode.nameTaken, message: /looks too like "Alice"/ },
      { what: 'Alice + U+3164', name: 'Alice\u3164', code: ErrorCode.invalidName, message: /invisible or blank characters \(it has U\+3164 HANGUL FILLER\)/ },
      { what: 'only U+3164', name: '\u3164', code: ErrorCode.invalidName, message: /invisible or blank characters \(it has U\+3164 HANGUL FILLER\)/ },
      { what: 'zero-width space', name: 'Al\u200Bice', code: ErrorCode.invalidName, message: /U\+200B ZERO WIDTH SPACE/ },
      { what: 'right-to-left override', name: '\u202EecilA', code: ErrorCode.invalidName, message: /U\+202E RIGHT-TO-LEFT OVERRIDE/ },
      { what: 'Greek ο in Bob', name: 'B\u03BFb', code: ErrorCode.invalidName, message: /^a (nickname|username) cannot mix scripts: "B" is Latin and "ο" is Greek$/ },
      { what: 'a second visitor picking the guest "Bob"', name: 'bob', code: ErrorCode.nameTaken, message: /^"bob" looks too like "Bob", which a guest has/ },
    ];
    const seen: string[] = [];
    for (const { what, name, code, message } of attempts) {
      // As a guest, and as a new account: the same rules for both.
      for (const [path, body] of [['/api/session', { nick: name }], ['/api/accounts', { username: name, password: PASSWORD }]] as const) {
        const answer = await http<ErrorResponse>(url, 'POST', path, { json: body });
        expect({ what, path, status: answer.status, code: answer.body.error?.code }).toEqual({ what, path, status: code === ErrorCode.nameTaken ? 409 : 400, code });
        expect(answer.body.error.message, what).toMatch(message);
        expect(answer.headers['set-cookie'], what).toBeUndefined();
        if (path === '/api/session') seen.push(`${what} ${JSON.stringify(name)}: ${answer.status} ${answer.body.error.code}: ${answer.body.error.message}`);
      }
    }
    console.log(`[impersonation]\n${seen.join('\n')}`);
  });

  it('frees a guest\'s name when it signs out, for anyone', async () => {
    const { url } = await startTestServer();
    const first = await createSession(url, 'Carol');
    expect((await http(url, 'POST', '/api/session', { json: { nick: 'carol' } })).status).toBe(409);
    expect((await http(url, 'DELETE', '/api/session', { cookie: first })).status).toBe(204);
    const answer = await http<SessionResponse>(url, 'POST', '/api/accounts', { json: { username: 'carol', password: PASSWORD } });
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 201, body: { nick: 'carol', guest: false, maxTextLength: 4000 } });
  });
});

describe('accounts', () => {
  it('signs up and in; a wrong password and an unknown name get the same answer', async () => {
    const { url } = await startTestServer();
    const signedUp = await http<SessionResponse>(url, 'POST', '/api/accounts', { json: { username: 'Dana', password: PASSWORD } });
    expect({ status: signedUp.status, body: signedUp.body }).toEqual({ status: 201, body: { nick: 'Dana', guest: false, maxTextLength: 4000 } });
    const cookie = await signIn(url, 'dana'); // any look-alike of the name finds the account; the password decides
    expect((await http<SessionLookupResponse>(url, 'GET', '/api/session', { cookie })).body).toEqual({ nick: 'Dana', guest: false, maxTextLength: 4000 });

    const timed = async (username: string, password: string) => {
      const started = performance.now();
      const answer = await http<ErrorResponse>(url, 'POST', '/api/session', { json: { username, password } });
      return { answer: { status: answer.status, body: answer.body, cookie: answer.headers['set-cookie'] }, ms: performance.now() - started };
    };
    const wrongPassword = await timed('Dana', 'not the password');
    const unknownName = await timed('Nobody', 'not the password');
    const refusal = { status: 401, body: { error: { code: ErrorCode.signInFailed, message: 'the username or the password is wrong', retryable: false } }, cookie: undefined };
    expect(wrongPassword.answer).toEqual(refusal);
    expect(unknownName.answer).toEqual(refusal);
    console.log(`[sign-in] wrong password ${wrongPassword.ms.toFixed(0)} ms, unknown username ${unknownName.ms.toFixed(0)} ms`);

    const short = await http<ErrorResponse>(url, 'POST', '/api/accounts', { json: { username: 'Eve', password: 'short' } });
    expect({ status: short.status, code: short.body.error.code, message: short.body.error.message }).toEqual({
      status: 400,
      code: ErrorCode.invalidPassword,
      message: 'a password has at least 8 characters',
    });
  });

  it('signs in with the long emoji password it signed up with, and refuses a password with half a character on both paths', async () => {
    const { url } = await startTestServer();
    const emoji = '\u{1F600}'.repeat(130); // 130 characters, 260 UTF-16 units: within the 256-character bound
    await signUp(url, 'Rosa', emoji);
    await signIn(url, 'rosa', emoji);
    const lone = await http<ErrorResponse>(url, 'POST', '/api/accounts', { json: { username: 'Sami', password: '\ud800'.repeat(8) } });
    expect({ status: lone.status, code: lone.body.error.code, message: lone.body.error.message }).toEqual({
      status: 400,
      code: ErrorCode.invalidPassword,
      message: 'a password cannot hold half a character (a lone UTF-16 surrogate)',
    });
    // A stored password is never matched by another made of half characters (they would all hash as U+FFFD).
    await signUp(url, 'Tove', '\ufffd'.repeat(8));
    expect((await http(url, 'POST', '/api/session', { json: { username: 'Tove', password: '\udc00'.repeat(8) } })).status).toBe(401);
  });

  it('throttles sign-in attempts at one name (429 with Retry-After), even with the right password', async () => {
    const { url } = await startTestServer();
    await signUp(url, 'Frank');
    for (let i = 0; i < 4; i++) expect((await http(url, 'POST', '/api/session', { json: { username: 'Frank', password: `guess ${i}xx` } })).status).toBe(401);
    expect((await http(url, 'POST', '/api/session', { json: { username: 'frank', password: PASSWORD } })).status).toBe(200);
    const throttled = await http<ErrorResponse>(url, 'POST', '/api/session', { json: { username: 'FRANK', password: PASSWORD } });
    expect({ status: throttled.status, code: throttled.body.error.code }).toEqual({ status: 429, code: ErrorCode.rateLimited });
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
    // Another name is not held up by it.
    expect((await http(url, 'POST', '/api/session', { json: { username: 'Grace', password: PASSWORD } })).status).toBe(401);
  });

  it('lets the owner sign in from their own address while strangers elsewhere are throttled at the name', async () => {
    const { url } = await startTestServer();
    await signUp(url, 'Vera');
    const stranger = '127.0.0.2';
    for (let i = 0; i < 5; i++) expect((await http(url, 'POST', '/api/session', { json: { username: 'Vera', password: `guess ${i}xx` }, from: stranger })).status).toBe(401);
    const throttled = await http<ErrorResponse>(url, 'POST', '/api/session', { json: { username: 'Vera', password: `guess 6xx` }, from: stranger });
    expect({ status: throttled.status, code: throttled.body.error.code }).toEqual({ status: 429, code: ErrorCode.rateLimited });
    await signIn(url, 'Vera');
  });

  it('stamps messages by an account, and lists accounts among the people present; guests carry no mark', async () => {
    const { url, wsUrl } = await startTestServer();
    const hana = await signUp(url, 'Hana');
    const ivan = await createSession(url, 'Ivan');
    const { socket } = await subscribedSocket(wsUrl, 'lobby', { cookie: hana });
    await subscribedSocket(wsUrl, 'lobby', { cookie: ivan });
    const byAccount = await socket.sendMessage('lobby', 'from an account');
    const byGuest = await postMessage<{ message: object }>(url, 'lobby', { clientId: newClientId(), text: 'from a guest' }, ivan);
    expect(byAccount.message).toMatchObject({ author: 'Hana', account: true });
    expect(byGuest.body.message).toMatchObject({ author: 'Ivan' });
    expect(byGuest.body.message).not.toHaveProperty('account');
    const people = await socket.next(ofType('people', (f) => f.present.length === 2));
    expect(people).toMatchObject({ present: ['Hana', 'Ivan'], accounts: ['Hana'] });
  });

  it('refuses guest sessions and nickname changes from one IP past IP_GUEST_BURST, with 429 and Retry-After; another IP is not held up', async () => {
    const { url } = await startTestServer({ IP_GUEST_BURST: '3', IP_GUESTS_PER_MINUTE: '1' });
    const cookie = await createSession(url, 'Umar1');
    for (const nick of ['Umar2', 'Umar3']) expect((await http(url, 'POST', '/api/session', { json: { nick }, cookie })).status).toBe(200);
    const refused = await http<ErrorResponse>(url, 'POST', '/api/session', { json: { nick: 'Umar4' } });
    expect({ status: refused.status, code: refused.body.error.code, retryable: refused.body.error.retryable }).toEqual({ status: 429, code: ErrorCode.rateLimited, retryable: true });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await http(url, 'POST', '/api/session', { json: { nick: 'Umar4' }, from: '127.0.0.2' })).status).toBe(200);
  });

  it('refuses guests with GUESTS=off, and still signs accounts up', async () => {
    const { url } = await startTestServer({ GUESTS: 'off' });
    expect((await http<SessionLookupResponse>(url, 'GET', '/api/session')).body).toEqual({ nick: null, maxTextLength: 4000, guestsAllowed: false });
    const guest = await http<ErrorResponse>(url, 'POST', '/api/session', { json: { nick: 'Jack' } });
    expect({ status: guest.status, code: guest.body.error.code }).toEqual({ status: 403, code: ErrorCode.guestsOff });
    await signUp(url, 'Jack');
  });
});

describe('sessions', () => {
  it('lists a person\'s sessions; revoking one closes its WebSocket (4001) and answers its held long-poll (401)', async () => {
    const { url, wsUrl } = await startTestServer();
    const laptop = await signUp(url, 'Kim');
    const phone = await signIn(url, 'Kim', PASSWORD, { 'user-agent': 'Phone/1.0' });
    expect(phone).not.toBe(laptop);
    const list = await http<SessionListResponse>(url, 'GET', '/api/sessions', { cookie: laptop });
    expect(list.body.sessions.map(({ current, agent }) => ({ current, agent }))).toEqual([
      { current: true, agent: '' },
      { current: false, agent: 'Phone/1.0' },
    ]);
    const phoneId = list.body.sessions[1]?.id ?? '';

    const { socket: phoneSocket } = await subscribedSocket(wsUrl, 'lobby', { cookie: phone });
    const { socket: laptopSocket } = await subscribedSocket(wsUrl, 'lobby', { cookie: laptop });
    const held = http<ErrorResponse>(url, 'GET', '/wait?room=lobby&after=0', { cookie: phone });
    // The held request is registered once the server has it: a message to the room would answer it, so wait for the people picture instead.
    await laptopSocket.roundTrip();
    await waitUntilHeld(url, phone);

    expect((await http(url, 'DELETE', `/api/sessions/${phoneId}`, { cookie: laptop })).status).toBe(204);
    expect((await withTimeout(phoneSocket.closed, 5000, 'the revoked socket to close')).code).toBe(4001);
    const answered = await withTimeout(held, 5000, 'the revoked long-poll to be answered');
    expect({ status: answered.status, code: answered.body.error.code }).toEqual({ status: 401, code: ErrorCode.unauthenticated });
    // The laptop is untouched; the phone's cookie is nobody now.
    await laptopSocket.roundTrip();
    expect((await http<SessionLookupResponse>(url, 'GET', '/api/session', { cookie: phone })).body.nick).toBeNull();
    expect((await postMessage(url, 'lobby', { clientId: newClientId(), text: 'still me?' }, phone)).status).toBe(401);
    expect((await http<SessionListResponse>(url, 'GET', '/api/sessions', { cookie: laptop })).body.sessions).toHaveLength(1);
    // Nobody ends another person's session.
    const other = await signUp(url, 'Lee');
    const [leeSession] = (await http<SessionListResponse>(url, 'GET', '/api/sessions', { cookie: other })).body.sessions;
    expect((await http(url, 'DELETE', `/api/sessions/${leeSession?.id}`, { cookie: laptop })).status).toBe(404);
  });

  it('signs out: the cookie is cleared and the session\'s own sockets close', async () => {
    const { url, wsUrl } = await startTestServer();
    const cookie = await signUp(url, 'Mona');
    const socket = await TestSocket.open(wsUrl, cookie);
    await socket.roundTrip();
    const answer = await http(url, 'DELETE', '/api/session', { cookie });
    expect(answer.status).toBe(204);
    expect(answer.headers['set-cookie']?.[0]).toMatch(/^parley_session=; Max-Age=0;/);
    expect((await withTimeout(socket.closed, 5000, 'the socket to close')).code).toBe(4001);
    expect((await http<SessionLookupResponse>(url, 'GET', '/api/session', { cookie })).body.nick).toBeNull();
  });

  it('over HTTPS (TRUST_PROXY and X-Forwarded-Proto) the cookie is Secure and __Host-; without TRUST_PROXY the header is not believed', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const trusting = await startTestServer({ TRUST_PROXY: 'on' });
    const secure = await http(trusting.url, 'POST', '/api/session', { json: { nick: 'Nina' }, headers: https });
    const setCookie = secure.headers['set-cookie']?.[0] ?? '';
    expect(setCookie).toMatch(/^__Host-parley_session=[\w-]{43}; Max-Age=2592000; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    const cookie = setCookie.split(';')[0] ?? '';
    expect((await http<SessionLookupResponse>(trusting.url, 'GET', '/api/session', { cookie, headers: https })).body.nick).toBe('Nina');
    // The same id under the plain name, over HTTPS, is not read: only the __Host- cookie counts there.
    const plain = cookie.replace('__Host-', '');
    expect((await http<SessionLookupResponse>(trusting.url, 'GET', '/api/session', { cookie: plain, headers: https })).body.nick).toBeNull();

    const untrusting = await startTestServer();
    const answer = await http(untrusting.url, 'POST', '/api/session', { json: { nick: 'Nina' }, headers: https });
    expect(answer.headers['set-cookie']?.[0]).toMatch(/^parley_session=[^;]+; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('signing up from a guest\'s browser ends the guest session and frees its name', async () => {
    const { url } = await startTestServer();
    const guest = await createSession(url, 'Wanda');
    expect((await http(url, 'POST', '/api/accounts', { json: { username: 'Xena', password: PASSWORD }, cookie: guest })).status).toBe(201);
    expect((await http<SessionLookupResponse>(url, 'GET', '/api/session', { cookie: guest })).body.nick).toBeNull();
    await createSession(url, 'Wanda');
  });

  it('with GUESTS=off, a guest from before signs out, and its name is free again', async () => {
    const store = await scratchStore();
    const options = { sessionIdleMs: 60_000, trustProxy: false };
    const request = (cookie = ''): IncomingMessage => ({ headers: { cookie }, socket: {} }) as IncomingMessage;
    const before = new Accounts(store.accounts, { ...options, guests: true });
    const cookie = (await before.startGuest('Yara', request(), undefined)).cookie.split(';')[0] ?? '';
    await new Accounts(store.accounts, { ...options, guests: false }).signOut(request(cookie));
    expect((await before.startGuest('Yara', request(), undefined)).session.nick).toBe('Yara');
  });

  it('sweeps expired sessions and the guests left without one from the embedded store, and nothing live', async () => {
    const store = await scratchStore();
    let now = Date.now();
    const accounts = new Accounts(store.accounts, { guests: true, sessionIdleMs: 10 * 60_000, trustProxy: false, now: () => now });
    const request = (): IncomingMessage => ({ headers: {}, socket: {} }) as IncomingMessage;
    const gone = await accounts.startGuest('Zoe', request(), undefined);
    now += 5 * 60_000;
    const live = await accounts.startGuest('Zack', request(), undefined);
    now += 6 * 60_000;
    await accounts.sweep();
    expect(await store.accounts.session(gone.session.id)).toBeUndefined();
    expect(await store.accounts.userByKey(keyOf('Zoe'))).toBeUndefined();
    expect(await store.accounts.session(live.session.id)).toBeDefined();
    expect((await store.accounts.userByKey(keyOf('Zack')))?.name).toBe('Zack');
  });

  it('closes a connection here when its session is revoked on another instance, and only that one', async () => {
    const store = await scratchStore();
    const options = { guests: true, sessionIdleMs: 60_000, trustProxy: false };
    const here = new Accounts(store.accounts, options);
    const elsewhere = new Accounts(store.accounts, options);
    const request = (): IncomingMessage => ({ headers: {}, socket: {} }) as IncomingMessage;
    const phone = await here.signUp('Quinn', PASSWORD, request(), '127.0.0.1');
    const laptop = await elsewhere.signIn('Quinn', PASSWORD, request(), '127.0.0.2');
    const other = await here.startGuest('Rhea', request(), undefined);
    const ended: string[] = [];
    here.attach(phone.session, { sessionEnded: () => ended.push('phone') });
    here.attach(other.session, { sessionEnded: () => ended.push('other') });
    expect(await here.recheckConnections()).toBe(0);
    expect(await elsewhere.revoke(laptop.session, phone.session.id)).toBe(true);
    expect(ended).toEqual([]);
    expect(await here.recheckConnections()).toBe(1);
    expect(ended).toEqual(['phone']);
    expect(await here.recheckConnections()).toBe(0);
  });

  it('expires a session left unused for SESSION_IDLE_DAYS, and keeps one in use alive past it (sliding)', async () => {
    const store = await scratchStore();
    let now = Date.now();
    const day = 24 * 60 * 60 * 1000;
    const accounts = new Accounts(store.accounts, { guests: true, sessionIdleMs: 30 * day, trustProxy: false, now: () => now });
    const request = (cookie = ''): IncomingMessage => ({ headers: { cookie }, socket: {} }) as IncomingMessage;
    const cookieOf = (started: { cookie: string }) => started.cookie.split(';')[0] ?? '';
    const used = cookieOf(await accounts.signUp('Olga', PASSWORD, request(), '127.0.0.1'));
    const unused = cookieOf(await accounts.startGuest('Pavel', request(), undefined));
    for (let i = 0; i < 4; i++) {
      now += 10 * day;
      expect((await accounts.sessionOf(request(used)))?.nick).toBe('Olga');
    }
    expect(await accounts.sessionOf(request(unused))).toBeUndefined();
    // The expired guest's name is free again.
    expect((await accounts.startGuest('Pavel', request(), undefined)).session.nick).toBe('Pavel');
  });
});

/** Resolves once the session's GET /wait is held by the server (the people list shows it polling). */
async function waitUntilHeld(url: string, cookie: string): Promise<void> {
  const nick = (await http<SessionResponse>(url, 'GET', '/api/session', { cookie })).body.nick;
  for (;;) {
    const people = await http<{ present: string[] }>(url, 'GET', '/api/rooms/lobby/people');
    if (people.body.present.includes(nick)) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('password work under attack', () => {
  it('answers a message POST at once while wrong sign-ins flood in from one IP: 2 hashes at a time, a short line, then 429 with Retry-After', async () => {
    const { url } = await startTestServer();
    const sender = await createSession(url, 'Quinn');
    const started = performance.now();
    const wrongAt: number[] = [];
    let firstAnswer!: () => void;
    const answered = new Promise<void>((resolve) => (firstAnswer = resolve));
    // 25 from one IP: the per-IP attempts refuse the last ones at once, which tells that the others are in.
    const attempts = Array.from({ length: 25 }, (_, i) =>
      http<ErrorResponse>(url, 'POST', '/api/session', { json: { username: `nobody${i}`, password: 'guessguess' } }).then((answer) => {
        if (answer.status === 401) wrongAt.push(performance.now() - started);
        firstAnswer();
        return answer;
      }),
    );
    await answered;
    const sendStart = performance.now();
    const sent = await postMessage(url, 'lobby', { clientId: newClientId(), text: 'still here' }, sender);
    const sendMs = performance.now() - sendStart;
    const sendDoneAt = performance.now() - started;
    const answers = await Promise.all(attempts);
    console.log(`send ${sendMs.toFixed(0)} ms, flood ${Math.max(...wrongAt).toFixed(0)} ms, wrong sign-ins answered before the send: ${wrongAt.filter((at) => at < sendDoneAt).length} of ${wrongAt.length}`);
    expect(sent.status).toBe(201);
    // The send did not queue behind the hashes: at most the 2 running then finished before it.
    expect(wrongAt.filter((at) => at < sendDoneAt).length).toBeLessThanOrEqual(2);
    const busy = answers.filter((answer) => answer.body.error?.message.startsWith('the server is busy checking passwords'));
    expect(busy.length).toBeGreaterThan(0);
    for (const answer of busy) expect({ status: answer.status, retryAfter: answer.headers['retry-after'], retryable: answer.body.error.retryable }).toEqual({ status: 429, retryAfter: '1', retryable: true });
  });
});

/** The key a name is stored under (its confusable skeleton). */
function keyOf(name: string): string {
  const checked = checkName(name, 'nickname');
  if (!('key' in checked)) throw new Error(`${name} is not a valid name`);
  return checked.key;
}
