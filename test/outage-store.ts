// A real store behind a switch: while `down`, every operation fails as an unreachable MongoDB or a
// failing disk would, with StoreUnavailableError. It wraps our MessageStore interface, not a driver.
import type { ChatMessage } from '../server/protocol';
import { StoreUnavailableError, type AppendListener, type AppendResult, type FeedGapListener, type NewMessage, type Store } from '../server/store/store';

export class OutageStore implements Store {
  down = false;
  constructor(private readonly inner: Store) {}

  /** Accounts and sessions stay up: the outage is of the messages' part. */
  get accounts() {
    return this.inner.accounts;
  }
  get rooms() {
    return this.inner.rooms;
  }
  get files() {
    return this.inner.files;
  }

  get search() {
    return this.inner.search;
  }
  get kind() {
    return this.inner.kind;
  }
  get epoch() {
    return this.inner.epoch;
  }
  append(message: NewMessage): Promise<AppendResult> {
    return this.whenUp(() => this.inner.append(message));
  }
  readAfter(room: string, after: number, limit: number): Promise<ChatMessage[]> {
    return this.whenUp(() => this.inner.readAfter(room, after, limit));
  }
  readBefore(room: string, before: number | undefined, limit: number): Promise<ChatMessage[]> {
    return this.whenUp(() => this.inner.readBefore(room, before, limit));
  }
  byClientId(room: string, clientId: string): Promise<ChatMessage | undefined> {
    return this.whenUp(() => this.inner.byClientId(room, clientId));
  }
  head(room: string): Promise<number> {
    return this.whenUp(() => this.inner.head(room));
  }
  removeRoomLog(room: string): Promise<number> {
    return this.whenUp(() => this.inner.removeRoomLog(room));
  }
  privateRoomsWithLogs(after: string | undefined, limit: number): Promise<string[]> {
    return this.whenUp(() => this.inner.privateRoomsWithLogs(after, limit));
  }
  ping(): Promise<void> {
    return this.whenUp(() => this.inner.ping());
  }
  onAppend(listener: AppendListener): () => void {
    return this.inner.onAppend(listener);
  }
  onFeedGap(listener: FeedGapListener): () => void {
    return this.inner.onFeedGap(listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  private async whenUp<T>(operation: () => Promise<T>): Promise<T> {
    if (this.down) throw new StoreUnavailableError('the store is down (simulated outage)');
    return operation();
  }
}
