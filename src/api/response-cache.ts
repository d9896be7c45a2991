import { createKeyv as createRedisKeyv } from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { createKeyv as createMemoryKeyv } from 'cacheable';
import crypto from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { Metrics } from '../metrics.js';
import type { AppEnv } from './env.js';

/**
 * Responses cached per tenant + route + query hash (`analytics:{tenant}:{route}:{hash}`), in
 * Redis when REDIS_URL is set, in memory otherwise (cache-manager over Keyv either way). The
 * tenant comes from the API key, so one tenant's entry can never answer another's request.
 */
export interface ResponseCache {
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

export interface CachedResponse {
  status: number;
  contentType: string;
  body: string;
}

export function createResponseCache(redisUrl: string | undefined): ResponseCache {
  // While Redis is away, commands fail at once (disableOfflineQueue) rather than queue until it
  // is back: a request must not wait on its cache. The client reconnects by itself.
  const store = redisUrl
    ? createRedisKeyv({ url: redisUrl, disableOfflineQueue: true }, { namespace: 'tallyhouse', throwOnConnectError: false, connectionTimeout: CACHE_OP_TIMEOUT_MS })
    : createMemoryKeyv({ lruSize: 10_000 });
  const cache: Cache = createCache({ stores: [store] });
  return {
    async get(key) {
      try {
        return (await withTimeout(cache.get<CachedResponse>(key))) ?? undefined;
      } catch {
        return undefined; // a cache that is down is a miss, never an error
      }
    },
    async set(key, value, ttlMs) {
      await withTimeout(cache.set(key, value, ttlMs)).catch(() => {});
    },
    async close() {
      await cache.disconnect().catch(() => {});
    },
  };
}

/** A cache that does not answer within this is treated as down for that request (a miss). */
const CACHE_OP_TIMEOUT_MS = 500;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('cache timeout')), CACHE_OP_TIMEOUT_MS)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const SUMMARY_TTL_MS = 60_000;
export const DEFAULT_TTL_MS = 5 * 60_000;

/** Caches 200 answers of a GET route; `X-Cache: HIT|MISS` says which it was. */
export const cached = (endpoint: string, ttlMs = DEFAULT_TTL_MS) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { responseCache, metrics, config } = c.get('services');
    if (!config.cacheEnabled) return next();
    const url = new URL(c.req.url);
    const params = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const hash = crypto.createHash('sha256').update(url.pathname + '?' + JSON.stringify(params)).digest('hex').slice(0, 32);
    const key = `analytics:${c.get('principal').tenant.id}:${endpoint}:${hash}`;
    const hit = await responseCache.get(key);
    if (hit) {
      recordCache(metrics, endpoint, true);
      c.header('X-Cache', 'HIT');
      return c.body(hit.body, hit.status as 200, { 'Content-Type': hit.contentType });
    }
    recordCache(metrics, endpoint, false);
    await next();
    c.res.headers.set('X-Cache', 'MISS');
    if (c.res.status === 200 && !c.res.headers.get('content-disposition')) {
      const body = await c.res.clone().text();
      await responseCache.set(key, { status: 200, contentType: c.res.headers.get('content-type') ?? 'application/json', body }, ttlMs);
    }
  });

function recordCache(metrics: Metrics, endpoint: string, hit: boolean) {
  (hit ? metrics.cacheHits : metrics.cacheMisses).inc({ endpoint });
}
