// GET /metrics: the Prometheus text format. It tells counts, never message text or names; still, serve
// it to your scraper only (a proxy in front should not pass /metrics on to the internet).
import type { HttpHandler } from './http';

export const metrics: HttpHandler = async (ctx, _req, res) => {
  const { registry } = ctx.metrics;
  res.setHeader('Cache-Control', 'no-store');
  res.type(registry.contentType).send(await registry.metrics());
};
