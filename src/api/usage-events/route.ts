import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { usageEventSchema } from '../../ingest/event-schema.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';

export const usageEventRoute = createRoute({
  method: 'post',
  path: '/api/v1/usage/events',
  tags: ['ingest'],
  summary: 'Record one usage event (seed 003 shape)',
  description:
    'The user is the API key\'s user (or the key itself when it has none); the tenant is the key\'s tenant. ' +
    'Validated and priced as /api/v1/events does; accepted (202) once appended to the ingest journal, from which events are inserted in ' +
    'groups within INGEST_JOURNAL_FLUSH_MS (a read through this server waits for them). 503 STORE_UNAVAILABLE while the journal cannot be inserted.',
  security: [{ bearer: [] }],
  middleware: requireScope('ingest'),
  request: { body: { required: true, content: { 'application/json': { schema: usageEventSchema.openapi('UsageEventRequest') } } } },
  responses: {
    202: {
      description: 'Stored',
      content: { 'application/json': { schema: z.object({ status: z.literal('accepted') }).openapi('UsageEventAccepted') } },
    },
    ...errorResponses,
  },
});

export function registerUsageEvents(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageEventRoute, async (c) => {
    const body = c.req.valid('json');
    const p = c.get('principal');
    const result = await c.get('services').ingest.ingestOwn({ tenantId: p.tenant.id, apiKeyId: p.key.id }, [
      {
        event_type: body.event_type,
        metadata: body.metadata,
        source: body.source,
        user_id: p.key.userId ?? p.key.id,
      },
    ]);
    const r = result.rejected[0];
    if (r) throw new ApiError(400, r.code, r.message, { path: r.path });
    return c.json({ status: 'accepted' as const }, 202);
  });
}
