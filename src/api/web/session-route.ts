import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { SCOPES } from '../../tenancy/keys.js';
import { requireScope } from '../auth.js';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';

/**
 * Who the presented key is: the dashboard's sign-in asks this once, so it can show the tenant's
 * name and plan without knowing the tenant id (every other route takes it from the key too).
 * `read` because every dashboard page needs it: an ingest-only key is refused at sign-in with a
 * 403 that says so, not later with a blank page.
 */
export const sessionSchema = z
  .object({
    tenant: z.object({ id: z.string(), name: z.string(), plan: z.enum(['free', 'pro', 'enterprise']), timezone: z.string() }),
    key: z.object({ id: z.string(), name: z.string(), prefix: z.string(), scopes: z.array(z.enum(SCOPES)) }),
  })
  .openapi('Session');

export const sessionRoute = createRoute({
  method: 'get',
  path: '/api/v1/session',
  tags: ['keys'],
  summary: 'The tenant and key behind the presented API key (dashboard sign-in)',
  security: [{ bearer: [] }],
  middleware: [requireScope('read')] as const,
  responses: { 200: { description: 'The session', content: { 'application/json': { schema: sessionSchema } } }, ...errorResponses },
});

export function registerSession(app: OpenAPIHono<AppEnv>) {
  app.openapi(sessionRoute, (c) => {
    const { tenant, key } = c.get('principal');
    return c.json(
      {
        tenant: { id: tenant.id, name: tenant.name, plan: tenant.plan, timezone: tenant.timezone },
        key: { id: key.id, name: key.name, prefix: key.prefix, scopes: key.scopes },
      },
      200,
    );
  });
}
