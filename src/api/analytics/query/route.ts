import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DIMENSIONS, GRANULARITIES, METRICS, isDimension, isMetric, type Dimension, type Metric } from '../../../query/catalog.js';
import { answer, TooManyGroupsError } from '../../../query/execute.js';
import { PlanError, type DimensionFilter, type Question } from '../../../query/planner.js';
import { bucketStarts, isTimeZone } from '../../../query/time-buckets.js';
import { requireScope } from '../../auth.js';
import { checkWindow } from '../../time-window.js';
import { ApiError, errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import type { Services } from '../../../services.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { METADATA_LIMITS } from '../../../ingest/event-schema.js';

const MAX_BUCKETS = 10_000;
const MAX_GROUPS = 100_000;

const isoTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z' });

export const queryRequest = z
  .strictObject({
    metrics: z.array(z.string()).min(1, 'name at least one metric').openapi({ example: ['requests', 'cost', 'latency_p95'] }),
    group_by: z.array(z.string()).default([]).openapi({ description: `any of: time, ${DIMENSIONS.join(', ')}`, example: ['time', 'model'] }),
    filters: z
      .array(
        z.strictObject({
          dimension: z.string(),
          op: z.enum(['eq', 'in', 'not_in']),
          values: z.array(z.string().max(1024)).min(1).max(1000),
        }),
      )
      // Bounded like metadata below: 10 000 filters made SQL past max_query_size (a 500).
      .max(100)
      .default([]),
    // At most an event's own number of metadata keys: 2 000 took 22 s, 10 000 failed with a 500.
    metadata: z
      .record(z.string().min(1).max(128), z.string().max(4096))
      .refine((m) => Object.keys(m).length <= METADATA_LIMITS.keys, `at most ${METADATA_LIMITS.keys} metadata keys`)
      .default({})
      .openapi({ description: 'metadata key equality (raw events)' }),
    from: isoTime,
    to: isoTime,
    granularity: z.enum(GRANULARITIES).optional(),
    tz: z.string().default('UTC').openapi({ description: 'IANA time zone for buckets', example: 'Europe/Berlin' }),
    order_by: z.strictObject({ field: z.string(), direction: z.enum(['asc', 'desc']).default('desc') }).optional(),
    limit: z.number().int().min(1).max(10_000).optional(),
    other: z.boolean().default(false).openapi({ description: 'with limit: add an "other" row summing the rest' }),
    source: z.enum(['auto', 'raw', 'hourly', 'daily', 'actors_daily']).default('auto').openapi({ description: 'force a table (diagnostics)' }),
  })
  .openapi('AnalyticsQuery');

const queryResponse = z
  .object({
    window: z.object({ from: z.string(), to: z.string(), granularity: z.string().nullable(), tz: z.string() }),
    rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))),
    sources: z.array(z.string()),
  })
  .openapi('AnalyticsQueryResult');

export const queryRoute = createRoute({
  method: 'post',
  path: '/api/v1/analytics/query',
  tags: ['analytics'],
  summary: 'Any metrics × group_by × filters over [from, to), bucketed in a time zone',
  description:
    'Answered from the cheapest table that covers the question (daily or hourly rollup, actors_daily, raw events); the numbers are ' +
    'the same whichever answers. Buckets without events are 0. Grouping by user_id or agent_id covers the events that name one.',
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan],
  request: { body: { required: true, content: { 'application/json': { schema: queryRequest } } } },
  responses: { 200: { description: 'Rows', content: { 'application/json': { schema: queryResponse } } }, ...errorResponses },
});

export type QueryRequest = z.infer<typeof queryRequest>;

