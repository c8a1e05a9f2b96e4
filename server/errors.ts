// One error vocabulary for HTTP answers and WebSocket error frames: a stable code and a human message.
import type { ZodType } from 'zod';
import { ErrorCode, RETRYABLE_ERRORS, type ErrorResponse } from './protocol';
import { describeIssues, namingTheField } from './validation';
import type { Logger } from 'pino';
import type { Metrics } from './metrics';
import { StoreUnavailableError } from './store/store';

const STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_frame: 400,
  invalid_request: 400,
  too_large: 413,
  unauthenticated: 401,
  invalid_name: 400,
  name_taken: 409,
  invalid_password: 400,
  sign_in_failed: 401,
  guests_off: 403,
  forbidden: 403,
  forbidden_origin: 403,
  unknown_host: 421,
  not_found: 404,
  banned: 403,
  muted: 403,
  limit_reached: 409,
  rate_limited: 429,
  quota_exceeded: 413,
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

/**
 * What a client is told about a request or frame that failed, counted by code and logged: internal errors
 * with their stack, store outages as warnings, refusals of bad input at debug. `where` says what failed.
 */
export function reportRefusal(error: unknown, where: Record<string, unknown>, logger: Logger, metrics: Metrics): ApiError {
  const apiError = toApiError(error);
  metrics.refused(apiError.code);
  if (apiError.code === ErrorCode.internal) logger.error({ err: error, ...where }, 'request failed');
  else if (apiError.code === ErrorCode.storeUnavailable) logger.warn({ ...where, reason: apiError.message }, 'request failed: store unavailable');
  else logger.debug({ ...where, code: apiError.code }, 'request refused');
  return apiError;
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
  const parsed = schema.safeParse(value, { error: namingTheField });
  if (!parsed.success) throw new ApiError(code, describeIssues(parsed.error));
  return parsed.data;
}
