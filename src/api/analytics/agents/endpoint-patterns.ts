import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DateTime } from 'luxon';
import type { DimensionFilter } from '../../../query/planner.js';
import { isTimeZone } from '../../../query/time-buckets.js';
import { requireScope } from '../../auth.js';
import { ApiError, errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached, DEFAULT_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { API_CALL, periodQuestion } from './common.js';
import { dayOf, parsePeriod, periodQuery, periodSchema } from './period.js';

// Per-endpoint hourly buckets over the period: 90 days keeps that bounded, as for agent-activity.
const MAX_DAYS = 90;
const MAX_ENDPOINTS = 500;

const endpointPattern = z.object({
  endpoint: z.string(),
  totalCalls: z.number().int(),
  successRate: z.number().openapi({ description: 'Successful calls / calls, 0–1 (6 decimals)' }),
  p95LatencyMs: z.number().nullable().openapi({ description: 'Nearest-rank p95 of the calls that report latency (exact below 100 ms, 1 % buckets above); null without any' }),
  peakHour: z.number().int().openapi({ description: 'Hour of day (0–23, in `tz`) with the most calls over the period; the earliest on a tie' }),
  dailyCalls: z.array(z.object({ date: z.string(), calls: z.number().int() })).openapi({ description: 'Every day of the period, zeros included' }),
});

const endpointPatterns = z
  .object({
    tenantId: z.string(),
    period: periodSchema,
    tz: z.string(),
    totalEndpoints: z.number().int().openapi({ description: 'Endpoints called in the period (the list holds the `limit` busiest)' }),
    endpoints: z.array(endpointPattern),
  })
  .openapi('EndpointPatterns');

export const endpointPatternsRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/endpoint-patterns',
  tags: ['agent analytics'],
  summary: 'Per-endpoint API call patterns: calls, success rate, p95 latency, peak hour, daily calls',
  description:
    '`api.call` events that name an endpoint, busiest endpoint first (ties by name). Days and hours are in `tz` (default UTC); ' +
    `at most ${MAX_DAYS} days. Cached ${DEFAULT_TTL_MS / 60_000} min.`,
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('endpoint-patterns', DEFAULT_TTL_MS)],
  request: {
    query: z.object({
      ...periodQuery,
      tz: z.string().default('UTC').openapi({ description: 'IANA time zone of the days and of peakHour', example: 'Europe/Berlin' }),
      limit: z.coerce.number().int().min(1).max(MAX_ENDPOINTS).default(50).openapi({ description: `Busiest endpoints to return (1–${MAX_ENDPOINTS})` }),
    }),
  },
  responses: { 200: { description: 'Endpoints', content: { 'application/json': { schema: endpointPatterns } } }, ...errorResponses },
});

export function registerEndpointPatterns(app: OpenAPIHono<AppEnv>) {
  app.openapi(endpointPatternsRoute, async (c) => {
    const query = c.req.valid('query');
    if (!isTimeZone(query.tz)) throw new ApiError(400, 'INVALID_TIMEZONE', `tz must be an IANA time zone such as Europe/Berlin; got "${query.tz}"`, { field: 'tz' });
    const period = parsePeriod(query, { maxDays: MAX_DAYS, tz: query.tz });
    const tenantId = c.get('principal').tenant.id;
    const planner = timedPlanner(c, 'endpoint-patterns');
    const calls: DimensionFilter[] = [
      { dimension: 'event_type', op: 'eq', values: [API_CALL] },
      { dimension: 'endpoint', op: 'not_in', values: [''] },
    ];
    const totals = await planner.ask(
      periodQuestion(tenantId, period, { metrics: ['events', 'success_rate', 'latency_p95'], dimensions: ['endpoint'], filters: calls }),
      { orderBy: { field: 'events', direction: 'desc' } },
    );
    const top = totals.rows.slice(0, query.limit);
    const names = top.map((r) => r.dims.endpoint as string);
    const daily = new Map(names.map((e) => [e, new Map(period.dates.map((d) => [d, 0]))]));
    const hours = new Map(names.map((e) => [e, new Array<number>(24).fill(0)]));
    if (names.length) {
      const only: DimensionFilter[] = [...calls, { dimension: 'endpoint', op: 'in', values: names }];
      const [perDay, perHour] = await Promise.all([
        planner.ask(periodQuestion(tenantId, period, { metrics: ['events'], dimensions: ['endpoint'], granularity: 'day', filters: only }), { fillGaps: false }),
        // Summed into hours of the day: empty hours add nothing, so no gap filling.
        planner.ask(periodQuestion(tenantId, period, { metrics: ['events'], dimensions: ['endpoint'], granularity: 'hour', filters: only }), { fillGaps: false }),
      ]);
      for (const r of perDay.rows) {
        const days = daily.get(r.dims.endpoint as string)!;
        const date = dayOf(r.bucket!, period.tz);
        days.set(date, days.get(date)! + (r.values.events as number));
      }
      for (const r of perHour.rows) {
        const h = hours.get(r.dims.endpoint as string)!;
        const hour = DateTime.fromMillis(r.bucket!, { zone: period.tz }).hour;
        h[hour] = h[hour]! + (r.values.events as number);
      }
    }
    planner.done();

    return c.json(
      {
        tenantId,
        period: { from: period.from, to: period.to },
        tz: period.tz,
        totalEndpoints: totals.rows.length,
        endpoints: top.map((r) => {
          const endpoint = r.dims.endpoint as string;
          const h = hours.get(endpoint)!;
          return {
            endpoint,
            totalCalls: r.values.events as number,
            successRate: r.values.success_rate as number,
            p95LatencyMs: r.values.latency_p95 as number | null,
            peakHour: h.indexOf(Math.max(...h)),
            dailyCalls: [...daily.get(endpoint)!].map(([date, n]) => ({ date, calls: n })),
          };
        }),
      },
      200,
    );
  });
}
