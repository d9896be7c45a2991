import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerUsageDashboards } from './dashboards.js';
import { registerUsageLlmTokens } from './llm-tokens.js';
import { registerUsageQueries } from './queries.js';
import { registerUsageSummary } from './summary.js';
import { registerUsageUsers } from './users.js';

/** Seed 003's usage monitoring summaries (admin keys): summary, users, queries, dashboards, llm-tokens. */
export function registerUsageMonitoring(app: OpenAPIHono<AppEnv>) {
  registerUsageSummary(app);
  registerUsageUsers(app);
  registerUsageQueries(app);
  registerUsageDashboards(app);
  registerUsageLlmTokens(app);
}