/** Request → planner question, refusing unknown names with the list of valid ones. */
export function toQuestion(tenantId: string, r: QueryRequest): Question {
  for (const m of r.metrics) {
    if (!isMetric(m)) throw new ApiError(400, 'UNKNOWN_METRIC', `unknown metric "${m}"; valid metrics: ${METRICS.join(', ')}`, { field: 'metrics', valid: METRICS });
  }
  const dims: Dimension[] = [];
  let byTime = false;
  for (const d of r.group_by) {
    if (d === 'time') byTime = true;
    else if (isDimension(d)) dims.push(d);
    else throw new ApiError(400, 'UNKNOWN_DIMENSION', `unknown dimension "${d}" in group_by; valid: time, ${DIMENSIONS.join(', ')}`, { field: 'group_by', valid: ['time', ...DIMENSIONS] });
  }
  const filters: DimensionFilter[] = r.filters.map((f, i) => {
    if (!isDimension(f.dimension)) {
      throw new ApiError(400, 'UNKNOWN_DIMENSION', `unknown dimension "${f.dimension}" in filters[${i}]; valid: ${DIMENSIONS.join(', ')}`, { field: `filters.${i}.dimension`, valid: DIMENSIONS });
    }
    if (f.op === 'eq' && f.values.length !== 1) throw new ApiError(400, 'INVALID_REQUEST', `filters[${i}]: eq takes exactly one value`, { field: `filters.${i}.values` });
    if (f.dimension === 'success' && f.values.some((v) => v !== 'true' && v !== 'false')) {
      throw new ApiError(400, 'INVALID_REQUEST', `filters[${i}]: success values are "true" or "false"`, { field: `filters.${i}.values` });
    }
    return { dimension: f.dimension, op: f.op, values: f.values };
  });
  if (!isTimeZone(r.tz)) throw new ApiError(400, 'INVALID_TIMEZONE', `tz must be an IANA time zone such as Europe/Berlin; got "${r.tz}"`, { field: 'tz' });
  const fromMs = Date.parse(r.from);
  const toMs = Date.parse(r.to);
  checkWindow(fromMs, toMs);
  if (byTime && !r.granularity) throw new ApiError(400, 'INVALID_GRANULARITY', 'group_by time needs a granularity: minute, hour, day, week or month', { field: 'granularity' });
  if (byTime) {
    try {
      bucketStarts(fromMs, toMs, r.granularity!, r.tz, MAX_BUCKETS);
    } catch {
      throw new ApiError(400, 'TOO_MANY_BUCKETS', `more than ${MAX_BUCKETS} ${r.granularity} buckets; use a shorter window or a coarser granularity`, { field: 'granularity' });
    }
  }
  if (r.order_by && !(r.order_by.field === 'time' || isMetric(r.order_by.field) || isDimension(r.order_by.field))) {
    throw new ApiError(400, 'INVALID_REQUEST', `order_by.field "${r.order_by.field}" is not a metric, dimension or time`, { field: 'order_by.field' });
  }
  if (r.other && (byTime || r.limit === undefined)) {
    throw new ApiError(400, 'INVALID_REQUEST', '`other` needs a `limit` and no time grouping (top-N of a breakdown)', { field: 'other' });
  }
  return {
    tenantId,
    metrics: [...new Set(r.metrics)] as Metric[],
    dimensions: [...new Set(dims)],
    granularity: byTime ? r.granularity : undefined,
    tz: r.tz,
    fromMs,
    toMs,
    filters,
    metadata: Object.entries(r.metadata).map(([key, value]) => ({ key, value })),
  };
}

export type QueryRow = { time?: string; other?: boolean } & Record<string, string | number | boolean | null>;

/** The answer as this route's rows (POST …/query/export streams the same rows). */
export async function answerRows(services: Services, q: Question, r: QueryRequest, endpoint: string): Promise<{ rows: QueryRow[]; sources: string[] }> {
  const started = performance.now();
  let result;
  try {
    result = await answer(services.ch, q, {
      source: r.source,
      orderBy: r.order_by ? { field: r.order_by.field as Metric, direction: r.order_by.direction } : undefined,
      limit: r.limit,
      other: r.other,
      maxGroups: MAX_GROUPS,
    });
  } catch (e) {
    if (e instanceof PlanError) throw new ApiError(400, 'SOURCE_NOT_ELIGIBLE', e.message, { field: 'source' });
    if (e instanceof TooManyGroupsError) throw new ApiError(400, 'TOO_MANY_GROUPS', e.message);
    throw e;
  }
  services.metrics.queryDuration.observe({ endpoint, source: result.sources.join('+') }, (performance.now() - started) / 1000);
  const rows = result.rows.map((row) => ({
    ...(row.bucket === undefined ? {} : { time: new Date(row.bucket).toISOString() }),
    ...row.dims,
    ...row.values,
    ...(row.other ? { other: true } : {}),
  }));
  return { rows, sources: result.sources };
}

export function registerQuery(app: OpenAPIHono<AppEnv>) {
  app.openapi(queryRoute, async (c) => {
    const r = c.req.valid('json');
    const q = toQuestion(c.get('principal').tenant.id, r);
    const { rows, sources } = await answerRows(c.get('services'), q, r, 'query');
    return c.json(
      { window: { from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString(), granularity: q.granularity ?? null, tz: q.tz }, rows, sources },
      200,
    );
  });
}
