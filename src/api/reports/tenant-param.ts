import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ApiError, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';
import type { Tenant } from '../../tenancy/tenant-store.js';

/** `{id}` of the per-tenant report routes. Any string: an id that is not the key's tenant is a 404 either way. */
export const tenantIdParam = z.object({
  id: z
    .string()
    .max(200)
    .openapi({ param: { name: 'id', in: 'path' }, format: 'uuid', description: "The API key's own tenant id", example: '0b6f3c1e-6a55-4a5e-9c57-3f0f2f7f9a10' }),
});

export const tenantNotFound = {
  description: 'NOT_FOUND: no report for this id (another tenant\'s id reads the same as an unknown one)',
  content: { 'application/json': { schema: errorSchema } },
};

/**
 * The key's tenant when `id` names it. Another tenant's id is a 404 exactly like an id that
 * does not exist (seed 001: cross-tenant access returns 404), so a key cannot probe which
 * tenant ids exist.
 */
export function ownTenant(c: Context<AppEnv>, id: string): Tenant {
  const tenant = c.get('principal').tenant;
  if (id.toLowerCase() !== tenant.id.toLowerCase()) throw new ApiError(404, 'NOT_FOUND', `no tenant report for id "${id}"`, { field: 'id' });
  return tenant;
}
