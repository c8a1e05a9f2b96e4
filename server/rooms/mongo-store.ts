// The rooms part of the MongoDB store: collections `rooms` (private rooms, with a unique index on a DM's key,
// so that two instances opening one DM at once make one room) and `members` (a standing per room and person,
// keyed by both, and indexed by person for the sidebar).
import { MongoServerError, type Collection, type CollectionOptions, type Db } from 'mongodb';
import { mongoOperation } from '../store/guarded';
import type { MemberRecord, RoomRecord, RoomStore } from './store';

const DUPLICATE_KEY = 11000;

type RoomDocument = Omit<RoomRecord, 'id'> & { _id: string };
type MemberDocument = MemberRecord & { _id: { room: string; userId: string } };

/** Creates the collections' indexes (idempotent): called when the store opens. */
export async function createRoomIndexes(db: Db): Promise<void> {
  await db
    .collection<RoomDocument>('rooms')
    .createIndexes([{ key: { dmKey: 1 }, unique: true, name: 'dmKey', partialFilterExpression: { dmKey: { $exists: true } } }]);
  await db.collection<MemberDocument>('members').createIndexes([
    { key: { room: 1, name: 1 }, name: 'room_name' },
    { key: { userId: 1, room: 1 }, name: 'userId_room' },
  ]);
}

export class MongoRoomStore implements RoomStore {
  readonly roomDocs: Collection<RoomDocument>;
  readonly standings: Collection<MemberDocument>;

  constructor(
    db: Db,
    /** The log's options (majority reads from the primary, majority writes): a member just invited can read at once, everywhere. */
    logOptions: CollectionOptions,
    private readonly isClosed: () => boolean,
  ) {
    this.roomDocs = db.collection<RoomDocument>('rooms', logOptions);
    this.standings = db.collection<MemberDocument>('members', logOptions);
  }

  async createRoom(room: RoomRecord, members: readonly MemberRecord[]): Promise<void> {
    await this.guard(async () => {
      await this.roomDocs.insertOne(toRoomDocument(room));
      await this.insertMembers(members);
    });
  }

  openDm(room: RoomRecord & { dmKey: string }, members: readonly MemberRecord[]): Promise<{ room: RoomRecord; created: boolean }> {
    return this.guard(async () => {
      try {
        await this.roomDocs.insertOne(toRoomDocument(room));
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error;
        // Opened by someone else first, maybe not yet on a majority: the primary's own copy has it.
        const found = await this.roomDocs.findOne({ dmKey: room.dmKey }, { readConcern: { level: 'local' } });
        if (!found) throw new Error(`the DM ${room.dmKey} exists but cannot be read`);
        return { room: fromRoomDocument(found), created: false };
      }
      await this.insertMembers(members);
      return { room, created: true };
    });
  }

  room(id: string): Promise<RoomRecord | undefined> {
    return this.guard(async () => {
      const found = await this.roomDocs.findOne({ _id: id });
      return found ? fromRoomDocument(found) : undefined;
    });
  }

  async deleteRoom(id: string): Promise<void> {
    await this.guard(async () => {
      // Standings first: a room record left behind by a failure here is removed by the next try.
      await this.standings.deleteMany({ room: id });
      await this.roomDocs.deleteOne({ _id: id });
    });
  }

  member(room: string, userId: string): Promise<MemberRecord | undefined> {
    return this.guard(async () => {
      const found = await this.standings.findOne({ _id: { room, userId } });
      return found ? fromMemberDocument(found) : undefined;
    });
  }

  async putMember(member: MemberRecord): Promise<void> {
    await this.guard(() => this.standings.replaceOne({ _id: { room: member.room, userId: member.userId } }, member, { upsert: true }));
  }

  removeMember(room: string, userId: string): Promise<boolean> {
    return this.guard(async () => (await this.standings.deleteOne({ _id: { room, userId } })).deletedCount === 1);
  }

  members(room: string, limit: number): Promise<MemberRecord[]> {
    return this.guard(async () => (await this.standings.find({ room }).sort({ name: 1 }).limit(limit).toArray()).map(fromMemberDocument));
  }

  async removeStandingsOf(userId: string): Promise<void> {
    await this.guard(() => this.standings.deleteMany({ userId }));
  }

  privateRoomsOf(userId: string, limit: number): Promise<MemberRecord[]> {
    return this.guard(async () =>
      (await this.standings.find({ userId, room: { $gte: '~', $lt: '~\uffff' }, banned: { $ne: true } }).sort({ room: 1 }).limit(limit).toArray()).map(fromMemberDocument),
    );
  }

  private async insertMembers(members: readonly MemberRecord[]): Promise<void> {
    if (members.length > 0) await this.standings.insertMany(members.map((member) => ({ _id: { room: member.room, userId: member.userId }, ...member })));
  }

  private guard<T>(operation: () => Promise<T>): Promise<T> {
    return mongoOperation(this.isClosed, operation);
  }
}

function toRoomDocument({ id, ...room }: RoomRecord): RoomDocument {
  return { _id: id, ...room };
}

function fromRoomDocument({ _id, ...room }: RoomDocument): RoomRecord {
  return { id: _id, ...room };
}

function fromMemberDocument({ _id: _key, ...member }: MemberDocument): MemberRecord {
  return member;
}
