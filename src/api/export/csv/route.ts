import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { stringify } from 'csv-stringify/sync';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { buildCosts, buildOverview, buildTenantReport, buildTrends } from '../../reports/build.js';
import { reportWindowQuery, resolveWindow } from '../../reports/window.js';
import { costsTable, overviewTable, tenantTable, trendsTable, type Table } from './tables.js';

export const CSV_REPORT_TYPES = ['overview', 'trends', 'costs', 'tenant'] as const;

const params = z.object({
  type: z
    .enum(CSV_REPORT_TYPES, { error: `must be one of: ${CSV_REPORT_TYPES.join(', ')}` })
    .openapi({ param: { name: 'type', in: 'path' }, description: 'Which report', example: 'overview' }),
});

export const csvExportRoute = createRoute({
  method: 'get',
  path: '/api/v1/export/csv/{type}',
  tags: ['reports'],
  summary: 'A report of the key\'s tenant as a CSV file (seed 001)',
  description:
    'overview: seed 001\'s columns tenant_id,tenant_name,total_workflows,failure_rate_percent. trends: one row per UTC day. ' +
    'costs: one row per service type. tenant: the overview, costs and trends as section,date,service_type,metric,value rows. ' +
    'The numbers are those of the JSON reports for the same window; empty cells are nulls there. ' +
    'Cells starting with = + - @ are prefixed with \' (spreadsheet formula injection).',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params, query: reportWindowQuery },
  responses: {
    200: {
      description: 'The CSV file, with Content-Disposition: attachment; filename=<type>_report.csv',
      content: { 'text/csv': { schema: z.string() } },
    },
    ...errorResponses,
  },
});

export function registerCsvExport(app: OpenAPIHono<AppEnv>) {
  app.openapi(csvExportRoute, async (c) => {
    const { type } = c.req.valid('param');
    const w = resolveWindow(c.req.valid('query'));
    const s = c.get('services');
    const tenant = c.get('principal').tenant;
    const endpoint = `export.csv.${type}`;
    let table: Table;
    switch (type) {
      case 'overview':
        table = overviewTable(await buildOverview(s, tenant, w, endpoint), tenant.name);
        break;
      case 'trends':
        table = trendsTable(await buildTrends(s, tenant, w, endpoint));
        break;
      case 'costs':
        table = costsTable(await buildCosts(s, tenant, w, endpoint));
        break;
      case 'tenant':
        table = tenantTable(await buildTenantReport(s, tenant, w, endpoint));
        break;
    }
    const csv = stringify(table.rows, { header: true, columns: table.columns, escape_formulas: true });
    return c.body(csv, 200, {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename=${type}_report.csv`,
    });
  });
}
