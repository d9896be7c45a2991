import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached } from '../../response-cache.js';
import { buildTenantReport } from '../build.js';
import { costsSchema } from '../costs/report.js';
import { overviewSchema } from '../overview/report.js';
import { ownTenant, tenantIdParam, tenantNotFound } from '../tenant-param.js';
import { trendsSchema } from '../trends/report.js';
import { reportWindowQuery, resolveWindow, windowSchema } from '../window.js';

export const tenantReportSchema = z
  .object({
    tenant_id: z.string(),
    tenant_name: z.string(),
    window: windowSchema,
    overview: overviewSchema,
    costs: costsSchema,
    trends: trendsSchema,
  })
  .openapi('ReportTenant');

export const tenantReportRoute = createRoute({
  method: 'get',
  path: '/api/v1/reports/tenant/{id}',
  tags: ['reports'],
  summary: "Overview, costs and trends of the key's own tenant; any other id is 404 (seed 001)",
  description: 'Default window: the last 30 days. Cached 5 minutes.',
  security: [{ bearer: [] }],
  middleware: [requireScope('read'), cached('reports.tenant')] as const,
  request: { params: tenantIdParam, query: reportWindowQuery },
  responses: {
    200: { description: 'The tenant report', content: { 'application/json': { schema: tenantReportSchema } } },
    ...errorResponses,
    404: tenantNotFound,
  },
});

export function registerTenantReport(app: OpenAPIHono<AppEnv>) {
  app.openapi(tenantReportRoute, async (c) => {
    const tenant = ownTenant(c, c.req.valid('param').id);
    const w = resolveWindow(c.req.valid('query'));
    return c.json(await buildTenantReport(c.get('services'), tenant, w, 'reports.tenant'), 200);
  });
}
