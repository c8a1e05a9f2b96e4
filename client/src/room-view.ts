// What the page knows of one room's log: messages by seq, once each, in order, however they arrived
// (replay, live, long-poll, history page, or a second copy after a transport switch).
import type { ChatMessage } from '../../server/protocol';

export class RoomView {
  private bySeq = new Map<number, ChatMessage>();
  private ordered: ChatMessage[] = [];
  /** Whether the log holds messages older than the first one here. */
  hasOlder = false;
  /** The epoch of the log these messages came from. */
  epoch: string | undefined;

  constructor(readonly room: string) {}

  get messages(): readonly ChatMessage[] {
    return this.ordered;
  }

  /** The last seq seen: where a reader resumes from. Undefined before the first answer. */
  get cursor(): number | undefined {
    return this.loaded ? (this.ordered.at(-1)?.seq ?? 0) : undefined;
  }

  private loaded = false;

  /** Starts over from a fresh page (first load, or after a reset). */
  replace(messages: readonly ChatMessage[], hasOlder: boolean, epoch: string): void {
    this.bySeq.clear();
    this.ordered = [];
    this.loaded = true;
    this.hasOlder = hasOlder;
    this.epoch = epoch;
    this.merge(messages);
  }

  /** Forgets everything: the server refused our cursor and a fresh page follows. */
  clear(): void {
    this.bySeq.clear();
    this.ordered = [];
    this.loaded = false;
    this.hasOlder = false;
  }

  /** Adds messages not yet seen; returns how many were new. */
  merge(messages: readonly ChatMessage[]): number {
    let added = 0;
    for (const message of messages) {
      if (message.room !== this.room || this.bySeq.has(message.seq)) continue;
      this.bySeq.set(message.seq, message);
      added++;
    }
    if (added > 0) this.ordered = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    return added;
  }

  /** Adds an older page (scroll-back). */
  prepend(messages: readonly ChatMessage[], hasOlder: boolean): void {
    this.merge(messages);
    this.hasOlder = hasOlder;
  }

  /** Whether a live message would leave a hole after what we hold (then resubscribe from the cursor). */
  wouldLeaveGap(message: ChatMessage): boolean {
    const cursor = this.cursor;
    return cursor !== undefined && message.seq > cursor + 1;
  }
}
