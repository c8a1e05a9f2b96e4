// Long-poll, for clients whose WebSocket cannot get through. The cursor travels in the request, so
// any instance can answer it and a lost answer loses nothing: the client asks again from the same seq.
//
// This is the hot path of a long-poll room (every message wakes every waiter, and each asks again), so it
// runs on node's own request and response, ahead of express (see urls.ts `fastRoutes`): express's router
// and response helpers doubled the cost of each round trip in `npm run bench`.
import { validate } from '../errors';
import type { Waiter } from '../hub';
import { clientIp } from '../limits';
import type { WaitResponse } from '../protocol';
import { readFromCursor, readLatest } from '../roomlog';
import { WaitQuery } from '../validation';
import { sendJson, type FastHandler } from './http';

/**
 * GET /wait?room=R&after=N&epoch=E: answers at once with what follows N (or a reset), else holds until
 * the next message arrives or WAIT_TIMEOUT_MS pass, then answers with no messages.
 */
export const waitForMessages: FastHandler = async (ctx, req, res, query) => {
  const { room, after, epoch } = validate(WaitQuery, {
    room: query.get('room') ?? undefined,
    after: query.get('after') ?? undefined,
    epoch: query.get('epoch') ?? undefined,
  });
  res.setHeader('Cache-Control', 'no-store');
  // A long-poll reader with a nickname is present in the room while it keeps asking.
  if (req.headers.cookie) {
    const session = ctx.sessions.fromCookieHeader(req.headers.cookie);
    if (session) ctx.presence.polled(room, session.nick);
  }
  const reply = (body: WaitResponse) => sendJson(res, 200, body);
  if (after === undefined) {
    const { messages, hasOlder } = await readLatest(ctx, room);
    ctx.metrics.delivered('longpoll', messages.length);
    reply({ type: 'messages', room, epoch: ctx.store.epoch, messages, hasOlder });
    return;
  }

  // A held request is a connection kept open: MAX_LONGPOLLS_PER_IP bounds them (429 rate_limited past it).
  const release = ctx.limits.holdLongPoll(clientIp(req));
  // Wait first, read second: a message stored while we read still wakes us, so none slips between the two.
  let answered = false;
  const finish = (send: () => void) => {
    if (answered) return;
    answered = true;
    release();
    ctx.hub.removeWaiter(waiter);
    send();
  };
  const waiter: Waiter = {
    room,
    after,
    deadline: Date.now() + ctx.config.waitTimeoutMs,
    answer: (body: Buffer | undefined) =>
      finish(() => (body ? sendJson(res, 200, body) : reply({ type: 'messages', room, epoch: ctx.store.epoch, messages: [] }))),
  };
  ctx.hub.addWaiter(waiter);
  res.on('close', () => finish(() => undefined));

  try {
    const read = await readFromCursor(ctx, room, after, epoch);
    if (read.kind === 'reset') {
      finish(() => reply({ type: 'reset', room, epoch: ctx.store.epoch, reason: read.reason }));
    } else if (read.messages.length > 0) {
      ctx.metrics.delivered('longpoll', read.messages.length);
      finish(() => reply({ type: 'messages', room, epoch: ctx.store.epoch, messages: read.messages }));
    }
  } catch (error) {
    if (answered) return;
    finish(() => undefined); // the error answer is the caller's
    throw error;
  }
};
