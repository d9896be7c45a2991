import type { Redis } from 'ioredis';
import { createMiddleware } from 'hono/factory';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError } from './errors.js';
import type { AppEnv } from './env.js';

/**
 * Per-API-key request limit (rate-limiter-flexible): shared through Redis when there is one,
 * so several API processes enforce one budget; in memory otherwise. If Redis is unreachable
 * the in-memory limiter takes over (insuranceLimiter) rather than failing requests.
 */
export function createRateLimiter(perMinute: number, redis?: Redis): RateLimiterAbstract | null {
  if (perMinute <= 0) return null;
  const memory = new RateLimiterMemory({ points: perMinute, duration: 60, keyPrefix: 'rl' });
  if (!redis) return memory;
  return new RateLimiterRedis({ storeClient: redis, points: perMinute, duration: 60, keyPrefix: 'tallyhouse:rl', insuranceLimiter: memory });
}

/** After authentication: one point per request, keyed by the API key. */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const limiter = c.get('services').rateLimiter;
  if (limiter) {
    try {
      const res = await limiter.consume(c.get('principal').key.id);
      c.header('X-RateLimit-Remaining', String(res.remainingPoints));
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const retry = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      throw new ApiError(429, 'RATE_LIMITED', `rate limit exceeded; retry in ${retry} s`, { retry_after_sec: retry }, {
        'Retry-After': String(retry),
      });
    }
  }
  await next();
});
