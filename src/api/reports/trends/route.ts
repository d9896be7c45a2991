import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached } from '../../response-cache.js';
import { buildTrends } from '../build.js';
import { ownTenant, tenantIdParam, tenantNotFound } from '../tenant-param.js';
import { reportWindowQuery, resolveWindow } from '../window.js';
import { trendsSchema } from './report.js';

const ok = { 200: { description: 'Daily series', content: { 'application/json': { schema: trendsSchema } } } };

export const trendsRoute = createRoute({
  method: 'get',
  path: '/api/v1/reports/trends',
  tags: ['reports'],
  summary: 'Daily events, requests, failures, cost and p95 latency of [from, to), gap-filled (seed 001)',
  description: 'One point per UTC day; days without events are 0. Default window: the last 30 days. Cached 5 minutes.',
  security: [{ bearer: [] }],
  middleware: [requireScope('read'), cached('reports.trends')] as const,
  request: { query: reportWindowQuery },
  responses: { ...ok, ...errorResponses },
});

/** Seed 001's path: the trends of a tenant by id, which must be the key's own. */
export const tenantTrendsRoute = createRoute({
  method: 'get',
  path: '/api/v1/reports/trends/{id}',
  tags: ['reports'],
  summary: "The trends report of the key's own tenant; any other id is 404 (seed 001)",
  security: [{ bearer: [] }],
  middleware: [requireScope('read'), cached('reports.trends')] as const,
  request: { params: tenantIdParam, query: reportWindowQuery },
  responses: { ...ok, ...errorResponses, 404: tenantNotFound },
});

export function registerTrendsReport(app: OpenAPIHono<AppEnv>) {
  app.openapi(trendsRoute, async (c) => {
    const w = resolveWindow(c.req.valid('query'));
    return c.json(await buildTrends(c.get('services'), c.get('principal').tenant, w, 'reports.trends'), 200);
  });
  app.openapi(tenantTrendsRoute, async (c) => {
    const tenant = ownTenant(c, c.req.valid('param').id);
    const w = resolveWindow(c.req.valid('query'));
    return c.json(await buildTrends(c.get('services'), tenant, w, 'reports.trends'), 200);
  });
}
