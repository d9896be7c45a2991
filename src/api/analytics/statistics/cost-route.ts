import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import { TooManyGroupsError } from '../../../query/execute.js';
import { freshnessSec, newestEventMs } from '../../../query/freshness.js';
import { requireScope } from '../../auth.js';
import type { AppEnv } from '../../env.js';
import { ApiError } from '../../errors.js';
import { cached, DEFAULT_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { apiKeyLabeller } from '../api-key-labels.js';
import { exactJson } from '../exact-json.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { isoInZone, isoUtc, sourceTables } from '../signals.js';
import { costFields } from './breakdown.js';
import { costStatistics } from './cost.js';
import { parseStatistics, statisticsQuery } from './params.js';
import { analyticsErrorResponses, costStatisticsSchema, type CostStatisticsBody } from './schemas.js';

export const costStatisticsQuery = statisticsQuery.extend({
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: 'Rows per breakdown; the rest is summed into one `other` row' }),
});

export const costStatisticsRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/statistics/cost',
  tags: ['analytics'],
  summary: 'Cost statistics: spend totals, a gap-filled series and breakdowns over [from, to)',
  description:
    'Seed 000 contract `{window, totals, series, by_model, by_feature, signals}` plus by_user, by_api_key and by_project. Money is exact: ' +
    'spend_cents and spend_usd are JSON numbers printed from integer nano-USD (0.04, not 0.04000000000000001). Breakdown rows are sorted by ' +
    'spend; pct_of_total is the share of the window spend rounded to 2 decimals. Events without a feature are "untagged" (seed 000); ' +
    'without a user, model or project the value is null. Same parameters, caching and errors as statistics/usage.',
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('statistics-cost', DEFAULT_TTL_MS)],
  request: { query: costStatisticsQuery },
  responses: { 200: { description: 'Cost statistics', content: { 'application/json': { schema: costStatisticsSchema } } }, ...analyticsErrorResponses },
});

export function registerCostStatistics(app: OpenAPIHono<AppEnv>) {
  app.openapi(costStatisticsRoute, async (c) => {
    const query = c.req.valid('query');
    const p = parseStatistics(c.get('principal').tenant.id, query);
    const { ch, tenants } = c.get('services');
    const planner = timedPlanner(c, 'statistics-cost');
    let stats;
    let newest;
    try {
      [stats, newest] = await Promise.all([
        costStatistics(planner.ask, p, query.limit, apiKeyLabeller(tenants, p.tenantId)),
        newestEventMs(ch, p.tenantId),
      ]);
    } catch (e) {
      if (e instanceof TooManyGroupsError) throw new ApiError(400, 'TOO_MANY_GROUPS', `${e.message} (narrow the window or the scope)`);
      throw e;
    }
    planner.done();
    const body = {
      window: { from: isoUtc(p.fromMs), to: isoUtc(p.toMs), resolution: p.resolution },
      totals: costFields(stats.totals),
      series: stats.series.map(({ bucket, sums }) => {
        const { spend_usd: _usd, ...fields } = costFields(sums);
        return { ts: isoInZone(bucket, p.tz), ...fields };
      }),
      by_model: stats.by_model,
      by_feature: stats.by_feature,
      by_user: stats.by_user,
      by_api_key: stats.by_api_key,
      by_project: stats.by_project,
      signals: { sources: sourceTables(stats.sources), freshness_sec: freshnessSec(newest) },
    };
    // Written by stringifyExact (money as exact decimal text); the shape is costStatisticsSchema's.
    return exactJson(c, body) as unknown as TypedResponse<CostStatisticsBody, 200, 'json'>;
  });
}
