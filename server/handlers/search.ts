// Search across the rooms one may read.
import { validate } from '../errors';
import type { SearchResponse } from '../protocol';
import { searchMessages } from '../search/search';
import { SearchQuery } from '../validation';
import { inReadTurn, type HttpHandler } from './http';

/** GET /api/search?q=words&room=R&author=A&since=T&until=T&before=NEXT&limit=L */
export const search: HttpHandler = async (ctx, req, res) => {
  const query = validate(SearchQuery, req.query);
  const session = await ctx.accounts.sessionOf(req);
  await inReadTurn(ctx, req, res, async () => {
    res.json((await searchMessages(ctx, { session, ip: ctx.limits.clientIp(req) }, query)) satisfies SearchResponse);
  });
};
