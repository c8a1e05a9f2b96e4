// One error vocabulary for HTTP answers and WebSocket error frames: a stable code and a human message.
import type { ZodType } from 'zod';
import { ErrorCode, RETRYABLE_ERRORS, type ErrorResponse } from './protocol';
import { describeIssues } from './validation';
import { StoreUnavailableError } from './store/store';

const STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_frame: 400,
  invalid_request: 400,
  too_large: 413,
  unauthenticated: 401,
  forbidden_origin: 403,
  not_found: 404,
  rate_limited: 429,
  store_unavailable: 503,
  internal: 500,
};

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** For rate_limited: when the same request may succeed (ms). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
  get status(): number {
    return STATUS[this.code];
  }
  get retryable(): boolean {
    return RETRYABLE_ERRORS.has(this.code);
  }
}

/** Maps anything thrown while serving a client to the ApiError the client is told about. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof StoreUnavailableError) {
    return new ApiError(ErrorCode.storeUnavailable, 'the message store is unavailable; try again shortly');
  }
  return new ApiError(ErrorCode.internal, 'the server failed to handle this request');
}

export function errorBody(error: ApiError): ErrorResponse {
  const retryAfter = error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs };
  return { error: { code: error.code, message: error.message, retryable: error.retryable, ...retryAfter } };
}

/** The Retry-After header (whole seconds, rounded up) for an error that has one. */
export function retryAfterHeader(error: ApiError): string | undefined {
  return error.retryAfterMs === undefined ? undefined : String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
}

/** Parses `value` with `schema`, or throws an invalid_request ApiError naming the fields at fault. */
export function validate<T>(schema: ZodType<T>, value: unknown, code: ErrorCode = ErrorCode.invalidRequest): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError(code, describeIssues(parsed.error));
  return parsed.data;
}
