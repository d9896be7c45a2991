import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { BatchParseError, BatchTooLargeError, formatOf, parseBatch } from '../../ingest/parse-batch.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';
import { readBody } from '../read-body.js';
import { eventDoc, ingestResultSchema } from './schemas.js';

// Documented from the zod schemas; the handler parses the body itself because one bad event
// must not fail the batch (each event is validated and answered on its own).
export const ingestEventsRoute = createRoute({
  method: 'post',
  path: '/api/v1/events',
  tags: ['ingest'],
  summary: 'Ingest a batch of usage and cost events',
  description:
    'A JSON array or NDJSON (application/x-ndjson), up to INGEST_MAX_EVENTS events and INGEST_MAX_BYTES bytes. ' +
    '202 means every accepted event is stored in ClickHouse. An event re-sent with the same event_id is counted once. ' +
    'The tenant comes from the API key (scope ingest); an event carrying tenant_id is rejected.',
  security: [{ bearer: [] }],
  request: {
    body: {
      required: true,
      content: {
        'application/json': { schema: z.array(eventDoc) },
        'application/x-ndjson': { schema: z.string().openapi({ description: 'One Event JSON object per line' }) },
      },
    },
  },
  responses: {
    202: { description: 'Stored; per-event rejections listed', content: { 'application/json': { schema: ingestResultSchema } } },
    ...errorResponses,
    413: { description: 'PAYLOAD_TOO_LARGE: over the event or byte limit', content: { 'application/json': { schema: errorSchema } } },
    415: { description: 'UNSUPPORTED_MEDIA_TYPE', content: { 'application/json': { schema: errorSchema } } },
  },
});

export function registerIngestEvents(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath(ingestEventsRoute);
  app.post(ingestEventsRoute.path, requireScope('ingest'), async (c) => {
    const { ingest, config } = c.get('services');
    const format = formatOf(c.req.header('content-type'));
    if (!format) {
      throw new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type must be application/json (an array of events) or application/x-ndjson; got ${JSON.stringify(c.req.header('content-type') ?? '')}`,
      );
    }
    const body = await readBody(c, config.ingest.maxBytes);
    let events: unknown[];
    try {
      events = parseBatch(body, format, config.ingest.maxEvents);
    } catch (e) {
      if (e instanceof BatchTooLargeError) {
        throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `batch too large: ${e.message} (INGEST_MAX_EVENTS=${e.limit})`, { limit: e.limit });
      }
      if (e instanceof BatchParseError) throw new ApiError(400, 'MALFORMED_BODY', e.message, e.line === undefined ? undefined : { line: e.line });
      throw e;
    }
    if (events.length === 0) throw new ApiError(400, 'EMPTY_BATCH', 'the batch holds no events');
    const p = c.get('principal');
    const result = await ingest.ingest({ tenantId: p.tenant.id, apiKeyId: p.key.id }, events);
    return c.json(result, 202);
  });
}
