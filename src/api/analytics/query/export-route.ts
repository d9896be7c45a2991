import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { Readable } from 'node:stream';
import type { Metric } from '../../../query/catalog.js';
import type { Question } from '../../../query/planner.js';
import { chTime } from '../../../ingest/event-rows.js';
import { requireScope } from '../../auth.js';
import type { AppEnv } from '../../env.js';
import { exportResponses, formatParam, type ExportFormatName } from '../../export/formats.js';
import { clientGone, openExport, streamResponse } from '../../export/stream-response.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { answerRows, queryRequest, toQuestion, type QueryRequest, type QueryRow } from './route.js';

/** Rows per written chunk: the answer is in memory already (at most MAX_GROUPS groups), its text is not. */
const ROWS_PER_CHUNK = 1000;

export const queryExportRoute = createRoute({
  method: 'post',
  path: '/api/v1/analytics/query/export',
  tags: ['analytics', 'export'],
  summary: 'POST /api/v1/analytics/query, as a CSV, JSON, NDJSON or Parquet download',
  description:
    'The same body and the same rows (numbers identical) as POST /api/v1/analytics/query. Columns: time (with a granularity), the ' +
    'group_by dimensions, the metrics in the order asked, and `other` when requested. Nulls are empty CSV cells. Not cached.',
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan],
  request: {
    query: z.object({ format: formatParam }),
    body: { required: true, content: { 'application/json': { schema: queryRequest } } },
  },
  responses: exportResponses('The rows'),
});

export function registerQueryExport(app: OpenAPIHono<AppEnv>) {
  app.openapi(queryExportRoute, async (c) => {
    const { format } = c.req.valid('query');
    const r = c.req.valid('json');
    const q = toQuestion(c.get('principal').tenant.id, r);
    const services = c.get('services');
    const { rows } = await answerRows(services, q, r, 'query.export');
    const columns = columnsOf(q, r);
    const body =
      format === 'parquet'
        ? await openExport(c, () =>
            services.ch.stream('SELECT * EXCEPT (export_row) FROM export_input ORDER BY export_row', {}, 'Parquet', c.req.raw.signal, {
              structure: parquetStructure(q, columns),
              rows: parquetInput(rows, columns),
            }),
          )
        : Readable.from(textChunks(rows, columns, format), { objectMode: false });
    if (!body) return clientGone();
    return streamResponse(c, body, format, 'query', () => {});
  });
}

function columnsOf(q: Question, r: QueryRequest): string[] {
  return [...(q.granularity ? ['time'] : []), ...q.dimensions, ...q.metrics, ...(r.other ? ['other'] : [])];
}

/** The rows as CSV (header first), one JSON array, or NDJSON, a chunk of rows at a time. */
function* textChunks(rows: QueryRow[], columns: string[], format: Exclude<ExportFormatName, 'parquet'>): Generator<Buffer> {
  if (format === 'csv') yield Buffer.from(columns.map(csvCell).join(',') + '\n');
  if (format === 'json') yield Buffer.from(rows.length ? '[\n' : '[');
  for (let i = 0; i < rows.length; i += ROWS_PER_CHUNK) {
    const part = rows.slice(i, i + ROWS_PER_CHUNK);
    let text: string;
    if (format === 'csv') text = part.map((row) => columns.map((col) => csvCell(row[col])).join(',') + '\n').join('');
    else if (format === 'ndjson') text = part.map((row) => JSON.stringify(row) + '\n').join('');
    else text = (i ? ',\n' : '') + part.map((row) => JSON.stringify(row)).join(',\n');
    yield Buffer.from(text);
  }
  if (format === 'json') yield Buffer.from(rows.length ? '\n]\n' : ']\n');
}

/** RFC 4180: quoted only when needed; null is an empty cell. */
function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Parquet keeps types: exact decimal USD, ratios as doubles, counts as integers. */
function metricType(m: Metric): string {
  switch (m) {
    case 'cost':
    case 'cost_per_request':
      return 'Nullable(Decimal(38, 9))';
    case 'success_rate':
    case 'latency_avg':
      return 'Nullable(Float64)';
    default:
      return 'Nullable(Int64)';
  }
}

function parquetStructure(q: Question, columns: string[]): string {
  const type = (col: string) => {
    if (col === 'time') return "DateTime64(3, 'UTC')";
    if (col === 'other') return 'Bool';
    if (col === 'success') return 'Nullable(Bool)';
    if ((q.dimensions as string[]).includes(col)) return 'Nullable(String)';
    return metricType(col as Metric);
  };
  // Names come from the catalog (checked by toQuestion), never from the request as typed.
  return ['export_row UInt32', ...columns.map((col) => `\`${col}\` ${type(col)}`)].join(', ');
}

function parquetInput(rows: QueryRow[], columns: string[]): Buffer {
  const lines = rows.map((row, i) => {
    const out: Record<string, unknown> = { export_row: i };
    for (const col of columns) {
      const v = row[col];
      out[col] = col === 'time' ? chTime(Date.parse(v as string)) : col === 'other' ? v === true : (v ?? null);
    }
    return JSON.stringify(out);
  });
  return Buffer.from(lines.length ? lines.join('\n') + '\n' : '');
}
