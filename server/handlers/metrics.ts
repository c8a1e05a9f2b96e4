// GET /metrics: the Prometheus text format. It tells counts, never message text or names; still, serve it to
// your scraper only: set METRICS_TOKEN, or METRICS_PORT to serve it on an address of its own (see README).
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors';
import { ErrorCode } from '../protocol';
import type { HttpHandler } from './http';

export const metrics: HttpHandler = async (ctx, req, res) => {
  if (!carriesToken(req.headers.authorization, ctx.config.metricsToken)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    throw new ApiError(ErrorCode.unauthenticated, 'GET /metrics needs the header Authorization: Bearer <METRICS_TOKEN>');
  }
  const { registry } = ctx.metrics;
  res.setHeader('Cache-Control', 'no-store');
  res.type(registry.contentType).send(await registry.metrics());
};

/** Whether an Authorization header carries the token; any request does when there is none. */
function carriesToken(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = /^Bearer +(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
  // Compared as digests, of equal length: timingSafeEqual then tells neither the token's bytes nor its length.
  return timingSafeEqual(sha256(given), sha256(token));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
