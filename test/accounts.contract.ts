// The contract every store's accounts part keeps (server/accounts/store.ts), as one suite that
// accounts.contract.test.ts runs against each store: one holder per name key, even when two claim it at
// once; guests can be removed and accounts cannot; sessions found by hash, listed per user, touched,
// removed; and all of it outlives a restart.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NEW_GUEST_GRACE_MS, type SessionRecord, type UserRecord } from '../server/accounts/store';
import { StoreUnavailableError, type Store } from '../server/store/store';

/**
 * @param open  opens a fresh, empty store
 * @param reopen  opens the same data as `closed` again, after it was closed
 */
export function describeAccountStoreContract(name: string, open: () => Promise<Store>, reopen: (closed: Store) => Promise<Store>): void {
  describe(`AccountStore contract: ${name}`, () => {
    const opened: Store[] = [];
    let store: Store;
    beforeEach(async () => {
      store = await open();
      opened.push(store);
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    });

    const user = (nameKey: string, passwordHash?: string): UserRecord => ({
      id: randomBytes(8).toString('hex'),
      name: nameKey,
      nameKey,
      ...(passwordHash === undefined ? {} : { passwordHash }),
      createdAt: Date.now(),
    });
    const session = (owner: UserRecord, createdAt = Date.now()): SessionRecord => ({
      hash: randomBytes(32).toString('hex'),
      userId: owner.id,
      name: owner.name,
      guest: owner.passwordHash === undefined,
      createdAt,
      lastSeenAt: createdAt,
      expiresAt: createdAt + 60_000,
      agent: 'test',
    });

    it('gives a name key to one user, and answers the others with that holder', async () => {
      const alice = user('allce', '$scrypt$hash');
      expect(await store.accounts.addUser(alice)).toBeUndefined();
      expect(await store.accounts.userByKey('allce')).toEqual(alice);
      const holder = await store.accounts.addUser(user('allce'));
      expect(holder).toEqual(alice);
      expect(await store.accounts.userByKey('nobody')).toBeUndefined();
    });

    it('lets exactly one of many simultaneous claims of a name win', async () => {
      const claims = Array.from({ length: 8 }, () => user('bob'));
      const answers = await Promise.all(claims.map((claim) => store.accounts.addUser(claim)));
      const winners = claims.filter((_, i) => answers[i] === undefined);
      expect(winners).toHaveLength(1);
      for (const answer of answers) if (answer) expect(answer.id).toBe(winners[0]?.id);
    });

    it('frees a guest name, never an account name', async () => {
      const guest = user('guest');
      const account = user('account', '$scrypt$hash');
      await store.accounts.addUser(guest);
      await store.accounts.addUser(account);
      await store.accounts.removeGuest(guest.id);
      await store.accounts.removeGuest(account.id);
      expect(await store.accounts.userByKey('guest')).toBeUndefined();
      expect(await store.accounts.userByKey('account')).toEqual(account);
      expect(await store.accounts.addUser(user('guest'))).toBeUndefined();
    });

    it('finds sessions by hash, lists a user\'s oldest first, touches and removes them', async () => {
      const alice = user('allce', '$scrypt$hash');
      const bob = user('bob', '$scrypt$hash');
      const now = Date.now();
      const [second, first, bobs] = [session(alice, now + 1), session(alice, now), session(bob, now)];
      for (const s of [second, first, bobs]) await store.accounts.addSession(s);
      expect(await store.accounts.session(first.hash)).toEqual(first);
      expect(await store.accounts.session(randomBytes(32).toString('hex'))).toBeUndefined();
      expect((await store.accounts.sessionsOf(alice.id)).map((s) => s.hash)).toEqual([first.hash, second.hash]);
      await store.accounts.touchSession(first.hash, now + 5, now + 90_000);
      expect(await store.accounts.session(first.hash)).toEqual({ ...first, lastSeenAt: now + 5, expiresAt: now + 90_000 });
      expect(await store.accounts.removeSession(first.hash)).toBe(true);
      expect(await store.accounts.removeSession(first.hash)).toBe(false);
      expect(await store.accounts.session(first.hash)).toBeUndefined();
      expect((await store.accounts.sessionsOf(alice.id)).map((s) => s.hash)).toEqual([second.hash]);
      await store.accounts.touchSession(first.hash, now, now);
      expect(await store.accounts.session(first.hash)).toBeUndefined();
    });

    it('tells which of a list of sessions are live: not the removed, the expired or the unknown', async () => {
      const alice = user('allce', '$scrypt$hash');
      await store.accounts.addUser(alice);
      const now = Date.now();
      const live = session(alice, now);
      const expired = { ...session(alice, now - 120_000) };
      const removed = session(alice, now);
      for (const s of [live, expired, removed]) await store.accounts.addSession(s);
      await store.accounts.removeSession(removed.hash);
      const answer = await store.accounts.liveSessions([live.hash, expired.hash, removed.hash, 'f'.repeat(64)], now);
      expect([...answer]).toEqual([live.hash]);
    });

    it('sweeps the guests left without a live session, older than the grace, and never an account', async () => {
      const now = Date.now();
      const old = now - NEW_GUEST_GRACE_MS - 1000;
      const aged = (nameKey: string, passwordHash?: string): UserRecord => ({ ...user(nameKey, passwordHash), createdAt: old });
      const gone = aged('gone');
      const expiredOnly = aged('expired');
      const kept = aged('kept');
      const account = aged('account', '$scrypt$hash');
      const fresh = user('fresh');
      for (const u of [gone, expiredOnly, kept, account, fresh]) await store.accounts.addUser(u);
      await store.accounts.addSession(session(kept, now));
      await store.accounts.addSession(session(expiredOnly, now - 120_000));
      // Two at a time: the sweep goes on from where it stopped, and comes round again.
      for (let call = 0; call < 4; call++) await store.accounts.sweepExpired(now, 2);
      expect(await store.accounts.userByKey('gone')).toBeUndefined();
      expect(await store.accounts.userByKey('expired')).toBeUndefined();
      expect((await store.accounts.userByKey('kept'))?.id).toBe(kept.id);
      expect((await store.accounts.userByKey('account'))?.id).toBe(account.id);
      expect((await store.accounts.userByKey('fresh'))?.id).toBe(fresh.id);
    });

    it('moves a read marker on, never back within an epoch, and keeps the most recently moved', async () => {
      const alice = user('allce', '$scrypt$hash');
      const bob = user('bob', '$scrypt$hash');
      const at = Date.now();
      const mark = (room: string, seq: number, epoch = 'e1', when = at) => ({ room, seq, epoch, at: when });
      expect(await store.accounts.setReadMarker(alice.id, mark('lobby', 5), 3)).toEqual(mark('lobby', 5));
      // Another device that read less says so later: the marker stays at 5.
      expect(await store.accounts.setReadMarker(alice.id, mark('lobby', 3, 'e1', at + 1), 3)).toEqual(mark('lobby', 5, 'e1', at + 1));
      // The log was wiped (a new epoch): the marker starts again.
      expect(await store.accounts.setReadMarker(alice.id, mark('lobby', 2, 'e2', at + 2), 3)).toEqual(mark('lobby', 2, 'e2', at + 2));
      // Two devices at once: the furthest wins.
      await Promise.all([store.accounts.setReadMarker(alice.id, mark('news', 9, 'e2', at + 3), 3), store.accounts.setReadMarker(alice.id, mark('news', 7, 'e2', at + 3), 3)]);
      await store.accounts.setReadMarker(bob.id, mark('lobby', 1, 'e2'), 3);
      await store.accounts.setReadMarker(alice.id, mark('dev', 4, 'e2', at + 4), 3);
      await store.accounts.setReadMarker(alice.id, mark('ops', 4, 'e2', at + 5), 3);
      expect(await store.accounts.readMarkers(alice.id)).toEqual([mark('ops', 4, 'e2', at + 5), mark('dev', 4, 'e2', at + 4), mark('news', 9, 'e2', at + 3)]);
      expect(await store.accounts.readMarkers(bob.id)).toEqual([mark('lobby', 1, 'e2')]);
      await store.accounts.removeReadMarker(alice.id, 'dev');
      await store.accounts.removeReadMarker(alice.id, 'nowhere');
      expect((await store.accounts.readMarkers(alice.id)).map((marker) => marker.room)).toEqual(['ops', 'news']);
    });

    it('keeps users and sessions across a restart', async () => {
      const alice = user('allce', '$scrypt$hash');
      const kept = session(alice);
      await store.accounts.addUser(alice);
      await store.accounts.addSession(kept);
      await store.close();
      const again = await reopen(store);
      opened.push(again);
      expect(await again.accounts.userByKey('allce')).toEqual(alice);
      expect(await again.accounts.session(kept.hash)).toEqual(kept);
    });

    it('fails with StoreUnavailableError once closed', async () => {
      await store.close();
      await expect(store.accounts.session('x')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.accounts.addUser(user('late'))).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}
