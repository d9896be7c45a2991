import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached } from '../../response-cache.js';
import { buildOverview } from '../build.js';
import { reportWindowQuery, resolveWindow } from '../window.js';
import { overviewSchema, WORKFLOW_EVENT_TYPE } from './report.js';

export const overviewRoute = createRoute({
  method: 'get',
  path: '/api/v1/reports/overview',
  tags: ['reports'],
  summary: 'Runs, workflow success/failure, p95 latency and throughput of [from, to) (seed 001)',
  description:
    `Workflows are events of type ${WORKFLOW_EVENT_TYPE}; runs are distinct run_id values. Default window: the last 30 days. ` +
    'Cached 5 minutes per tenant and query.',
  security: [{ bearer: [] }],
  middleware: [requireScope('read'), cached('reports.overview')] as const,
  request: { query: reportWindowQuery },
  responses: { 200: { description: 'The overview', content: { 'application/json': { schema: overviewSchema } } }, ...errorResponses },
});

export function registerOverviewReport(app: OpenAPIHono<AppEnv>) {
  app.openapi(overviewRoute, async (c) => {
    const w = resolveWindow(c.req.valid('query'));
    return c.json(await buildOverview(c.get('services'), c.get('principal').tenant, w, 'reports.overview'), 200);
  });
}
