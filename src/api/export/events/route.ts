import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { chTime } from '../../../ingest/event-rows.js';
import { analyticsEnabled, analyticsPlan } from '../../analytics/gate.js';
import { requireScope } from '../../auth.js';
import type { AppEnv } from '../../env.js';
import { checkWindow } from '../../time-window.js';
import { ApiError } from '../../errors.js';
import { exportResponses, formatParam, FORMATS } from '../formats.js';
import { clientGone, openExport, streamResponse } from '../stream-response.js';
import { eventsExportSql } from './sql.js';


const isoTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z' });

const query = z.object({
  from: isoTime.openapi({ description: 'Inclusive start' }),
  to: isoTime.openapi({ description: 'Exclusive end' }),
  format: formatParam,
  event_type: z.string().min(1).max(128).optional().openapi({ description: 'Only events of this type' }),
});

export const exportEventsRoute = createRoute({
  method: 'get',
  path: '/api/v1/export/events',
  tags: ['export'],
  summary: "The key's tenant's raw events in [from, to), streamed as CSV, JSON, NDJSON or Parquet",
  description:
    'The stored fields of GET /api/v1/events, oldest first, without buffering: memory stays flat at any row count. cost_usd is exact ' +
    'decimal USD (a string in CSV/JSON, Decimal(38, 9) in Parquet); ts and ingested_at are RFC 3339 UTC (timestamps in Parquet); ' +
    'CSV carries metadata as a JSON object. Closing the connection cancels the query. Not cached.',
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan],
  request: { query },
  responses: exportResponses('The events'),
});

export function registerExportEvents(app: OpenAPIHono<AppEnv>) {
  app.openapi(exportEventsRoute, async (c) => {
    const q = c.req.valid('query');
    const fromMs = Date.parse(q.from);
    const toMs = Date.parse(q.to);
    checkWindow(fromMs, toMs);

    const { ch, metrics } = c.get('services');
    const started = performance.now();
    const format = FORMATS[q.format].engine;
    // Bounds bind as UTC text: a bare DateTime64 parameter would be read in the server's zone.
    const body = await openExport(c, () =>
      ch.stream(
        eventsExportSql(format, { eventType: q.event_type !== undefined }),
        { tenant: c.get('principal').tenant.id, from: chTime(fromMs), to: chTime(toMs), ...(q.event_type === undefined ? {} : { event_type: q.event_type }) },
        format,
        c.req.raw.signal,
      ),
    );
    if (!body) return clientGone();
    return streamResponse(c, body, q.format, 'events', () => {
      metrics.queryDuration.observe({ endpoint: 'export.events', source: 'raw' }, (performance.now() - started) / 1000);
    });
  });
}
