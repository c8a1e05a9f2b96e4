// Sending over plain HTTP (the long-poll client's way to send) and reading a page of history.
import { validate } from '../errors';
import type { HistoryResponse, SendResponse } from '../protocol';
import { HistoryQuery, RoomName, SendRequest } from '../validation';
import { appendMessage, readBefore } from '../roomlog';
import { roomAccess } from '../rooms/access';
import { inReadTurn, type HttpHandler } from './http';

/** POST /api/rooms/:room/messages: stores the message; 201 when new, 200 when it is a resend of one stored. */
export const sendMessage: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const { clientId, text, files, replyTo, change } = validate(SendRequest, req.body);
  const session = await ctx.accounts.sessionOf(req);
  const { message, duplicate } = await appendMessage(ctx, { session, ip: ctx.limits.clientIp(req) }, room, clientId, text ?? '', { files, replyTo, change });
  res.status(duplicate ? 200 : 201).json({ message, duplicate } satisfies SendResponse);
};

/**
 * GET /api/rooms/:room/messages?before=N&limit=L: the page of messages before seq N, oldest first, as many
 * as fit in MAX_BUFFERED_BYTES.
 */
export const readHistory: HttpHandler = async (ctx, req, res) => {
  const room = validate(RoomName, req.params.room);
  const query = validate(HistoryQuery, req.query);
  const limit = Math.min(query.limit ?? ctx.config.historyPageSize, ctx.config.maxHistoryPageSize);
  await roomAccess(ctx, await ctx.accounts.sessionOf(req), room);
  await inReadTurn(ctx, req, res, async () => {
    const { messages, hasOlder } = await readBefore(ctx, room, query.before, limit, ctx.config.maxBufferedBytes);
    res.json({ room, epoch: ctx.store.epoch, messages, hasOlder } satisfies HistoryResponse);
  });
};
