// What the page knows of one room's log: messages by seq, once each, in order, however they arrived
// (replay, live, long-poll, history page, or a second copy after a transport switch).
//
// The cursor moves only with what the room's stream delivers in order (docs/protocol.md, cursor rule 4).
// A message of ours that the server acked but the stream has not brought yet is shown, in its place by seq,
// without moving the cursor: an ack for seq 42 says nothing of seq 41, which may still be on its way.
//
// The log holds change entries too (edits, deletes, reactions): they move the cursor like any entry, but
// only messages are shown, each as it now stands. A page from the server has its messages current already;
// a change that arrives after applies to its target if the target is here (applyChange skips one the
// target reflects), and otherwise waits for the target's page, which has it applied unless the page was read
// before the change was stored: then it applies once the page is in.
import { applyChange } from '../../server/changes/apply';
import type { ChatMessage } from '../../server/protocol';

/** Changes to messages not loaded yet that are kept for when their page loads. */
const UNPLACED_CHANGES = 500;

export class RoomView {
  /** The log as the stream delivered it: consecutive seqs, oldest first (older pages prepended). */
  private log: ChatMessage[] = [];
  /** Our own messages acked past the cursor, by seq, until the stream delivers them. */
  private readonly ackedAhead = new Map<number, ChatMessage>();
  private shown: readonly ChatMessage[] = [];
  private shownBySeq = new Map<number, ChatMessage>();
  /**
   * Each message of the log as it now stands, by seq, with the changes the stream delivered: our acked
   * changes ahead of the cursor are laid over it when shown, never kept, since a change the stream has not
   * brought yet may be preceded by others.
   */
  private readonly current = new Map<number, ChatMessage>();
  /** The latest changes whose target is not here (in an older page), oldest first; at most UNPLACED_CHANGES. */
  private unplaced: ChatMessage[] = [];
  private position: number | undefined;
  /** Whether the log holds messages older than the first one here. */
  hasOlder = false;
  /** The epoch of the log these messages came from. */
  epoch: string | undefined;

  constructor(readonly room: string) {}

  /** What to show: the log's messages as they now stand, then ours acked that the stream has not brought yet. */
  get messages(): readonly ChatMessage[] {
    return this.shown;
  }

  /** The message `seq` as shown, if it is here. */
  message(seq: number): ChatMessage | undefined {
    return this.shownBySeq.get(seq);
  }

  /** The last seq the stream delivered: where a reader resumes from. Undefined before the first answer. */
  get cursor(): number | undefined {
    return this.position;
  }

  /** Starts over from the room's latest page (first load, or after a reset): the cursor is its last seq. */
  replace(messages: readonly ChatMessage[], hasOlder: boolean, epoch: string): void {
    if (epoch !== this.epoch) this.ackedAhead.clear();
    const page = messages.filter((message) => message.room === this.room).sort((a, b) => a.seq - b.seq);
    this.log = page;
    this.current.clear();
    this.unplaced = [];
    for (const entry of page) this.hold(entry);
    this.position = page.at(-1)?.seq ?? 0;
    this.hasOlder = hasOlder;
    this.epoch = epoch;
    this.settleAcked();
    this.refresh();
  }

  /** Forgets everything: the server refused our cursor and a fresh page follows. */
  clear(): void {
    this.log = [];
    this.ackedAhead.clear();
    this.current.clear();
    this.unplaced = [];
    this.position = undefined;
    this.hasOlder = false;
    this.refresh();
  }

  /**
   * Takes messages from the room's stream (replay, live, long-poll): those right after the cursor move it,
   * repeats are dropped. Returns how many were new, and whether one would have left a hole (then the caller
   * asks again from the cursor, and nothing after the hole is taken).
   */
  take(messages: readonly ChatMessage[]): { added: number; gap: boolean } {
    let added = 0;
    let gap = false;
    for (const message of messages) {
      if (message.room !== this.room || this.position === undefined || message.seq <= this.position) continue;
      if (message.seq !== this.position + 1) {
        gap = true;
        break;
      }
      this.log.push(message);
      this.position = message.seq;
      this.ackedAhead.delete(message.seq);
      this.hold(message);
      added++;
    }
    if (added > 0) this.refresh();
    return { added, gap };
  }

  /**
   * The server acked one of our messages: shown from now on, in its place by seq, but the cursor stays
   * where the stream left it. Returns whether it is new to the page.
   */
  acked(message: ChatMessage): boolean {
    if (message.room !== this.room || this.position === undefined || message.seq <= this.position) return false;
    if (this.ackedAhead.has(message.seq)) return false;
    this.ackedAhead.set(message.seq, message);
    this.refresh();
    return true;
  }

  /** Adds an older page (scroll-back): only what comes before the first message held. */
  prepend(messages: readonly ChatMessage[], hasOlder: boolean): void {
    const first = this.log[0]?.seq ?? Number.POSITIVE_INFINITY;
    const older = messages.filter((message) => message.room === this.room && message.seq < first).sort((a, b) => a.seq - b.seq);
    if (older.length > 0) this.log = [...older, ...this.log];
    for (const entry of older) if (!entry.change) this.current.set(entry.seq, entry);
    const waiting = this.unplaced;
    this.unplaced = [];
    for (const change of waiting) this.hold(change);
    this.hasOlder = hasOlder;
    this.refresh();
  }

  /** Acked messages that a new page already covers are in the log now. */
  private settleAcked(): void {
    for (const seq of this.ackedAhead.keys()) if (this.position !== undefined && seq <= this.position) this.ackedAhead.delete(seq);
  }

  /** Takes in an entry that is newer than what is here: a message as it stands, or a change to apply. */
  private hold(entry: ChatMessage): void {
    if (!entry.change) {
      if (!this.current.has(entry.seq)) this.current.set(entry.seq, entry);
      return;
    }
    const target = this.current.get(entry.change.target);
    if (target) this.current.set(target.seq, applyChange(target, entry));
    else if (entry.change.target < (this.log[0]?.seq ?? 0)) this.unplaced = [...this.unplaced, entry].slice(-UNPLACED_CHANGES);
  }

  private refresh(): void {
    const acked = [...this.ackedAhead.values()].sort((a, b) => a.seq - b.seq);
    const shown = new Map<number, ChatMessage>();
    for (const entry of [...this.log, ...acked]) if (!entry.change) shown.set(entry.seq, this.current.get(entry.seq) ?? entry);
    for (const entry of acked) {
      const target = entry.change && shown.get(entry.change.target);
      if (target) shown.set(target.seq, applyChange(target, entry));
    }
    this.shownBySeq = shown;
    this.shown = [...shown.values()];
  }
}
