import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached, SUMMARY_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { API_CALL, CREDENTIAL_ROTATED, periodQuestion, ratio2, TOKEN_ISSUED } from './common.js';
import { dayOf, parsePeriod, periodQuery, periodSchema } from './period.js';

const MAX_DAYS = 365;

const usageSummary = z
  .object({
    tenantId: z.string(),
    period: periodSchema,
    summary: z.object({
      totalApiCalls: z.number().int(),
      totalTokenIssuances: z.number().int(),
      totalCredentialRotations: z.number().int(),
      activeAgentCount: z.number().int().openapi({ description: 'Distinct agents named by any event in the period' }),
      averageDailyApiCalls: z.number().openapi({ description: 'totalApiCalls / days in the period, rounded half up to 2 decimals' }),
      peakDailyApiCalls: z.number().int(),
      peakDate: z.string().nullable().openapi({ description: 'The (earliest) day with peakDailyApiCalls; null when there were no API calls' }),
    }),
  })
  .openapi('UsageSummary');

export const usageSummaryRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/usage-summary',
  tags: ['agent analytics'],
  summary: 'Totals of API calls, token issuances and credential rotations, active agents, average and peak daily calls',
  description:
    'Days are UTC; `to` is inclusive. API calls are `api.call` events (an `llm.call` is not an API call, but makes its agent active), ' +
    'token issuances `token.issued`, credential rotations `credential.rotated`; each event counts once. ' +
    `At most ${MAX_DAYS} days. Cached ${SUMMARY_TTL_MS / 1000} s.`,
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('usage-summary', SUMMARY_TTL_MS)],
  request: { query: z.object(periodQuery) },
  responses: { 200: { description: 'Summary', content: { 'application/json': { schema: usageSummary } } }, ...errorResponses },
});

export function registerUsageSummary(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageSummaryRoute, async (c) => {
    const period = parsePeriod(c.req.valid('query'), { maxDays: MAX_DAYS });
    const tenantId = c.get('principal').tenant.id;
    const planner = timedPlanner(c, 'usage-summary');
    const [perDay, agents] = await Promise.all([
      planner.ask(
        periodQuestion(tenantId, period, {
          metrics: ['events'],
          dimensions: ['event_type'],
          granularity: 'day',
          filters: [{ dimension: 'event_type', op: 'in', values: [API_CALL, TOKEN_ISSUED, CREDENTIAL_ROTATED] }],
        }),
      ),
      planner.ask(periodQuestion(tenantId, period, { metrics: ['unique_agents'] })),
    ]);
    planner.done();

    const totals = new Map<string, number>();
    let peak = 0;
    let peakDate: string | null = null;
    // Rows come in time order, so the first day reaching the maximum is the earliest.
    for (const row of perDay.rows) {
      const type = row.dims.event_type as string;
      const n = row.values.events as number;
      totals.set(type, (totals.get(type) ?? 0) + n);
      if (type === API_CALL && n > peak) {
        peak = n;
        peakDate = dayOf(row.bucket!, period.tz);
      }
    }
    const apiCalls = totals.get(API_CALL) ?? 0;
    return c.json(
      {
        tenantId,
        period: { from: period.from, to: period.to },
        summary: {
          totalApiCalls: apiCalls,
          totalTokenIssuances: totals.get(TOKEN_ISSUED) ?? 0,
          totalCredentialRotations: totals.get(CREDENTIAL_ROTATED) ?? 0,
          activeAgentCount: (agents.rows[0]?.values.unique_agents as number | undefined) ?? 0,
          averageDailyApiCalls: ratio2(apiCalls, period.dates.length),
          peakDailyApiCalls: peak,
          peakDate,
        },
      },
      200,
    );
  });
}
