// The HTTP side of the protocol, as the browser calls it. Every failure becomes an ApiFailure with the
// server's error code, or `network` when no answer came back at all.
import type {
  ErrorCode,
  ErrorResponse,
  HistoryResponse,
  MemberListResponse,
  ModerationAction,
  ModerationResult,
  PeopleState,
  RoomInfo,
  RoomListResponse,
  RoomMember,
  ReadMarkersResponse,
  RoomRead,
  SearchResponse,
  SendRequest,
  SendResponse,
  SessionListResponse,
  SessionLookupResponse,
  SessionResponse,
  WaitResponse,
} from '../../server/protocol';

export class ApiFailure extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
    readonly retryable: boolean,
    readonly status = 0,
    /** With `rate_limited`: how long to wait before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * How a request reaches the server: in the page, the browser's fetch on this origin with its cookies.
 * The chaos test gives each of its clients its own (a base URL, a cookie, connections it can cut).
 */
export type FetchServer = (path: string, init: RequestInit) => Promise<Response>;

const browserFetch: FetchServer = (path, init) => fetch(path, { credentials: 'same-origin', ...init });

/** Every HTTP call the client makes, over one way of reaching the server. */
export function createServerApi(fetchServer: FetchServer = browserFetch) {
  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetchServer(path, init);
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiFailure('network', 'the server could not be reached', true);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok) return body as T;
    const error = (body as Partial<ErrorResponse> | undefined)?.error;
    if (error) throw new ApiFailure(error.code, error.message, error.retryable, response.status, error.retryAfterMs);
    // No JSON error body: a proxy or a server that is starting up answered. Worth another try.
    throw new ApiFailure('network', `the server answered ${response.status}`, response.status >= 500, response.status);
  }

  const postJson = <T>(path: string, body: unknown): Promise<T> =>
    call<T>(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  const roomPath = (room: string) => `/api/rooms/${encodeURIComponent(room)}`;

  return {
    /** Who this browser is (`nick: null`: nobody yet, and whether it may be a guest). */
    getSession(): Promise<SessionLookupResponse> {
      return call<SessionLookupResponse>('/api/session');
    },

    /** Chat as a guest under `nick`. */
    createSession(nick: string): Promise<SessionResponse> {
      return postJson<SessionResponse>('/api/session', { nick });
    },

    signIn(username: string, password: string): Promise<SessionResponse> {
      return postJson<SessionResponse>('/api/session', { username, password });
    },

    signUp(username: string, password: string): Promise<SessionResponse> {
      return postJson<SessionResponse>('/api/accounts', { username, password });
    },

    async signOut(): Promise<void> {
      await call<unknown>('/api/session', { method: 'DELETE' });
    },

    listSessions(): Promise<SessionListResponse> {
      return call<SessionListResponse>('/api/sessions');
    },

    async revokeSession(id: string): Promise<void> {
      await call<unknown>(`/api/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
    },

    postMessage(room: string, body: SendRequest): Promise<SendResponse> {
      return postJson<SendResponse>(`${roomPath(room)}/messages`, body);
    },

    fetchHistory(room: string, before: number | undefined, limit?: number): Promise<HistoryResponse> {
      const query = new URLSearchParams();
      if (before !== undefined) query.set('before', String(before));
      if (limit !== undefined) query.set('limit', String(limit));
      const search = query.toString() ? `?${query}` : '';
      return call<HistoryResponse>(`${roomPath(room)}/messages${search}`);
    },

    /** Who is in the room (long-poll clients ask; WebSocket clients get `people` frames). */
    fetchPeople(room: string): Promise<PeopleState> {
      return call<PeopleState>(`${roomPath(room)}/people`);
    },

    /** "I am typing", over HTTP (the long-poll client's way). */
    async signalTyping(room: string): Promise<void> {
      await call<unknown>(`${roomPath(room)}/typing`, { method: 'POST' });
    },

    /** Your private rooms and direct messages. */
    listRooms(): Promise<RoomListResponse> {
      return call<RoomListResponse>('/api/rooms');
    },

    /** A new private room, owned by you. */
    createRoom(title: string): Promise<RoomInfo> {
      return postJson<RoomInfo>('/api/rooms', { title });
    },

    /** The direct message with `username` (the same room every time). */
    openDm(username: string): Promise<RoomInfo> {
      return postJson<RoomInfo>('/api/dms', { username });
    },

    /** What the room is, and your role, rights and mute in it. */
    roomInfo(room: string): Promise<RoomInfo> {
      return call<RoomInfo>(roomPath(room));
    },

    listMembers(room: string): Promise<MemberListResponse> {
      return call<MemberListResponse>(`${roomPath(room)}/members`);
    },

    invite(room: string, username: string): Promise<RoomMember> {
      return postJson<RoomMember>(`${roomPath(room)}/members`, { username });
    },

    async leaveRoom(room: string): Promise<void> {
      await call<unknown>(`${roomPath(room)}/members/me`, { method: 'DELETE' });
    },

    moderate(room: string, username: string, action: ModerationAction): Promise<ModerationResult> {
      return postJson<ModerationResult>(`${roomPath(room)}/moderation`, { username, action });
    },

    /** The account has read `room` up to `seq` (of the log's `epoch`): kept for its other devices. */
    markRead(room: string, seq: number, epoch: string, keepalive = false): Promise<RoomRead> {
      const body = JSON.stringify({ seq, epoch });
      return call<RoomRead>(`${roomPath(room)}/read`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body, keepalive });
    },

    /** The account's read markers (none for a guest). */
    fetchReadMarkers(): Promise<ReadMarkersResponse> {
      return call<ReadMarkersResponse>('/api/reads');
    },

    /** Forgets the account's marker in `room`: the room is off its list on every device. */
    async forgetRead(room: string): Promise<void> {
      await call<unknown>(`${roomPath(room)}/read`, { method: 'DELETE' });
    },

    /** Answers as soon as the server does (unlike a long-poll, which a quiet room holds): is it reachable? */
    async checkServer(signal: AbortSignal): Promise<void> {
      await call<unknown>('/healthz', { signal });
    },

    /** Messages holding every word of `q`, newest first, in the rooms this person may read. */
    search(filters: SearchFilters, before?: string): Promise<SearchResponse> {
      const query = new URLSearchParams({ q: filters.q });
      if (filters.room) query.set('room', filters.room);
      if (filters.author) query.set('author', filters.author);
      if (filters.since !== undefined) query.set('since', String(filters.since));
      if (filters.until !== undefined) query.set('until', String(filters.until));
      if (before !== undefined) query.set('before', before);
      return call<SearchResponse>(`/api/search?${query}`);
    },

    waitForMessages(room: string, after: number | undefined, epoch: string | undefined, signal: AbortSignal): Promise<WaitResponse> {
      const query = new URLSearchParams({ room });
      if (after !== undefined) query.set('after', String(after));
      if (epoch !== undefined) query.set('epoch', epoch);
      return call<WaitResponse>(`/wait?${query}`, { signal });
    },
  };
}

export type ServerApi = ReturnType<typeof createServerApi>;

/** What a search asks for: words, and the filters a person set (dates in ms since the epoch). */
export interface SearchFilters {
  q: string;
  room?: string;
  author?: string;
  since?: number;
  until?: number;
}

/** The page's API: the browser's fetch, same origin. */
export const serverApi: ServerApi = createServerApi();
export const { getSession, createSession, signIn, signUp, signOut, listSessions, revokeSession, fetchHistory, markRead, fetchReadMarkers, forgetRead, search } = serverApi;
export const { listRooms, createRoom, openDm, roomInfo, listMembers, invite, leaveRoom, moderate } = serverApi;
