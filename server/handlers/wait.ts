// Long-poll, for clients whose WebSocket cannot get through. The cursor travels in the request, so
// any instance can answer it and a lost answer loses nothing: the client asks again from the same seq.
//
// This is the hot path of a long-poll room (every message wakes every waiter, and each asks again), so it
// runs on node's own request and response, ahead of express (see urls.ts `fastRoutes`): express's router
// and response helpers doubled the cost of each round trip in `npm run bench`.
import type { ServerResponse } from 'node:http';
import type { Session, SessionBound } from '../accounts/accounts';
import type { AppContext } from '../context';
import { ApiError, errorBody, validate } from '../errors';
import type { Waiter } from '../hub';
import { ErrorCode, type AccessEndedReason, type WaitResponse } from '../protocol';
import { roomAccess } from '../rooms/access';
import type { RoomReader } from '../rooms/rooms';
import { fromAnotherEpoch, readFromCursor, readLatest } from '../roomlog';
import { WaitQuery, wellFormedWaitQuery } from '../validation';
import { inReadTurn, sendJson, type FastHandler, type HeaderList } from './http';

/**
 * GET /wait?room=R&after=N&epoch=E: answers at once with what follows N, as much as fits in
 * MAX_BUFFERED_BYTES (the client asks again for the rest), or a reset; else holds until the next message
 * arrives or WAIT_TIMEOUT_MS pass, then answers with no messages.
 */
export const waitForMessages: FastHandler = async (ctx, req, res, query, headers) => {
  const values = { room: query.get('room') ?? undefined, after: query.get('after') ?? undefined, epoch: query.get('epoch') ?? undefined };
  const { room, after, epoch } = wellFormedWaitQuery(values) ?? validate(WaitQuery, values);
  // A long-poll reader with a session is present in the room while it keeps asking.
  const session = req.headers.cookie ? await ctx.accounts.sessionOf(req) : undefined;
  // Who may read is asked first: a private room one may not read is "not found", like one that does not exist.
  await roomAccess(ctx, session, room);
  if (session) ctx.presence.polled(room, session.nick);
  if (after === undefined) {
    await inReadTurn(ctx, req, res, async () => {
      const { messages, hasOlder } = await readLatest(ctx, room, ctx.config.maxBufferedBytes);
      ctx.metrics.delivered('longpoll', messages.length);
      sendJson(res, 200, { type: 'messages', room, epoch: ctx.store.epoch, messages, hasOlder } satisfies WaitResponse, headers);
    });
    return;
  }

  // Asking again just behind what was last published (the usual re-poll of a busy room): the hub has it,
  // unless it holds it back for the room's next answer (LONGPOLL_BATCH_MS), which this request then waits for.
  const sameEpoch = !fromAnotherEpoch(ctx.store, after, epoch);
  const answersSoon = sameEpoch && ctx.hub.answersSoon(room, after);
  if (sameEpoch && !answersSoon) {
    const latest = ctx.hub.latestAfter(room, after);
    if (latest) {
      ctx.metrics.delivered('longpoll', latest.count);
      sendJson(res, 200, latest.body, headers);
      return;
    }
  }

  // A held request is a connection kept open: MAX_LONGPOLLS_PER_IP bounds them (429 rate_limited past it).
  const held = new HeldWait(ctx, res, headers, room, after, ctx.limits.clientIp(req), session);
  // Wait first, read second: a message stored while we read still wakes us, so none slips between the two.
  ctx.hub.addWaiter(held);
  res.on('close', () => held.end());
  // Asking again with all the hub last published (the other usual re-poll), or within what it holds back:
  // nothing to read, just wait.
  if (answersSoon || (sameEpoch && ctx.hub.caughtUp(room, after))) return;
  // Answered by the hub, or gone, while it waited for its turn: nothing to read.
  await inReadTurn(ctx, req, res, async () => {
    try {
      const read = await readFromCursor(ctx, room, after, epoch, ctx.config.maxBufferedBytes);
      if (read.kind === 'reset') {
        held.reply({ type: 'reset', room, epoch: ctx.store.epoch, reason: read.reason });
      } else if (read.messages.length > 0) {
        ctx.metrics.delivered('longpoll', read.messages.length);
        held.reply({ type: 'messages', room, epoch: ctx.store.epoch, messages: read.messages });
      }
    } catch (error) {
      if (!held.end()) return;
      throw error; // the error answer is the caller's
    }
  });
};

/**
 * A /wait request held until it is answered, once: by the hub (a message arrived), by the deadline sweep,
 * by its own read of the store, by its session's end (401), by its person's loss of the room (access_ended),
 * or not at all when its client goes away. One
 * object per held request, rather than a closure for each of those, since 10,000 of them may wait at once.
 */
class HeldWait implements Waiter, SessionBound, RoomReader {
  readonly deadline: number;
  private answered = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly res: ServerResponse,
    private readonly headers: HeaderList,
    readonly room: string,
    readonly after: number,
    private readonly ip: string,
    /** The reader's session, if it has one: signing out answers the held request. */
    private readonly session: Session | undefined,
  ) {
    ctx.limits.holdLongPoll(ip);
    this.deadline = Date.now() + ctx.config.waitTimeoutMs;
    if (session) {
      ctx.accounts.attach(session, this);
      ctx.rooms.watch(room, session.userId, this);
    }
  }

  /** Its person can no longer read the room (left, removed, banned): the client learns it now. */
  accessEnded(room: string, reason: AccessEndedReason): void {
    this.reply({ type: 'access_ended', room, epoch: this.ctx.store.epoch, reason });
  }

  /** Signed out or revoked: the client learns it now, not at its next request. */
  sessionEnded(): void {
    const error = new ApiError(ErrorCode.unauthenticated, 'this session has ended (signed out): sign in again');
    if (this.end()) sendJson(this.res, error.status, errorBody(error), this.headers);
  }

  /** The hub's answer: the /wait body of what arrived, or undefined for an empty answer. */
  answer(body: Buffer | undefined): void {
    this.reply(body ?? { type: 'messages', room: this.room, epoch: this.ctx.store.epoch, messages: [] });
  }

  reply(body: WaitResponse | Buffer): void {
    if (this.end()) sendJson(this.res, 200, body, this.headers);
  }

  /** Stops waiting and gives the slot back; false if it had already ended. */
  end(): boolean {
    if (this.answered) return false;
    this.answered = true;
    this.ctx.limits.longPollEnded(this.ip);
    this.ctx.hub.removeWaiter(this);
    if (this.session) {
      this.ctx.accounts.detach(this.session, this);
      this.ctx.rooms.unwatch(this.room, this.session.userId, this);
    }
    return true;
  }
}
