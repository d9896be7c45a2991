import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerCostStatistics } from './cost-route.js';
import { registerStatisticsExports } from './export-routes.js';
import { registerUsageStatistics } from './usage-route.js';

/** Seed 000 statistics: usage, cost and their CSV / JSON exports. */
export function registerStatistics(app: OpenAPIHono<AppEnv>) {
  registerUsageStatistics(app);
  registerCostStatistics(app);
  registerStatisticsExports(app);
}
