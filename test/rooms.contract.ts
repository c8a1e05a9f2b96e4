// The contract every store's rooms part keeps (server/rooms/store.ts), as one suite that
// rooms.contract.test.ts runs against each store: a private room with its members, one room per pair for
// DMs even when both open it at once, standings put, replaced, listed and removed, a person's private rooms
// (and not their public standings), a deleted room gone with its DM key, and all of it outliving a restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newRoomId } from '../server/rooms/rooms';
import type { MemberRecord, RoomRecord } from '../server/rooms/store';
import { StoreUnavailableError, type Store } from '../server/store/store';

/**
 * @param open  opens a fresh, empty store
 * @param reopen  opens the same data as `closed` again, after it was closed
 */
export function describeRoomStoreContract(name: string, open: () => Promise<Store>, reopen: (closed: Store) => Promise<Store>): void {
  describe(`RoomStore contract: ${name}`, () => {
    const opened: Store[] = [];
    let store: Store;
    beforeEach(async () => {
      store = await open();
      opened.push(store);
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    });

    const room = (title = 'plans'): RoomRecord => ({ id: newRoomId(), title, createdAt: 1000 });
    const member = (roomId: string, userId: string, role: MemberRecord['role'] = 'member', since = 1000): MemberRecord => ({
      room: roomId,
      userId,
      name: `name-${userId}`,
      role,
      since,
    });

    it('stores a private room with its members, and finds neither for a room that does not exist', async () => {
      const plans = room();
      await store.rooms.createRoom(plans, [member(plans.id, 'u1', 'owner'), member(plans.id, 'u2')]);
      expect(await store.rooms.room(plans.id)).toEqual(plans);
      expect(await store.rooms.member(plans.id, 'u1')).toEqual(member(plans.id, 'u1', 'owner'));
      expect(await store.rooms.member(plans.id, 'u3')).toBeUndefined();
      const unknown = newRoomId();
      expect(await store.rooms.room(unknown)).toBeUndefined();
      expect(await store.rooms.member(unknown, 'u1')).toBeUndefined();
      expect(await store.rooms.members(unknown, 10)).toEqual([]);
    });

    it("removes every standing of a person who is gone, in public and private rooms, and no one else's", async () => {
      const plans = room();
      await store.rooms.createRoom(plans, [member(plans.id, 'u1', 'owner'), member(plans.id, 'u2')]);
      await store.rooms.putMember({ ...member('town', 'u2'), banned: true });
      await store.rooms.putMember({ ...member('town', 'u3'), muted: true });
      await store.rooms.removeStandingsOf('u2');
      expect(await store.rooms.member(plans.id, 'u2')).toBeUndefined();
      expect(await store.rooms.member('town', 'u2')).toBeUndefined();
      expect(await store.rooms.privateRoomsOf('u2', 10)).toEqual([]);
      expect(await store.rooms.member(plans.id, 'u1')).toEqual(member(plans.id, 'u1', 'owner'));
      expect(await store.rooms.member('town', 'u3')).toEqual({ ...member('town', 'u3'), muted: true });
    });

    it('puts, replaces, lists by name and removes standings', async () => {
      const plans = room();
      await store.rooms.createRoom(plans, [member(plans.id, 'u2', 'owner')]);
      await store.rooms.putMember({ ...member(plans.id, 'u1'), name: 'ana' });
      await store.rooms.putMember({ ...member(plans.id, 'u1'), name: 'ana', muted: true });
      await store.rooms.putMember({ ...member(plans.id, 'u3'), name: 'zed', banned: true });
      const names = (await store.rooms.members(plans.id, 10)).map((m) => m.name);
      expect(names).toEqual(['ana', 'name-u2', 'zed']);
      expect(await store.rooms.members(plans.id, 2)).toHaveLength(2);
      expect(await store.rooms.member(plans.id, 'u1')).toEqual({ ...member(plans.id, 'u1'), name: 'ana', muted: true });
      expect(await store.rooms.removeMember(plans.id, 'u1')).toBe(true);
      expect(await store.rooms.removeMember(plans.id, 'u1')).toBe(false);
      expect(await store.rooms.member(plans.id, 'u1')).toBeUndefined();
    });

    it("lists a person's private rooms, not their standings in public rooms", async () => {
      const [a, b] = [room('a'), room('b')];
      await store.rooms.createRoom(a, [member(a.id, 'u1', 'owner')]);
      await store.rooms.createRoom(b, [member(b.id, 'u1'), member(b.id, 'u2')]);
      await store.rooms.putMember(member('lobby', 'u1', 'owner'));
      const mine = await store.rooms.privateRoomsOf('u1', 10);
      expect(mine.map((m) => m.room).sort()).toEqual([a.id, b.id].sort());
      expect(await store.rooms.privateRoomsOf('u1', 1)).toHaveLength(1);
      expect((await store.rooms.privateRoomsOf('u2', 10)).map((m) => m.room)).toEqual([b.id]);
      expect(await store.rooms.privateRoomsOf('nobody', 10)).toEqual([]);
    });

    it("leaves out of a person's private rooms those they are banned from, also when bans come first", async () => {
      const rooms = ['a', 'b', 'c'].map(room);
      for (const each of rooms) await store.rooms.createRoom(each, [member(each.id, 'u1')]);
      const [first, second, third] = rooms.map((each) => each.id).sort();
      await store.rooms.putMember({ ...member(first ?? '', 'u1'), banned: true });
      await store.rooms.putMember({ ...member(second ?? '', 'u1'), banned: true });
      expect((await store.rooms.privateRoomsOf('u1', 1)).map((m) => m.room)).toEqual([third]);
      await store.rooms.putMember(member(first ?? '', 'u1'));
      expect((await store.rooms.privateRoomsOf('u1', 10)).map((m) => m.room)).toEqual([first, third]);
    });

    it('makes one DM per pair, even when both open it at once', async () => {
      const attempts = Array.from({ length: 6 }, () => {
        const id = newRoomId();
        return store.rooms.openDm({ id, title: '', createdAt: 1, dmKey: 'u1 u2', dmNames: ['ana', 'bo'] }, [member(id, 'u1'), member(id, 'u2')]);
      });
      const answers = await Promise.all(attempts);
      const created = answers.filter((answer) => answer.created);
      expect(created).toHaveLength(1);
      for (const answer of answers) expect(answer.room.id).toBe(created[0]?.room.id);
      const id = created[0]?.room.id ?? '';
      expect((await store.rooms.members(id, 10)).map((m) => m.userId).sort()).toEqual(['u1', 'u2']);
      const other = newRoomId();
      expect((await store.rooms.openDm({ id: other, title: '', createdAt: 1, dmKey: 'u1 u3', dmNames: ['ana', 'cy'] }, [])).created).toBe(true);
    });

    it('deletes a room with its standings and its DM key: the pair gets a new room next time', async () => {
      const id = newRoomId();
      await store.rooms.openDm({ id, title: '', createdAt: 1, dmKey: 'u1 u2', dmNames: ['ana', 'bo'] }, [member(id, 'u1'), member(id, 'u2')]);
      await store.rooms.deleteRoom(id);
      expect(await store.rooms.room(id)).toBeUndefined();
      expect(await store.rooms.member(id, 'u1')).toBeUndefined();
      expect(await store.rooms.privateRoomsOf('u2', 10)).toEqual([]);
      const again = newRoomId();
      const reopened = await store.rooms.openDm({ id: again, title: '', createdAt: 2, dmKey: 'u1 u2', dmNames: ['ana', 'bo'] }, [member(again, 'u1')]);
      expect(reopened).toMatchObject({ created: true, room: { id: again } });
    });

    it('keeps rooms and standings across a restart', async () => {
      const plans = room();
      await store.rooms.createRoom(plans, [member(plans.id, 'u1', 'owner')]);
      await store.rooms.putMember({ ...member('lobby', 'u2'), banned: true });
      await store.close();
      const again = await reopen(store);
      opened.push(again);
      expect(await again.rooms.room(plans.id)).toEqual(plans);
      expect(await again.rooms.member('lobby', 'u2')).toEqual({ ...member('lobby', 'u2'), banned: true });
    });

    it('fails with StoreUnavailableError once closed', async () => {
      await store.close();
      await expect(store.rooms.member('lobby', 'u1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.rooms.createRoom(room(), [])).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}
