import { createMiddleware } from 'hono/factory';
import { ApiError } from '../errors.js';
import type { AppEnv } from '../env.js';

/**
 * Feature flags of the analytics routes (seed 002): ANALYTICS_ENABLED=false makes them 404 as
 * if absent; free-tier tenants get 403 ANALYTICS_NOT_AVAILABLE unless ANALYTICS_FREE_TIER=true.
 * Runs after authentication (the plan is the key's tenant's).
 */
export const analyticsEnabled = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get('services').config.analytics.enabled) {
    throw new ApiError(404, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`);
  }
  await next();
});

export const analyticsPlan = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.get('services');
  if (c.get('principal').tenant.plan === 'free' && !config.analytics.freeTier) {
    throw new ApiError(403, 'ANALYTICS_NOT_AVAILABLE', 'analytics require the Pro or Enterprise plan');
  }
  await next();
});
