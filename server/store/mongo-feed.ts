// The MongoDB store's feed as a state machine: the change stream's events go in, the messages to hand to
// the hub come out, and each way the stream can end (an error, a dropped collection, a lost position)
// maps to one way to go on. The store does the I/O; every decision is here, tested with the driver's own
// events and errors.
import { MongoError, MongoNetworkError, MongoServerError, MongoServerSelectionError, type ChangeStreamDocument, type ObjectId, type Timestamp } from 'mongodb';
import type { ChatMessage } from '../protocol';
import { describeError } from './mongo-errors';
import { RecentMap } from './recent-map';

/** The stream's position is gone (the oplog moved past it, or it names a collection that no longer exists). */
const POSITION_LOST = new Set([
  136, // CappedPositionLost
  260, // InvalidResumeToken
  280, // ChangeStreamFatalError
  286, // ChangeStreamHistoryLost
]);
/** The user may not watch: retrying soon will not help, an operator has to grant the right. */
const NOT_ALLOWED = new Set([13, 18]); // Unauthorized, AuthenticationFailed
const NOT_ALLOWED_RETRY_MS = 30_000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 10_000;
/** How many rooms' last handed-on seq are remembered; a forgotten room's replayed event reaches the hub, which drops what a reader holds. */
export const HANDED_ON_ROOMS = 10_000;

/**
 * A stored message. New ones have `_id` {room, seq}: the unique index every collection has makes the seq
 * unique even in a `messages` collection MongoDB re-created without Parley's indexes (after a wipe).
 * Older ones keep their ObjectId, and room_seq keeps them unique. Every read projects `_id` away.
 */
export type MessageDocument = ChatMessage & { _id?: { room: string; seq: number } | ObjectId };

/**
 * How to go on after the stream ended:
 * - `resume`: reopen after the last position seen (at the epoch's start when there is none), once
 *   `delayMs` have passed; nothing is missed.
 * - `restart`: the position is lost: reopen from now and have every reader read what it may have missed
 *   from the store (a gap in the feed).
 */
export interface FeedRecovery {
  action: 'resume' | 'restart';
  delayMs: number;
  /** Why the stream ended, for the log and for /readyz. */
  reason: string;
}

/** What a batch of change events means: messages to hand on, and whether the log the stream follows went away. */
export interface FeedStep {
  messages: ChatMessage[];
  /** Set when the current epoch's `messages` (or its database) was dropped or renamed: the store must set the log up again. */
  wiped?: string;
  /**
   * Set when the stream reached the end of a log the current epoch already replaced (an append or a health
   * check found the wipe first): no new epoch; the stream reopens at the current one's start.
   */
  outlived?: string;
}

export class ChangeFeedState {
  /** The last seq handed on per room: an event replayed by a reopened stream is not handed on twice. */
  private readonly handedOn = new RecentMap<string, number>(HANDED_ON_ROOMS);
  /** The cluster time the current epoch was set up at (see beginEpoch); undefined without cluster times (a standalone). */
  private started: Timestamp | undefined;
  /** Failures since the stream last opened: the retry delay doubles with each. */
  private failures = 0;
  private notLive: string | undefined = 'the change stream has not opened yet';

  /** Whether the feed delivers what is stored now. */
  get live(): boolean {
    return this.notLive === undefined;
  }

  /** Why the feed is not live (undefined while it is). */
  get reason(): string | undefined {
    return this.notLive;
  }

  /** The stream answered: it is live again. */
  opened(): void {
    this.notLive = undefined;
    this.failures = 0;
  }

  /** Where the stream starts when it has no position: the cluster time the current epoch was set up at. */
  get epochStart(): Timestamp | undefined {
    return this.started;
  }

  /**
   * The store set the log up (at start, or again after a wipe) and read its epoch at cluster time `at`.
   * Seqs may start again from 1, so nothing handed on before counts. An event from before `at` is of an
   * older log, or already in what readers of this epoch read from the store (every one of them starts
   * with a read after `at`): it is not handed on, and its end is not a wipe of this epoch.
   */
  beginEpoch(at: Timestamp | undefined): void {
    this.started = at;
    this.handedOn.clear();
  }

  /** The events of one batch of the stream, in order. */
  received(events: readonly ChangeStreamDocument<MessageDocument>[]): FeedStep {
    const messages: ChatMessage[] = [];
    for (const event of events) {
      const ofOlderLog = this.beforeEpoch(event);
      switch (event.operationType) {
        case 'insert': {
          const { _id, ...message } = event.fullDocument;
          if (!ofOlderLog && message.seq > (this.handedOn.get(message.room) ?? 0)) {
            this.handedOn.set(message.room, message.seq);
            messages.push(message);
          }
          break;
        }
        case 'drop':
        case 'rename':
        case 'dropDatabase':
        case 'invalidate': {
          const what = `the messages collection saw a ${event.operationType}`;
          return ofOlderLog ? { messages, outlived: `${what} of a log the current epoch replaced` } : { messages, wiped: what };
        }
        default:
          break;
      }
    }
    return { messages };
  }

  /** The stream failed with `error` (after the driver's own resume attempt, when the error allowed one). */
  failed(error: unknown): FeedRecovery {
    this.failures++;
    const code = error instanceof MongoError ? error.code : undefined;
    if (error instanceof MongoServerError && typeof code === 'number' && POSITION_LOST.has(code)) {
      return this.ended('restart', this.failures > 1 ? this.backoff() : 0, `the change stream lost its position (${describeError(error)})`);
    }
    if (error instanceof MongoServerError && typeof code === 'number' && NOT_ALLOWED.has(code)) {
      return this.ended('resume', NOT_ALLOWED_RETRY_MS, `the user may not watch the messages collection (${describeError(error)})`);
    }
    const unreachable = error instanceof MongoNetworkError || error instanceof MongoServerSelectionError;
    const why = unreachable ? 'MongoDB is unreachable' : 'the change stream failed';
    return this.ended('resume', this.backoff(), `${why} (${describeError(error)})`);
  }

  /** The server closed the stream without an error. */
  closed(): FeedRecovery {
    this.failures++;
    return this.ended('resume', this.backoff(), 'the server closed the change stream');
  }

  /**
   * Whether `event` happened before the current epoch was set up. A wipe comes before the collection
   * that replaces it, and that before the epoch read that names it: every event of a replaced log is
   * before the epoch's start, and the events at its start are of its own log.
   */
  private beforeEpoch(event: ChangeStreamDocument<MessageDocument>): boolean {
    return event.clusterTime !== undefined && this.started !== undefined && event.clusterTime.lessThan(this.started);
  }

  private ended(action: FeedRecovery['action'], delayMs: number, reason: string): FeedRecovery {
    this.notLive = reason;
    return { action, delayMs, reason };
  }

  private backoff(): number {
    return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.failures - 1));
  }
}
