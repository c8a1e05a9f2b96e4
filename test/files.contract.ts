// The contract every FileStore keeps (server/files/store.ts), as one suite that files.contract.test.ts runs
// against each store: bytes back as stored, nothing kept of a cut upload, attach all or none and only by
// the uploader to its room, removal of bytes and record, usage per person and per guests' address (with the
// address's bound held as a file is stored, also by two racing), the sweep of unsent uploads, a deleted room's
// files removed all at once and the rooms holding files listed, and files and their counts that outlive a restart.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuestAddressFull, type FileStore, type NewFile } from '../server/files/store';
import type { Store } from '../server/store/store';

/**
 * @param open  opens a fresh, empty store
 * @param reopen  opens the same data as `closed` again, after it was closed
 */
export function describeFileStoreContract(name: string, open: () => Promise<Store>, reopen: (closed: Store) => Promise<Store>): void {
  describe(`FileStore contract: ${name}`, () => {
    const opened: Store[] = [];
    let store: Store;
    let files: FileStore;

    beforeEach(async () => {
      store = await open();
      opened.push(store);
      files = store.files;
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    });

    const newFile = (over: Partial<NewFile> = {}): NewFile => ({
      id: randomBytes(16).toString('base64url'),
      room: 'lobby',
      session: 'session-a',
      owner: 'user-a',
      name: 'notes.txt',
      type: 'text/plain',
      ...over,
    });
    async function* chunks(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
      for (const part of parts) yield Buffer.from(part);
    }
    const readAll = async (id: string): Promise<Buffer | undefined> => {
      const body = await files.open(id);
      if (!body) return undefined;
      const read: Buffer[] = [];
      for await (const chunk of body) read.push(chunk as Buffer);
      return Buffer.concat(read);
    };

    it('gives back the bytes and the record it stored', async () => {
      const big = randomBytes(600 * 1024); // more than one GridFS chunk (255 KB)
      const file = newFile({ name: 'photo.png', type: 'image/png', width: 640, height: 480 });
      const stored = await files.put(file, chunks(big.subarray(0, 1000), big.subarray(1000)));
      expect(stored).toMatchObject({ ...file, size: big.length });
      expect(stored.clientId).toBeUndefined();
      expect(await files.get(file.id)).toEqual(stored);
      expect((await readAll(file.id))?.equals(big)).toBe(true);
    });

    it('keeps nothing of an upload whose body fails', async () => {
      const file = newFile();
      async function* cut(): AsyncGenerator<Buffer> {
        yield Buffer.from('the first part');
        throw new Error('connection lost');
      }
      await expect(files.put(file, cut())).rejects.toThrow('connection lost');
      expect(await files.get(file.id)).toBeUndefined();
      expect(await files.open(file.id)).toBeUndefined();
      expect(await files.usage('user-a')).toEqual({ files: 0, bytes: 0, unattached: 0 });
    });

    it('attaches files to one message only, of their uploader, in their room; a resend finds them its own', async () => {
      const a = await files.put(newFile(), chunks('a'));
      const b = await files.put(newFile(), chunks('bb'));
      expect(await files.attach([a.id], 'lobby', 'session-b', 'msg-1')).toEqual({ id: a.id, reason: 'not_yours' });
      expect(await files.attach([a.id], 'other', 'session-a', 'msg-1')).toEqual({ id: a.id, reason: 'other_room' });
      const attached = await files.attach([b.id, a.id], 'lobby', 'session-a', 'msg-1');
      expect(attached).toEqual([
        { ...b, clientId: 'msg-1' },
        { ...a, clientId: 'msg-1' },
      ]);
      expect(await files.attach([a.id, b.id], 'lobby', 'session-a', 'msg-1')).toHaveLength(2);
      expect(await files.attach([a.id], 'lobby', 'session-a', 'msg-2')).toEqual({ id: a.id, reason: 'attached_elsewhere' });
      expect((await files.get(a.id))?.clientId).toBe('msg-1');
    });

    it('attaches all or none: a refused file leaves the others free', async () => {
      const a = await files.put(newFile(), chunks('a'));
      const missing = randomBytes(16).toString('base64url');
      expect(await files.attach([a.id, missing], 'lobby', 'session-a', 'msg-1')).toEqual({ id: missing, reason: 'missing' });
      expect((await files.get(a.id))?.clientId).toBeUndefined();
      expect(await files.attach([a.id], 'lobby', 'session-a', 'msg-2')).toHaveLength(1);
      expect(await files.usage('user-a')).toEqual({ files: 1, bytes: 1, unattached: 0 });
    });

    it('lets only one of two sends racing for a file have it', async () => {
      const a = await files.put(newFile(), chunks('a'));
      const results = await Promise.all([files.attach([a.id], 'lobby', 'session-a', 'msg-1'), files.attach([a.id], 'lobby', 'session-a', 'msg-2')]);
      expect(results.filter(Array.isArray)).toHaveLength(1);
      expect(results.filter((r) => !Array.isArray(r))).toEqual([{ id: a.id, reason: 'attached_elsewhere' }]);
    });

    it('removes bytes and records, and counts each person\'s files, bytes and unsent uploads', async () => {
      const a = await files.put(newFile(), chunks('12345'));
      const b = await files.put(newFile(), chunks('123'));
      await files.put(newFile({ owner: 'user-b', session: 'session-b' }), chunks('1'));
      await files.attach([a.id], 'lobby', 'session-a', 'msg-1');
      expect(await files.usage('user-a')).toEqual({ files: 2, bytes: 8, unattached: 1 });
      await files.remove([a.id, b.id, randomBytes(16).toString('base64url')]);
      expect(await files.get(a.id)).toBeUndefined();
      expect(await files.open(b.id)).toBeUndefined();
      expect(await files.usage('user-a')).toEqual({ files: 0, bytes: 0, unattached: 0 });
      expect(await files.usage('user-b')).toEqual({ files: 1, bytes: 1, unattached: 1 });
    });

    it('sweeps unsent uploads stored before a time, and no others', async () => {
      const sent = await files.put(newFile(), chunks('sent'));
      await files.attach([sent.id], 'lobby', 'session-a', 'msg-1');
      const unsent = await files.put(newFile(), chunks('unsent'));
      expect(await files.sweepUnattached(unsent.createdAt - 1, 100)).toBe(0);
      expect(await files.sweepUnattached(unsent.createdAt + 1, 100)).toBe(1);
      expect(await files.get(unsent.id)).toBeUndefined();
      expect(await readAll(sent.id)).toEqual(Buffer.from('sent'));
      expect(await files.usage('user-a')).toEqual({ files: 1, bytes: 4, unattached: 0 });
    });

    const address = '203.0.113.7';
    const guestFile = (over: Partial<NewFile> = {}) => newFile({ guestAddress: address, ...over });
    const bound = { guestAddressBytes: 16 };

    it("counts guests' files by their address, and keeps none that would take the address past its bound", async () => {
      const a = await files.put(guestFile(), chunks('0123456789'), bound);
      expect(await files.get(a.id)).toEqual(a);
      expect(a.guestAddress).toBe(address);
      // Another guest of the same address: its own usage is empty, the address's is not.
      const refused = files.put(guestFile({ owner: 'user-b', session: 'session-b' }), chunks('abcdefghij'), bound);
      await expect(refused).rejects.toBeInstanceOf(GuestAddressFull);
      await expect(refused).rejects.toMatchObject({ held: 10 });
      expect(await files.usage('user-b')).toEqual({ files: 0, bytes: 0, unattached: 0 });
      expect(await files.guestUsage(address)).toEqual({ files: 1, bytes: 10, unattached: 1 });
      // What fits is kept; another address, and a file without one (an account's, or one stored before
      // addresses were kept), count apart.
      await files.put(guestFile({ owner: 'user-b', session: 'session-b' }), chunks('abcdef'), bound);
      await files.put(guestFile({ guestAddress: '2001:db8::1' }), chunks('0123456789abcdef'), bound);
      await files.put(newFile(), chunks('0123456789abcdef'), bound);
      expect(await files.guestUsage(address)).toEqual({ files: 2, bytes: 16, unattached: 2 });
      expect(await files.guestUsage('2001:db8::1')).toEqual({ files: 1, bytes: 16, unattached: 1 });
      expect(await files.usage('user-a')).toEqual({ files: 3, bytes: 42, unattached: 3 });

      // Sending a file leaves it counted; removing it frees the address.
      await files.attach([a.id], 'lobby', 'session-a', 'msg-1');
      expect(await files.guestUsage(address)).toEqual({ files: 2, bytes: 16, unattached: 1 });
      await files.remove([a.id]);
      expect(await files.guestUsage(address)).toEqual({ files: 1, bytes: 6, unattached: 1 });
      expect((await files.put(guestFile(), chunks('0123456789'), bound)).size).toBe(10);
    });

    it("lets at most one of two guests racing for their address's last bytes keep a file", async () => {
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // Both bodies are under way before either ends: each put has begun, neither record is written.
      async function* held(part: string): AsyncGenerator<Buffer> {
        yield Buffer.from(part);
        await gate;
      }
      const racing = [
        files.put(guestFile(), held('0123456789'), bound),
        files.put(guestFile({ owner: 'user-b', session: 'session-b' }), held('abcdefghij'), bound),
      ];
      release();
      const results = await Promise.allSettled(racing);
      const kept = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      const refusals = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      expect(kept.length).toBeLessThanOrEqual(1);
      for (const refusal of refusals) expect(refusal).toBeInstanceOf(GuestAddressFull);
      expect(await files.guestUsage(address)).toEqual(kept.length === 0 ? { files: 0, bytes: 0, unattached: 0 } : { files: 1, bytes: 10, unattached: 1 });
    });

    it("keeps an address's count across a restart: its guests stay bounded", async () => {
      const a = await files.put(guestFile(), chunks('0123456789'), bound);
      await store.close();
      const again = await reopen(store);
      opened.push(again);
      expect(await again.files.get(a.id)).toEqual(a);
      expect(await again.files.guestUsage(address)).toEqual({ files: 1, bytes: 10, unattached: 1 });
      await expect(again.files.put(guestFile({ owner: 'user-b', session: 'session-b' }), chunks('abcdefghij'), bound)).rejects.toBeInstanceOf(GuestAddressFull);
    });

    it("removes a room's files, sent or waiting, and no other room's: bytes, records and their uploaders' usage", async () => {
      const room = '~aaaaaaaaaaaaaaaaaaaa';
      const sent = await files.put(newFile({ room }), chunks('sent'));
      await files.attach([sent.id], room, 'session-a', 'msg-1');
      const waiting = await files.put(newFile({ room }), chunks('waiting'));
      const others = await files.put(newFile({ room, owner: 'user-b', session: 'session-b' }), chunks('b'));
      const elsewhere = await files.put(newFile({ room: '~bbbbbbbbbbbbbbbbbbbb' }), chunks('kept'));
      const lobby = await files.put(newFile(), chunks('lobby'));
      expect(await files.usage('user-a')).toEqual({ files: 4, bytes: 20, unattached: 3 });

      expect(await files.removeRoom(room)).toBe(3);
      for (const id of [sent.id, waiting.id, others.id]) {
        expect(await files.get(id)).toBeUndefined();
        expect(await files.open(id)).toBeUndefined();
      }
      expect(await files.usage('user-a')).toEqual({ files: 2, bytes: 9, unattached: 2 });
      expect(await files.usage('user-b')).toEqual({ files: 0, bytes: 0, unattached: 0 });
      expect(await readAll(elsewhere.id)).toEqual(Buffer.from('kept'));
      expect(await readAll(lobby.id)).toEqual(Buffer.from('lobby'));
      // Again (a removal cut short, finished by the sweep): nothing left, nothing else touched.
      expect(await files.removeRoom(room)).toBe(0);
      expect(await files.usage('user-a')).toEqual({ files: 2, bytes: 9, unattached: 2 });
      // The sweep of unsent uploads no longer finds the removed one.
      expect(await files.sweepUnattached(Date.now() + 1, 100)).toBe(2);
    });

    it('lists the private rooms holding files, once each, in order, a page at a time; public rooms never', async () => {
      const [a, b, c] = ['~aaaaaaaaaaaaaaaaaaaa', '~bbbbbbbbbbbbbbbbbbbb', '~cccccccccccccccccccc'];
      for (const room of [c, a, 'lobby', a, b, 'zebra', c]) await files.put(newFile({ room }), chunks('x'));
      expect(await files.privateRoomsWithFiles(undefined, 10)).toEqual([a, b, c]);
      expect(await files.privateRoomsWithFiles(undefined, 2)).toEqual([a, b]);
      expect(await files.privateRoomsWithFiles(b, 2)).toEqual([c]);
      expect(await files.privateRoomsWithFiles(c, 2)).toEqual([]);
      await files.removeRoom(b);
      expect(await files.privateRoomsWithFiles(a, 10)).toEqual([c]);
    });

    it('keeps files across a restart', async () => {
      const a = await files.put(newFile(), chunks('kept'));
      await files.attach([a.id], 'lobby', 'session-a', 'msg-1');
      await store.close();
      const again = await reopen(store);
      opened.push(again);
      expect(await again.files.get(a.id)).toEqual({ ...a, clientId: 'msg-1' });
      const body = await again.files.open(a.id);
      const read: Buffer[] = [];
      for await (const chunk of body ?? []) read.push(chunk as Buffer);
      expect(Buffer.concat(read).toString()).toBe('kept');
    });
  });
}
