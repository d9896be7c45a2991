import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env.js';
import { registerAgentActivity } from './agent-activity.js';
import { registerCredentialRotations } from './credential-rotations.js';
import { registerEndpointPatterns } from './endpoint-patterns.js';
import { registerTokenTrends } from './token-trends.js';
import { registerUsageSummary } from './usage-summary.js';

/** Seed 002's agent analytics: usage summary, agent heatmap, token trends, rotations, endpoints. */
export function registerAgentAnalytics(app: OpenAPIHono<AppEnv>) {
  registerUsageSummary(app);
  registerAgentActivity(app);
  registerTokenTrends(app);
  registerCredentialRotations(app);
  registerEndpointPatterns(app);
}
