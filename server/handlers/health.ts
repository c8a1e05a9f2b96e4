// Health: /healthz says whether the process serves (and how its store is doing), /readyz whether it can
// take traffic, which it cannot while the store is unreachable.
import { toApiError } from '../errors';
import type { HealthResponse } from '../protocol';
import type { HttpHandler } from './http';

/** GET /healthz: 200 while the process serves; `status` is `degraded` while the store does not answer. */
export const liveness: HttpHandler = async (ctx, _req, res) => {
  const health = await checkStore(ctx.store);
  res.setHeader('Cache-Control', 'no-store');
  res.json({ status: health.reachable ? 'ok' : 'degraded', store: health } satisfies HealthResponse);
};

/** GET /readyz: 200 when the store answers, else 503 store_unavailable (a load balancer sends traffic elsewhere). */
export const readiness: HttpHandler = async (ctx, _req, res) => {
  await ctx.store.ping();
  res.setHeader('Cache-Control', 'no-store');
  res.json({ status: 'ok', store: { kind: ctx.store.kind, reachable: true } } satisfies HealthResponse);
};

async function checkStore(store: { kind: 'embedded' | 'mongodb'; ping(): Promise<void> }): Promise<HealthResponse['store']> {
  try {
    await store.ping();
    return { kind: store.kind, reachable: true };
  } catch (error) {
    return { kind: store.kind, reachable: false, error: toApiError(error).message };
  }
}
