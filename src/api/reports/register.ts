import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerCostsReport } from './costs/route.js';
import { registerOverviewReport } from './overview/route.js';
import { registerTenantReport } from './tenant/route.js';
import { registerTrendsReport } from './trends/route.js';

/**
 * Seed 001's reports. Not behind ANALYTICS_ENABLED or the free-tier gate: those flags belong to
 * the analytics domain (seed 002); a report is what every tenant's read key can see of its data.
 */
export function registerReports(app: OpenAPIHono<AppEnv>) {
  registerOverviewReport(app);
  registerTrendsReport(app);
  registerCostsReport(app);
  registerTenantReport(app);
}
