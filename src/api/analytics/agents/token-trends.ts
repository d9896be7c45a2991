import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { ApiError, errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached, DEFAULT_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { periodQuestion, TOKEN_ISSUED } from './common.js';
import { dayOf, parsePeriod, periodQuery, periodSchema } from './period.js';

const MAX_DAYS = 365;
const GRANULARITIES = ['day', 'week'] as const;

const tokenTrends = z
  .object({
    tenantId: z.string(),
    period: periodSchema,
    granularity: z.enum(GRANULARITIES),
    dataPoints: z.array(
      z.object({
        date: z.string().openapi({ description: 'The day, or the Monday starting the ISO week (the first and last weeks count only days inside the period)' }),
        totalIssuances: z.number().int(),
        successfulIssuances: z.number().int(),
        failedIssuances: z.number().int(),
        uniqueAgents: z.number().int().openapi({ description: 'Distinct agents named by a token.issued event in the bucket' }),
      }),
    ),
  })
  .openapi('TokenTrends');

export const tokenTrendsRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/token-trends',
  tags: ['agent analytics'],
  summary: 'Token issuances per day or ISO week: total, successful, failed, unique agents',
  description:
    'Issuances are `token.issued` events; failed ones are those with success=false. UTC days, gap-filled. ' +
    `At most ${MAX_DAYS} days. Cached ${DEFAULT_TTL_MS / 60_000} min.`,
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('token-trends', DEFAULT_TTL_MS)],
  request: {
    query: z.object({
      ...periodQuery,
      granularity: z.string().optional().openapi({ description: 'day (default) or week', enum: [...GRANULARITIES] }),
    }),
  },
  responses: { 200: { description: 'Data points in time order', content: { 'application/json': { schema: tokenTrends } } }, ...errorResponses },
});

export function registerTokenTrends(app: OpenAPIHono<AppEnv>) {
  app.openapi(tokenTrendsRoute, async (c) => {
    const query = c.req.valid('query');
    const granularity = query.granularity ?? 'day';
    if (granularity !== 'day' && granularity !== 'week') {
      throw new ApiError(400, 'INVALID_GRANULARITY', `granularity must be day or week; got "${granularity}"`, { field: 'granularity', valid: GRANULARITIES });
    }
    const period = parsePeriod(query, { maxDays: MAX_DAYS });
    const tenantId = c.get('principal').tenant.id;
    const planner = timedPlanner(c, 'token-trends');
    const trend = await planner.ask(
      periodQuestion(tenantId, period, {
        metrics: ['events', 'failures', 'unique_agents'],
        granularity,
        filters: [{ dimension: 'event_type', op: 'eq', values: [TOKEN_ISSUED] }],
      }),
    );
    planner.done();
    return c.json(
      {
        tenantId,
        period: { from: period.from, to: period.to },
        granularity,
        dataPoints: trend.rows.map((row) => {
          const total = row.values.events as number;
          const failed = row.values.failures as number;
          return {
            date: dayOf(row.bucket!, period.tz),
            totalIssuances: total,
            successfulIssuances: total - failed,
            failedIssuances: failed,
            uniqueAgents: row.values.unique_agents as number,
          };
        }),
      },
      200,
    );
  });
}
