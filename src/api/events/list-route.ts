import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { chTime } from '../../ingest/event-rows.js';
import { nanoToUsd } from '../../ingest/money.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import type { ClickHouseStore } from '../../stores/clickhouse/store.js';

const isoTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z' });

export const eventsPageQuery = z.object({
  from: isoTime.optional().openapi({ description: 'Inclusive start (default: 24 h before `to`)' }),
  to: isoTime.optional().openapi({ description: 'Exclusive end (default: now)' }),
  event_type: z.string().max(128).optional(),
  run_id: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    // At most 15 digits of milliseconds: a longer number is no cursor we issued and would fail
    // to bind as Int64 (a 500 instead of a 400). [\s\S], not ".": an event_id may hold U+2028,
    // which "." does not match, and our own next_cursor was refused.
    .regex(/^\d{1,15}:[\s\S]{1,200}$/, 'must be a cursor returned as next_cursor')
    .optional()
    .openapi({ description: 'next_cursor of the previous page' }),
});

export const storedEvent = z
  .object({
    event_id: z.string(),
    ts: z.string(),
    ingested_at: z.string(),
    event_type: z.string(),
    project: z.string(),
    environment: z.string(),
    user_id: z.string(),
    agent_id: z.string(),
    api_key_id: z.string(),
    feature: z.string(),
    model: z.string(),
    provider: z.string(),
    endpoint: z.string(),
    run_id: z.string(),
    policy_id: z.string(),
    source: z.string(),
    success: z.boolean(),
    status: z.string(),
    requests: z.number(),
    input_tokens: z.string().openapi({ description: '64-bit, as a string' }),
    output_tokens: z.string(),
    compute_units: z.string(),
    latency_ms: z.number().nullable(),
    cost_usd: z.string().openapi({ description: 'Exact decimal USD', example: '0.0075' }),
    cost_unpriced: z.boolean(),
    metadata: z.record(z.string(), z.string()),
  })
  .openapi('StoredEvent');

export const listEventsRoute = createRoute({
  method: 'get',
  path: '/api/v1/events',
  tags: ['ingest'],
  summary: 'Read back stored events, newest first, in [from, to)',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { query: eventsPageQuery },
  responses: {
    200: {
      description: 'A page of events',
      content: { 'application/json': { schema: z.object({ events: z.array(storedEvent), next_cursor: z.string().nullable() }) } },
    },
    ...errorResponses,
  },
});

// Aliases differ from column names: ClickHouse resolves a name to its alias everywhere in the query.
interface Row extends Omit<z.infer<typeof storedEvent>, 'cost_usd' | 'cost_unpriced' | 'ts' | 'ingested_at'> {
  ts_iso: string;
  ingested_iso: string;
  ts_ms: string;
  cost_nano: string;
  cost_unpriced: number;
}

export function registerListEvents(app: OpenAPIHono<AppEnv>) {
  app.openapi(listEventsRoute, async (c) => {
    const q = c.req.valid('query');
    const toMs = q.to ? Date.parse(q.to) : Date.now();
    const fromMs = q.from ? Date.parse(q.from) : toMs - 86_400_000;
    if (fromMs >= toMs) throw new ApiError(400, 'INVALID_DATE_RANGE', '`from` must be before `to`', { from: q.from, to: q.to });
    return c.json(await listStoredEvents(c.get('services').ch, c.get('principal').tenant.id, { fromMs, toMs, eventType: q.event_type, runId: q.run_id, cursor: q.cursor, limit: q.limit }), 200);
  });
}

/** One page of a tenant's stored events, newest first (also GET /api/v1/runs/{run_id}/events). */
export async function listStoredEvents(
  ch: ClickHouseStore,
  tenantId: string,
  q: { fromMs: number; toMs: number; eventType?: string; runId?: string; cursor?: string; limit: number },
): Promise<{ events: z.infer<typeof storedEvent>[]; next_cursor: string | null }> {
  const { fromMs, toMs } = q;
  const cursor = q.cursor ? { ms: Number(q.cursor.slice(0, q.cursor.indexOf(':'))), id: q.cursor.slice(q.cursor.indexOf(':') + 1) } : null;
  // The bounds bind as UTC text: a bare DateTime64(3) parameter is read in the server's time
  // zone, which shifted the window on a host not on UTC.
  const rows = await ch.query<Row>(
    `SELECT event_id, formatDateTime(ts, '%Y-%m-%dT%H:%i:%S.%fZ') AS ts_iso, formatDateTime(ingested_at, '%Y-%m-%dT%H:%i:%S.%fZ') AS ingested_iso,
            toString(toUnixTimestamp64Milli(ts)) AS ts_ms,
            event_type, project, environment, user_id, agent_id, api_key_id, feature, model, provider, endpoint,
            run_id, policy_id, source, success, status, requests, input_tokens, output_tokens, compute_units,
            latency_ms, toString(cost_nano) AS cost_nano, cost_unpriced, metadata
     FROM events
     WHERE tenant_id = {tenant:String} AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
       AND ({type:String} = '' OR event_type = {type:String})
       AND ({run:String} = '' OR run_id = {run:String})
       AND ({has_cursor:UInt8} = 0 OR (toUnixTimestamp64Milli(ts), event_id) < ({cursor_ms:Int64}, {cursor_id:String}))
     ORDER BY ts DESC, event_id DESC
     LIMIT {limit:UInt32}`,
    {
      tenant: tenantId,
      from: chTime(fromMs),
      to: chTime(toMs),
      type: q.eventType ?? '',
      run: q.runId ?? '',
      has_cursor: cursor ? 1 : 0,
      cursor_ms: cursor?.ms ?? 0,
      cursor_id: cursor?.id ?? '',
      limit: q.limit,
    },
  );
  const events = rows.map(({ ts_ms: _ms, ts_iso, ingested_iso, cost_nano, cost_unpriced, ...r }) => ({
    ...r,
    // formatDateTime %f prints 6 digits for DateTime64(3); keep milliseconds.
    ts: ts_iso.replace(/(\.\d{3})\d*Z$/, '$1Z'),
    ingested_at: ingested_iso.replace(/(\.\d{3})\d*Z$/, '$1Z'),
    cost_usd: nanoToUsd(cost_nano),
    cost_unpriced: cost_unpriced === 1,
  }));
  const last = rows[rows.length - 1];
  return { events, next_cursor: rows.length === q.limit && last ? `${last.ts_ms}:${last.event_id}` : null };
}
