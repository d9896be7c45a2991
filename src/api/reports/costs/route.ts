import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached } from '../../response-cache.js';
import { buildCosts } from '../build.js';
import { reportWindowQuery, resolveWindow } from '../window.js';
import { costsSchema } from './report.js';

export const costsRoute = createRoute({
  method: 'get',
  path: '/api/v1/reports/costs',
  tags: ['reports'],
  summary: "Cost by service type (event type) of [from, to), priced with the tenant's unit rates where set (seed 001)",
  description:
    'cost_usd is the metered cost of the events; where the tenant has a unit rate for a type (tenant_unit_rates), ' +
    'estimated_cost_usd = events × rate, exactly. Default window: the last 30 days. Cached 5 minutes.',
  security: [{ bearer: [] }],
  middleware: [requireScope('read'), cached('reports.costs')] as const,
  request: { query: reportWindowQuery },
  responses: { 200: { description: 'Costs by service type', content: { 'application/json': { schema: costsSchema } } }, ...errorResponses },
});

export function registerCostsReport(app: OpenAPIHono<AppEnv>) {
  app.openapi(costsRoute, async (c) => {
    const w = resolveWindow(c.req.valid('query'));
    return c.json(await buildCosts(c.get('services'), c.get('principal').tenant, w, 'reports.costs'), 200);
  });
}
