import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { anomalyJson } from '../../control/incidents/record.js';
import { getAnomaly, listAnomalies } from '../../control/incidents/store.js';
import { ANOMALY_TYPES, SEVERITIES } from '../../control/incidents/types.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { anomalySchema, idParam, isoTime, json, notFound, pageFields, parseCursor, parseRange } from './schemas.js';

const listQuery = z.object({
  type: z.enum(ANOMALY_TYPES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  from: isoTime.optional().openapi({ description: 'Detected at or after (inclusive)' }),
  to: isoTime.optional().openapi({ description: 'Detected before (exclusive)' }),
  ...pageFields,
});

const list = createRoute({
  method: 'get',
  path: '/api/v1/anomalies',
  tags: ['incidents'],
  summary: 'Anomalies detection recorded, newest first (every finding, including those that paged no one)',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { query: listQuery },
  responses: { 200: json(z.object({ anomalies: z.array(anomalySchema), next_cursor: z.string().nullable() }), 'A page of anomalies'), ...errorResponses },
});

const get = createRoute({
  method: 'get',
  path: '/api/v1/anomalies/{id}',
  tags: ['incidents'],
  summary: 'One anomaly (incident_id names the incident it opened or joined)',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: idParam },
  responses: { 200: json(anomalySchema, 'The anomaly'), ...errorResponses, ...notFound('ANOMALY_NOT_FOUND', 'anomaly') },
});

export function registerAnomalyRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await listAnomalies(c.get('services').pg.pool, c.get('principal').tenant.id, {
      type: q.type,
      severity: q.severity,
      ...parseRange(q.from, q.to),
      cursor: parseCursor(q.cursor),
      limit: q.limit,
    });
    return c.json({ anomalies: page.items.map(anomalyJson), next_cursor: page.nextCursor }, 200);
  });
  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const a = await getAnomaly(c.get('services').pg.pool, c.get('principal').tenant.id, id);
    if (!a) throw new ApiError(404, 'ANOMALY_NOT_FOUND', `anomaly ${JSON.stringify(id)} not found`, { field: 'id' });
    return c.json(anomalyJson(a), 200);
  });
}
