import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { freshnessSec, newestEventMs } from '../../../query/freshness.js';
import { requireScope } from '../../auth.js';
import type { AppEnv } from '../../env.js';
import { cached, DEFAULT_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { isoInZone, isoUtc, sourceTables } from '../signals.js';
import { parseStatistics, statisticsQuery } from './params.js';
import { analyticsErrorResponses, usageStatisticsSchema } from './schemas.js';
import { usageStatistics } from './usage.js';

export const usageStatisticsRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/statistics/usage',
  tags: ['analytics'],
  summary: 'Usage statistics: totals and a gap-filled series over [from, to)',
  description:
    'Seed 000 contract `{window, totals, series, signals}`. Buckets (hour, day, week, month) start at local boundaries of `tz`, DST-aware; ' +
    'every bucket is present (0 without events). Answered from the cheapest tables that cover the question; `signals.sources` names them. ' +
    'Cached per tenant and query for 5 minutes (`X-Cache`). 404 when ANALYTICS_ENABLED=false; 403 ANALYTICS_NOT_AVAILABLE on the free plan.',
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('statistics-usage', DEFAULT_TTL_MS)],
  request: { query: statisticsQuery },
  responses: { 200: { description: 'Usage statistics', content: { 'application/json': { schema: usageStatisticsSchema } } }, ...analyticsErrorResponses },
});

export function registerUsageStatistics(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageStatisticsRoute, async (c) => {
    const p = parseStatistics(c.get('principal').tenant.id, c.req.valid('query'));
    const planner = timedPlanner(c, 'statistics-usage');
    const [stats, newest] = await Promise.all([usageStatistics(planner.ask, p), newestEventMs(c.get('services').ch, p.tenantId)]);
    planner.done();
    return c.json(
      {
        window: { from: isoUtc(p.fromMs), to: isoUtc(p.toMs), resolution: p.resolution },
        totals: stats.totals,
        series: stats.series.map(({ bucket, ...v }) => ({ ts: isoInZone(bucket, p.tz), ...v })),
        signals: { sources: sourceTables(stats.sources), freshness_sec: freshnessSec(newest) },
      },
      200,
    );
  });
}
