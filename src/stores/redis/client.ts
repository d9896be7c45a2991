import { Redis } from 'ioredis';

/**
 * The shared ioredis connection (server mode). Commands issued while Redis is away fail fast
 * instead of queueing forever, so a cache or rate-limit lookup can fall back instead of hanging.
 */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
  redis.on('error', () => {}); // reconnects by itself; callers see the failed command
  return redis;
}
