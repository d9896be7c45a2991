import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { IncidentTransitionError, incidentJson, transitionIncident } from '../../control/incidents/record.js';
import { getIncident, listIncidents } from '../../control/incidents/store.js';
import { INCIDENT_STATUSES, SEVERITIES } from '../../control/incidents/types.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses, errorSchema } from '../errors.js';
import type { Context } from 'hono';
import type { AppEnv } from '../env.js';
import { idParam, incidentNotFound, incidentSchema, json, notFound, pageFields, parseCursor } from './schemas.js';

const conflict = {
  409: {
    description: 'INCIDENT_ALREADY_ACKNOWLEDGED or INCIDENT_ALREADY_RESOLVED: the state machine is open → acknowledged → resolved (open → resolved too)',
    content: { 'application/json': { schema: errorSchema } },
  },
};

const list = createRoute({
  method: 'get',
  path: '/api/v1/incidents',
  tags: ['incidents'],
  summary: 'Incidents, newest opened first',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { query: z.object({ status: z.enum(INCIDENT_STATUSES).optional(), severity: z.enum(SEVERITIES).optional(), ...pageFields }) },
  responses: { 200: json(z.object({ incidents: z.array(incidentSchema), next_cursor: z.string().nullable() }), 'A page of incidents'), ...errorResponses },
});

const get = createRoute({
  method: 'get',
  path: '/api/v1/incidents/{id}',
  tags: ['incidents'],
  summary: 'One incident',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: idParam },
  responses: { 200: json(incidentSchema, 'The incident'), ...errorResponses, ...notFound('INCIDENT_NOT_FOUND', 'incident') },
});

const ack = createRoute({
  method: 'post',
  path: '/api/v1/incidents/{id}/acknowledge',
  tags: ['incidents'],
  summary: 'Acknowledge an open incident (who: the API key’s name and id)',
  security: [{ bearer: [] }],
  middleware: requireScope('admin'),
  request: { params: idParam },
  responses: { 200: json(incidentSchema, 'The acknowledged incident'), ...errorResponses, ...notFound('INCIDENT_NOT_FOUND', 'incident'), ...conflict },
});

const resolve = createRoute({
  method: 'post',
  path: '/api/v1/incidents/{id}/resolve',
  tags: ['incidents'],
  summary: 'Resolve an open or acknowledged incident, with an optional note; it then counts towards MTTR',
  security: [{ bearer: [] }],
  middleware: requireScope('admin'),
  request: {
    params: idParam,
    body: { required: false, content: { 'application/json': { schema: z.object({ note: z.string().max(4000).optional() }) } } },
  },
  responses: { 200: json(incidentSchema, 'The resolved incident'), ...errorResponses, ...notFound('INCIDENT_NOT_FOUND', 'incident'), ...conflict },
});

export function registerIncidentRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const page = await listIncidents(c.get('services').pg.pool, c.get('principal').tenant.id, {
      status: q.status,
      severity: q.severity,
      cursor: parseCursor(q.cursor),
      limit: q.limit,
    });
    return c.json({ incidents: page.items.map(incidentJson), next_cursor: page.nextCursor }, 200);
  });
  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const inc = await getIncident(c.get('services').pg.pool, c.get('principal').tenant.id, id);
    if (!inc) throw incidentNotFound(id);
    return c.json(incidentJson(inc), 200);
  });
  const transition = async (c: Context<AppEnv>, id: string, to: 'acknowledged' | 'resolved', note?: string) => {
    const { tenant, key } = c.get('principal');
    const { pg, notifications } = c.get('services');
    try {
      const inc = await transitionIncident({ pool: pg.pool, notifications }, tenant.id, id, to, `${key.name} (${key.id})`, { note });
      if (!inc) throw incidentNotFound(id);
      return incidentJson(inc);
    } catch (e) {
      if (e instanceof IncidentTransitionError) throw new ApiError(409, e.code, e.message, { status: to });
      throw e;
    }
  };
  app.openapi(ack, async (c) => c.json(await transition(c, c.req.valid('param').id, 'acknowledged'), 200));
  app.openapi(resolve, async (c) => {
    // The body is optional: a bare POST resolves without a note.
    const body = c.req.header('content-type')?.includes('application/json') ? c.req.valid('json') : {};
    return c.json(await transition(c, c.req.valid('param').id, 'resolved', body?.note), 200);
  });
}
