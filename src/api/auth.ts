import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Scope } from '../tenancy/keys.js';
import type { Principal } from '../tenancy/tenant-store.js';
import { ApiError } from './errors.js';
import { rateLimit } from './rate-limit.js';
import type { AppEnv } from './env.js';

/**
 * Bearer API key → principal (tenant + key). The tenant of every request comes from here and
 * nowhere else. `admin` implies `read` and `ingest`.
 *
 * Keys are never logged: the header is read here only, and neither it nor the key appears in
 * an error message, a log line or a metric label.
 */
export const requireScope = (scope: Scope) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new ApiError(401, 'UNAUTHORIZED', 'missing API key: send Authorization: Bearer <key>', undefined, { 'WWW-Authenticate': 'Bearer' });
    const { tenants, authFailures } = c.get('services');
    const source = sourceAddress(c);
    // Checked before the key is: a source over its budget learns nothing about its next guess.
    if (authFailures) await refuseIfBlocked(authFailures, source);
    const principal = await tenants.authenticate(m[1]!);
    if (!principal) {
      if (authFailures) await countFailure(authFailures, source);
      throw new ApiError(401, 'UNAUTHORIZED', 'invalid or revoked API key', undefined, { 'WWW-Authenticate': 'Bearer' });
    }
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

/**
 * Failed key attempts (unknown, revoked, malformed) per source address: after `perMinute` of them
 * the source is refused with 429 for a minute, whatever key it sends. Shared through Redis when
 * there is one (several API processes enforce one budget); the in-memory limiter takes over
 * while Redis is unreachable. Keys hold 256 random bits, so guessing cannot succeed anyway;
 * this keeps a guesser from turning each guess into a Postgres lookup.
 */
export function createAuthFailureLimiter(perMinute: number, redis?: Redis): RateLimiterAbstract | null {
  if (perMinute <= 0) return null;
  const opts = { points: perMinute, duration: 60, blockDuration: 60 };
  const memory = new RateLimiterMemory({ ...opts, keyPrefix: 'authfail' });
  if (!redis) return memory;
  return new RateLimiterRedis({ ...opts, storeClient: redis, keyPrefix: 'tallyhouse:authfail', insuranceLimiter: memory });
}

/**
 * The peer address of the connection. X-Forwarded-For is not trusted (any client can send one
 * and would pick its own bucket); behind a proxy every request counts as the proxy's.
 */
function sourceAddress(c: Context<AppEnv>): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

async function refuseIfBlocked(limiter: RateLimiterAbstract, source: string) {
  const res = await limiter.get(source).catch(() => null);
  if (res && res.consumedPoints >= limiter.points) throw tooManyFailures(res.msBeforeNext);
}

async function countFailure(limiter: RateLimiterAbstract, source: string) {
  try {
    await limiter.consume(source);
  } catch (e) {
    if (e instanceof Error) throw e;
    // Rejected with a RateLimiterRes: this failure was over the budget. Still a 401 now (the key
    // was checked); the next attempts are refused by refuseIfBlocked.
  }
}

function tooManyFailures(msBeforeNext: number) {
  const retry = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new ApiError(429, 'RATE_LIMITED', `too many failed API key attempts from this address; retry in ${retry} s`, { retry_after_sec: retry }, {
    'Retry-After': String(retry),
  });
}
