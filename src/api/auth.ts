import { createMiddleware } from 'hono/factory';
import type { Scope } from '../tenancy/keys.js';
import type { Principal } from '../tenancy/tenant-store.js';
import { ApiError } from './errors.js';
import { rateLimit } from './rate-limit.js';
import type { AppEnv } from './env.js';

/**
 * Bearer API key → principal (tenant + key). The tenant of every request comes from here and
 * nowhere else. `admin` implies `read` and `ingest`.
 */
export const requireScope = (scope: Scope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new ApiError(401, 'UNAUTHORIZED', 'missing API key: send Authorization: Bearer <key>', undefined, { 'WWW-Authenticate': 'Bearer' });
    const principal = await c.get('services').tenants.authenticate(m[1]!);
    if (!principal) throw new ApiError(401, 'UNAUTHORIZED', 'invalid or revoked API key', undefined, { 'WWW-Authenticate': 'Bearer' });
    if (!hasScope(principal, scope)) {
      throw new ApiError(403, 'FORBIDDEN', `this API key lacks the "${scope}" scope`, {
        required: scope,
        granted: principal.key.scopes,
      });
    }
    c.set('principal', principal);
    await rateLimit(c, next);
  });

export const hasScope = (p: Principal, scope: Scope) => p.key.scopes.includes(scope) || p.key.scopes.includes('admin');
