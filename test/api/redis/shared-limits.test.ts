import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_REDIS_URL, serverRedisAvailable, startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';

// Server mode: two engines (as two API processes would) share one Redis. The per-key rate limit
// is one budget across both; a response cached by one is served by the other.
const redisUp = await serverRedisAvailable();

describe.skipIf(!redisUp)('Redis-backed rate limit and cache (server path)', () => {
  let a: TestEngine;
  let b: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    // One Postgres for both (the key must authenticate on either). chDB binds one data directory
    // per process, so the second engine shares the first's (a second session on the same path).
    a = await startTestEngine({ pg: 'server', env: { REDIS_URL: SERVER_REDIS_URL, RATE_LIMIT_PER_MINUTE: '5' } });
    const pgUrl = a.config.postgres.mode === 'server' ? a.config.postgres.url : '';
    b = await startTestEngine({ dataDir: a.dataDir, env: { REDIS_URL: SERVER_REDIS_URL, RATE_LIMIT_PER_MINUTE: '5', DATABASE_URL: pgUrl } });
    t = await a.newTenant();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('counts one budget per key across processes and answers 429 RATE_LIMITED with Retry-After', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const engine = i % 2 === 0 ? a : b;
      const r = await engine.request('GET', '/api/v1/events?limit=1', { key: t.read });
      statuses.push(r.status);
      if (r.status === 429) {
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
        const body = (await r.json()) as { error: { code: string } };
        expect(body.error.code).toBe('RATE_LIMITED');
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // Another key of the same tenant has its own budget.
    expect((await b.request('GET', '/api/v1/events?limit=1', { key: t.admin })).status).toBe(200);
  });

  it('shares cached responses through Redis, keyed by tenant', async () => {
    const key = `analytics:${t.id}:probe:${Date.now()}`;
    await a.services.responseCache.set(key, { status: 200, contentType: 'application/json', body: '{"ok":1}' }, 60_000);
    expect(await b.services.responseCache.get(key)).toEqual({ status: 200, contentType: 'application/json', body: '{"ok":1}' });
    expect(await b.services.responseCache.get(`analytics:other-tenant:probe:${Date.now()}`)).toBeUndefined();
  });
});
