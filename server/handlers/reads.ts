// Where a signed-in person stopped reading: moved on as they read, listed for the sidebar of every device.
import { forgetRead, markRead, readMarkersOf } from '../accounts/read-markers';
import { validate } from '../errors';
import type { ReadMarkersResponse, RoomRead } from '../protocol';
import { ReadRequest, RoomName } from '../validation';
import { roomAccess } from '../rooms/access';
import type { HttpHandler } from './http';

/** PUT /api/rooms/:room/read: the account has read the room up to `seq`; answers the marker as kept. */
export const moveReadMarker: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const { seq, epoch } = validate(ReadRequest, req.body);
  const session = await ctx.accounts.sessionOf(req);
  // The marker answered is cut to the room's head: only a reader of the room may learn it.
  await roomAccess(ctx, session, room);
  res.json((await markRead(ctx, session, room, seq, epoch)) satisfies RoomRead);
};

/** GET /api/reads: the account's read markers, the most recently moved first (none for a guest). */
export const listReadMarkers: HttpHandler = async (ctx, req, res) => {
  res.setHeader('Cache-Control', 'no-store');
  res.json({ markers: await readMarkersOf(ctx, await ctx.accounts.sessionOf(req)) } satisfies ReadMarkersResponse);
};

/** DELETE /api/rooms/:room/read: forgets the account's marker in the room (204): it is off the list everywhere. */
export const removeReadMarker: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  await forgetRead(ctx, await ctx.accounts.sessionOf(req), room);
  res.status(204).end();
};
