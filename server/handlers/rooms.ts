// Private rooms, direct messages and moderation over HTTP: the signed-in person's rooms, a new room, a DM,
// a room's description and members, invitations, leaving, and a moderator's actions. The rules are the
// rooms domain's (server/rooms/); these only parse and answer.
import { validate } from '../errors';
import type { MemberListResponse, ModerationResult, RoomInfo, RoomListResponse, RoomMember } from '../protocol';
import { CreateRoomRequest, ModerationRequest, RoomName, UsernameRequest } from '../validation';
import type { HttpHandler } from './http';

/** GET /api/rooms: the person's private rooms and direct messages (none for a guest, or nobody). */
export const listRooms: HttpHandler = async (ctx, req, res) => {
  const rooms = await ctx.rooms.list(await ctx.accounts.sessionOf(req));
  res.setHeader('Cache-Control', 'no-store');
  res.json({ rooms } satisfies RoomListResponse);
};

/** POST /api/rooms: a new private room, owned by its creator (201). */
export const createRoom: HttpHandler = async (ctx, req, res) => {
  const { title } = validate(CreateRoomRequest, req.body);
  const info = await ctx.rooms.create(await ctx.accounts.sessionOf(req), title);
  res.status(201).json(info satisfies RoomInfo);
};

/** POST /api/dms: the direct message with `username`: 201 when it is new, 200 when it was there. */
export const openDm: HttpHandler = async (ctx, req, res) => {
  const { username } = validate(UsernameRequest, req.body);
  const { info, created } = await ctx.rooms.openDm(await ctx.accounts.sessionOf(req), username);
  res.status(created ? 201 : 200).json(info satisfies RoomInfo);
};

/** GET /api/rooms/:room: what the room is and what the person may do in it. */
export const showRoom: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const info = await ctx.rooms.info(await ctx.accounts.sessionOf(req), room);
  res.setHeader('Cache-Control', 'no-store');
  res.json(info satisfies RoomInfo);
};

/** GET /api/rooms/:room/members */
export const listMembers: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const members = await ctx.rooms.members(await ctx.accounts.sessionOf(req), room);
  res.setHeader('Cache-Control', 'no-store');
  res.json({ room, members } satisfies MemberListResponse);
};

/** POST /api/rooms/:room/members: invites an account to a private room (201). */
export const inviteMember: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const { username } = validate(UsernameRequest, req.body);
  const member = await ctx.rooms.invite(await ctx.accounts.sessionOf(req), room, username);
  res.status(201).json(member satisfies RoomMember);
};

/** DELETE /api/rooms/:room/members/me: leaves a private room (204). */
export const leaveRoom: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  await ctx.rooms.leave(await ctx.accounts.sessionOf(req), room);
  res.status(204).end();
};

/** POST /api/rooms/:room/moderation: mute, unmute, ban, unban, promote, demote or remove a person. */
export const moderate: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const { username, action } = validate(ModerationRequest, req.body);
  const result = await ctx.rooms.moderate(await ctx.accounts.sessionOf(req), room, username, action);
  res.json(result satisfies ModerationResult);
};
