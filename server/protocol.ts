// The wire protocol: every frame and body that crosses between client and server, typed once.
// The server validates what clients send with the zod schemas below; the client imports the types
// (and the few constants) from this same file, so the two cannot drift apart. docs/protocol.md
// describes it with examples.
import { z } from 'zod';

/** Room names: lowercase ASCII letters, digits, '-' and '_', so that they read well in a URL. */
export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
export const MAX_ROOM_LENGTH = 40;
/** Nicknames: letters and digits of any script, spaces and a little punctuation. */
export const NICK_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]*$/u;
export const MAX_NICK_LENGTH = 32;
/** A client id names one message attempt; retries reuse it so the server can turn them into the original. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** Default cap on a message's text, in characters (code points). The server's limit is configurable. */
export const DEFAULT_MAX_TEXT_LENGTH = 4000;
export const DEFAULT_ROOM = 'lobby';
export const SOCKET_PATH = '/ws';

/** Close codes the server uses on a WebSocket, beyond the standard 1000/1001. */
export const CloseCode = {
  /** The server is shutting down or restarting: reconnect at once. */
  goingAway: 1001,
  /** The socket's unsent buffer passed its bound: reconnect and resume from your cursor. */
  slowReader: 4008,
  /** No pong (or no frame) within the heartbeat window. */
  heartbeatTimeout: 4009,
  /** No valid session cookie: pick a nickname first (POST /api/session). */
  unauthenticated: 4401,
} as const;

/** Stable error codes, shared by HTTP bodies and WebSocket error frames. */
export const ErrorCode = {
  invalidJson: 'invalid_json',
  invalidFrame: 'invalid_frame',
  invalidRequest: 'invalid_request',
  tooLarge: 'too_large',
  unauthenticated: 'unauthenticated',
  notSubscribed: 'not_subscribed',
  notFound: 'not_found',
  storeUnavailable: 'store_unavailable',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Error codes a client should retry after a while rather than give up on. */
export const RETRYABLE_ERRORS: ReadonlySet<ErrorCode> = new Set([ErrorCode.storeUnavailable, ErrorCode.internal]);

// ---- values ---------------------------------------------------------------------------------

export const RoomName = z
  .string()
  .min(1, 'a room name is required')
  .max(MAX_ROOM_LENGTH, `a room name has at most ${MAX_ROOM_LENGTH} characters`)
  .regex(ROOM_PATTERN, 'a room name uses lowercase letters, digits, "-" and "_", starting with a letter or digit');

export const Nickname = z
  .string()
  .trim()
  .min(1, 'a nickname is required')
  .max(MAX_NICK_LENGTH, `a nickname has at most ${MAX_NICK_LENGTH} characters`)
  .regex(NICK_PATTERN, 'a nickname uses letters, digits, spaces and . _ \' -, starting with a letter or digit');

export const ClientId = z.string().regex(CLIENT_ID_PATTERN, 'clientId is 8 to 64 characters of A-Z a-z 0-9 _ -');

/** A position in a room's log: the last seq the reader has seen (0 = before the first message). */
export const Cursor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** The text of a message; its length cap is applied by the server from its config. */
export const MessageText = z
  .string()
  .refine((text) => text.trim().length > 0, 'a message cannot be empty');

/** A stored message, as the server sends it. */
export interface ChatMessage {
  room: string;
  /** Position in the room's log: 1, 2, 3, ... with no holes. */
  seq: number;
  /** The sender's id for this message; a resend with the same id is the same message. */
  clientId: string;
  /** Nickname of the author, stamped by the server from the sender's session. */
  author: string;
  text: string;
  /** When the server stored it, in milliseconds since the epoch. */
  at: number;
}

// ---- WebSocket: client -> server --------------------------------------------------------------

export const SubscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  room: RoomName,
  /** Replay what follows this seq, then stream live. Omitted: the latest page, then live. */
  after: Cursor.optional(),
  /** The log's epoch the cursor belongs to; a different epoch (store wiped) gets a reset. */
  epoch: z.string().max(64).optional(),
});

export const UnsubscribeFrame = z.strictObject({
  type: z.literal('unsubscribe'),
  room: RoomName,
});

export const SendFrame = z.strictObject({
  type: z.literal('send'),
  room: RoomName,
  clientId: ClientId,
  text: MessageText,
});

export const PingFrame = z.strictObject({
  type: z.literal('ping'),
});

export const ClientFrame = z.discriminatedUnion('type', [SubscribeFrame, UnsubscribeFrame, SendFrame, PingFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type SubscribeFrame = z.infer<typeof SubscribeFrame>;
export type SendFrame = z.infer<typeof SendFrame>;

// ---- WebSocket: server -> client --------------------------------------------------------------

/** Why a cursor cannot be served: ahead of the log, from another epoch, or too far behind to replay. */
export type ResetReason = 'ahead' | 'epoch' | 'behind';

export type ServerFrame =
  /** Answer to subscribe: what follows the cursor (or the latest page), then live messages follow. */
  | { type: 'subscribed'; room: string; epoch: string; messages: ChatMessage[]; hasOlder: boolean }
  /** One live message of a subscribed room. */
  | { type: 'message'; message: ChatMessage }
  /** The cursor cannot be served: drop the room's view and subscribe again without a cursor. */
  | { type: 'reset'; room: string; epoch: string; reason: ResetReason }
  /** The store holds the message sent with this clientId (a resend gets the original). */
  | { type: 'ack'; clientId: string; message: ChatMessage }
  | { type: 'error'; code: ErrorCode; message: string; clientId?: string; room?: string; retryable: boolean }
  | { type: 'pong' };

// ---- HTTP -------------------------------------------------------------------------------------

/** POST /api/session */
export const SessionRequest = z.strictObject({ nick: Nickname });
export type SessionRequest = z.infer<typeof SessionRequest>;
/** GET or POST /api/session answers with the session's nickname and the server's limits. */
export interface SessionResponse {
  nick: string;
  maxTextLength: number;
}

/** POST /api/rooms/:room/messages */
export const SendRequest = z.strictObject({ clientId: ClientId, text: MessageText });
export type SendRequest = z.infer<typeof SendRequest>;
export interface SendResponse {
  message: ChatMessage;
  /** True when this clientId was already stored: the answer is the original message. */
  duplicate: boolean;
}

/** GET /api/rooms/:room/messages?before=N&limit=L: a page of history, oldest first. */
export const HistoryQuery = z.strictObject({
  before: z.coerce.number().pipe(Cursor).optional(),
  limit: z.coerce.number().pipe(z.number().int().min(1)).optional(),
});
export interface HistoryResponse {
  room: string;
  epoch: string;
  messages: ChatMessage[];
  /** Whether messages older than the first of this page exist. */
  hasOlder: boolean;
}

/** GET /wait?room=R&after=N&epoch=E: long-poll. Without `after`: the latest page at once. */
export const WaitQuery = z.strictObject({
  room: RoomName,
  after: z.coerce.number().pipe(Cursor).optional(),
  epoch: z.string().max(64).optional(),
});
export type WaitResponse =
  | { type: 'messages'; room: string; epoch: string; messages: ChatMessage[]; hasOlder?: boolean }
  | { type: 'reset'; room: string; epoch: string; reason: ResetReason };

/** Every HTTP error body. */
export interface ErrorResponse {
  error: { code: ErrorCode; message: string; retryable: boolean };
}

/** Turns a zod failure into one readable sentence naming the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
