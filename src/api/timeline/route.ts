import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { timelinePage } from '../../control/incidents/timeline-store.js';
import { requireScope } from '../auth.js';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { isoTime, json, pageFields, parseCursor, parseRange } from '../incidents/schemas.js';
import { timelineEntrySchema } from './schemas.js';

const timeline = createRoute({
  method: 'get',
  path: '/api/v1/timeline',
  tags: ['timeline'],
  summary: 'One stream of everything that happened in the tenant (seed 004 §6.3): budgets, anomalies, incidents, keys…, newest first',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: {
    query: z.object({
      from: isoTime.optional().openapi({ description: 'Inclusive start' }),
      to: isoTime.optional().openapi({ description: 'Exclusive end' }),
      event_type: z.string().min(1).max(128).optional().openapi({ description: 'Only this type, e.g. incident.opened' }),
      ...pageFields,
    }),
  },
  responses: { 200: json(z.object({ events: z.array(timelineEntrySchema), next_cursor: z.string().nullable() }).openapi('Timeline'), 'A page of domain events'), ...errorResponses },
});

export function registerTimeline(app: OpenAPIHono<AppEnv>) {
  app.openapi(timeline, async (c) => {
    const q = c.req.valid('query');
    const page = await timelinePage(c.get('services').pg.pool, c.get('principal').tenant.id, {
      ...parseRange(q.from, q.to),
      eventType: q.event_type,
      cursor: parseCursor(q.cursor),
      limit: q.limit,
    });
    return c.json({ events: page.items, next_cursor: page.nextCursor }, 200);
  });
}
