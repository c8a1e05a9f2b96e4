// Health: whether the process is up and which store it serves.
import type { HttpHandler } from './http';

/** GET /healthz */
export const liveness: HttpHandler = (ctx, _req, res) => {
  res.json({ status: 'ok', store: ctx.store.kind });
};
