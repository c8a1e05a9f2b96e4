// The whole surface of the server on one screen: every HTTP route and socket path, and what serves it.
import { liveness, readiness } from './server/handlers/health';
import type { Config } from './server/config';
import { serveFile, uploadFile } from './server/handlers/files';
import type { FastHandler, HttpHandler } from './server/handlers/http';
import { readHistory, sendMessage } from './server/handlers/messages';
import { metrics } from './server/handlers/metrics';
import { showPeople, typing } from './server/handlers/people';
import { createRoom, inviteMember, leaveRoom, listMembers, listRooms, moderate, openDm, showRoom } from './server/handlers/rooms';
import { listReadMarkers, moveReadMarker, removeReadMarker } from './server/handlers/reads';
import { search } from './server/handlers/search';
import { endSession, listSessions, revokeSession, showSession, signUp, startSession } from './server/handlers/session';
import { acceptSocket } from './server/handlers/socket';
import { waitForMessages } from './server/handlers/wait';
import { SOCKET_PATH } from './server/protocol';

export interface HttpRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  handler: HttpHandler;
}

export const httpRoutes: readonly HttpRoute[] = [
  { method: 'get', path: '/healthz', handler: liveness },
  { method: 'get', path: '/readyz', handler: readiness },
  { method: 'get', path: '/api/session', handler: showSession },
  { method: 'post', path: '/api/session', handler: startSession },
  { method: 'delete', path: '/api/session', handler: endSession },
  { method: 'post', path: '/api/accounts', handler: signUp },
  { method: 'get', path: '/api/sessions', handler: listSessions },
  { method: 'delete', path: '/api/sessions/:id', handler: revokeSession },
  { method: 'get', path: '/api/rooms', handler: listRooms },
  { method: 'post', path: '/api/rooms', handler: createRoom },
  { method: 'post', path: '/api/dms', handler: openDm },
  { method: 'get', path: '/api/rooms/:room', handler: showRoom },
  { method: 'get', path: '/api/rooms/:room/members', handler: listMembers },
  { method: 'post', path: '/api/rooms/:room/members', handler: inviteMember },
  { method: 'delete', path: '/api/rooms/:room/members/me', handler: leaveRoom },
  { method: 'post', path: '/api/rooms/:room/moderation', handler: moderate },
  { method: 'get', path: '/api/rooms/:room/messages', handler: readHistory },
  { method: 'post', path: '/api/rooms/:room/messages', handler: sendMessage },
  { method: 'get', path: '/api/rooms/:room/people', handler: showPeople },
  { method: 'post', path: '/api/rooms/:room/typing', handler: typing },
  { method: 'put', path: '/api/rooms/:room/read', handler: moveReadMarker },
  { method: 'delete', path: '/api/rooms/:room/read', handler: removeReadMarker },
  { method: 'get', path: '/api/reads', handler: listReadMarkers },
  { method: 'get', path: '/api/search', handler: search },
  { method: 'get', path: '/files/:id/:name', handler: serveFile },
];

/**
 * Routes whose body is a file's bytes, not JSON: mounted before the JSON parser, each with its own bound on
 * the body in place of MAX_FRAME_BYTES (`pattern` matches the path, without the query, for the body guard).
 */
export const uploadRoutes: readonly (HttpRoute & { pattern: RegExp; maxBody: (config: Config) => number })[] = [
  { method: 'post', path: '/api/rooms/:room/files', pattern: /^\/api\/rooms\/[^/]+\/files$/, maxBody: (config) => config.maxFileBytes, handler: uploadFile },
];

/** Served with the routes above, or alone on METRICS_PORT when it is set. */
export const metricsRoutes: readonly HttpRoute[] = [{ method: 'get', path: '/metrics', handler: metrics }];

/**
 * Routes served on node's own request and response, before express: the long-poll, whose every round
 * trip counts (each message wakes every waiter, and each asks again). Same headers, errors and metrics.
 */
export const fastRoutes: readonly { method: 'GET'; path: string; handler: FastHandler }[] = [
  { method: 'GET', path: '/wait', handler: waitForMessages },
];

export const socketRoutes = [{ path: SOCKET_PATH, handler: acceptSocket }] as const;

/** Pages the browser client serves itself (index.html, then the client reads the room from the URL). */
export const clientPages: readonly string[] = ['/', '/r/:room'];

/**
 * Addresses that name no page but lead to one (302): `/r/` without a room name is the lobby. Any other
 * address a browser opens gets the 404 page (dist/client/404.html).
 */
export const clientRedirects: readonly { path: string; to: string }[] = [{ path: '/r', to: '/' }];
