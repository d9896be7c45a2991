import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import { requireScope } from '../../auth.js';
import type { AppEnv } from '../../env.js';
import { timedPlanner } from '../../timed-planner.js';
import { centsFromNano, stringifyExact } from '../exact-json.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { dateInZone, isoInZone, isoUtc } from '../signals.js';
import { costSeries } from './cost.js';
import { parseStatistics, statisticsQuery, type StatisticsParams, type StatisticsQuery } from './params.js';
import { analyticsErrorResponses } from './schemas.js';
import { usageSeries } from './usage.js';

/**
 * Seed 000 exports: the statistics series as CSV (headers exactly as the seed writes them) and
 * JSON. They call the same series functions as the statistics routes, so the numbers are the
 * ones those show. Not cached (downloads), not streamed: at most 400 days of hourly buckets
 * (9,600 rows), built in memory.
 *
 * No CSV library: every field is a timestamp (digits, '-', ':', 'T', '+', 'Z') or a plain
 * decimal number, so no field can ever hold a comma, quote or line break that needs escaping.
 */
export const USAGE_CSV_HEADER = 'timestamp,requests,compute_units,tokens';
export const COST_CSV_HEADER = 'timestamp,spend_cents,requests,input_tokens,output_tokens';

/** Local date for day/week/month buckets, RFC 3339 with the zone's offset for hours. */
export const exportTimestamp = (bucket: number, p: StatisticsParams) => (p.resolution === 'hour' ? isoInZone(bucket, p.tz) : dateInZone(bucket, p.tz));

const filename = (topic: string, p: StatisticsParams, ext: string) =>
  `${topic}_${isoUtc(p.fromMs).slice(0, 10)}_${isoUtc(p.toMs).slice(0, 10)}_${p.resolution}.${ext}`;

function download(c: Context, body: string, contentType: string, name: string): Response {
  return c.body(body, 200, { 'Content-Type': contentType, 'Content-Disposition': `attachment; filename="${name}"` });
}

const csvLines = (header: string, rows: (string | number)[][]) => [header, ...rows.map((r) => r.join(','))].join('\n') + '\n';

const exportWindow = (p: StatisticsParams) => ({ from: isoUtc(p.fromMs), to: isoUtc(p.toMs), resolution: p.resolution, tz: p.tz });

const exportJsonSchema = (name: string, row: z.ZodObject) =>
  z.object({ window: z.object({ from: z.string(), to: z.string(), resolution: z.string(), tz: z.string() }), rows: z.array(row) }).openapi(name);

const usageRow = z.object({ timestamp: z.string(), requests: z.number().int(), compute_units: z.number().int(), tokens: z.number().int() });
const costRow = z.object({ timestamp: z.string(), spend_cents: z.number(), requests: z.number().int(), input_tokens: z.number().int(), output_tokens: z.number().int() });

const exportRoute = (topic: 'usage' | 'cost', format: 'csv' | 'json') =>
  createRoute({
    method: 'get',
    path: `/api/v1/analytics/statistics/${topic}/export.${format}`,
    tags: ['analytics'],
    summary: `The ${topic} statistics series as a ${format.toUpperCase()} download`,
    description:
      (format === 'csv' ? `Header \`${topic === 'usage' ? USAGE_CSV_HEADER : COST_CSV_HEADER}\`. ` : '') +
      `The same numbers as the series of GET /api/v1/analytics/statistics/${topic} for the same parameters. timestamp is the local date ` +
      '(YYYY-MM-DD) of each bucket for day/week/month resolution, RFC 3339 with the offset of `tz` for hour resolution. Not cached.',
    security: [{ bearer: [] }],
    middleware: [analyticsEnabled, requireScope('read'), analyticsPlan],
    request: { query: statisticsQuery },
    responses: {
      200: {
        description: 'Attachment',
        content:
          format === 'csv'
            ? { 'text/csv': { schema: z.string() } }
            : { 'application/json': { schema: exportJsonSchema(topic === 'usage' ? 'UsageExport' : 'CostExport', topic === 'usage' ? usageRow : costRow) } },
      },
      ...analyticsErrorResponses,
    },
  });

type ExportContext = Context<AppEnv>;

async function usageRows(c: ExportContext, query: StatisticsQuery) {
  const p = parseStatistics(c.get('principal').tenant.id, query);
  const planner = timedPlanner(c, 'statistics-usage-export');
  const { series } = await usageSeries(planner.ask, p);
  planner.done();
  return { p, rows: series.map((s) => ({ timestamp: exportTimestamp(s.bucket, p), requests: s.requests, compute_units: s.compute_units, tokens: s.tokens })) };
}

async function costRows(c: ExportContext, query: StatisticsQuery) {
  const p = parseStatistics(c.get('principal').tenant.id, query);
  const planner = timedPlanner(c, 'statistics-cost-export');
  const { series } = await costSeries(planner.ask, p);
  planner.done();
  return {
    p,
    rows: series.map((s) => ({
      timestamp: exportTimestamp(s.bucket, p),
      spend_cents: centsFromNano(s.sums.costNano),
      requests: Number(s.sums.requests),
      input_tokens: Number(s.sums.inputTokens),
      output_tokens: Number(s.sums.outputTokens),
    })),
  };
}

/** The typed response of a JSON download whose rows have the shape of `Row`. */
type JsonDownload<Row extends z.ZodObject> = TypedResponse<{ window: ReturnType<typeof exportWindow>; rows: z.infer<Row>[] }, 200, 'json'>;

export function registerStatisticsExports(app: OpenAPIHono<AppEnv>) {
  app.openapi(exportRoute('usage', 'csv'), async (c) => {
    const { p, rows } = await usageRows(c, c.req.valid('query'));
    const csv = csvLines(USAGE_CSV_HEADER, rows.map((r) => [r.timestamp, r.requests, r.compute_units, r.tokens]));
    return download(c, csv, 'text/csv', filename('usage', p, 'csv'));
  });
  app.openapi(exportRoute('usage', 'json'), async (c) => {
    const { p, rows } = await usageRows(c, c.req.valid('query'));
    return download(c, stringifyExact({ window: exportWindow(p), rows }), 'application/json', filename('usage', p, 'json')) as unknown as JsonDownload<typeof usageRow>;
  });
  app.openapi(exportRoute('cost', 'csv'), async (c) => {
    const { p, rows } = await costRows(c, c.req.valid('query'));
    const csv = csvLines(COST_CSV_HEADER, rows.map((r) => [r.timestamp, r.spend_cents.text, r.requests, r.input_tokens, r.output_tokens]));
    return download(c, csv, 'text/csv', filename('cost', p, 'csv'));
  });
  app.openapi(exportRoute('cost', 'json'), async (c) => {
    const { p, rows } = await costRows(c, c.req.valid('query'));
    // stringifyExact writes spend_cents as its exact decimal text.
    return download(c, stringifyExact({ window: exportWindow(p), rows }), 'application/json', filename('cost', p, 'json')) as unknown as JsonDownload<typeof costRow>;
  });
}
