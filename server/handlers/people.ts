// Who is in a room, over HTTP: for long-poll clients, which have no socket to receive `people` frames on,
// and their typing signal. A long-poll reader with a nickname counts as present while it keeps polling.
import { validate } from '../errors';
import type { PeopleState } from '../protocol';
import { peopleIn, signalTyping } from '../roomlog';
import { RoomName } from '../validation';
import { roomAccess } from '../rooms/access';
import type { HttpHandler } from './http';

/** GET /api/rooms/:room/people: who is in the room now. */
export const showPeople: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const session = await ctx.accounts.sessionOf(req);
  ctx.limits.takePresence(session?.nick, ctx.limits.clientIp(req));
  await roomAccess(ctx, session, room);
  if (session) ctx.presence.polled(room, session.nick);
  res.setHeader('Cache-Control', 'no-store');
  res.json(peopleIn(ctx, room) satisfies PeopleState);
};

/** POST /api/rooms/:room/typing: the session's nickname is typing in the room (204). */
export const typing: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  await signalTyping(ctx, { session: await ctx.accounts.sessionOf(req), ip: ctx.limits.clientIp(req) }, room);
  res.status(204).end();
};
