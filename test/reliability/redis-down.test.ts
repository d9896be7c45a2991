import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueWorker } from '../../src/jobs/queue-worker.js';
import type { JobDefinition } from '../../src/jobs/registry.js';
import { serverPostgresAvailable, startTestEngine, type TestEngine, type TestTenant } from '../helpers/engine.js';
import { freePort, RedisServer, until } from './fault-helpers.js';

// Server mode against a redis-server of this file's own (started, SIGKILLed and restarted on the
// same port here), so the machine's shared Redis and the other test files never notice.
const pgUp = await serverPostgresAvailable();
const HOUR = 3_600_000;
const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const WINDOW = `from=${new Date(base - 86_400_000).toISOString()}&to=${new Date(base + 4 * HOUR).toISOString()}&resolution=day`;
const STATS = `/api/v1/analytics/statistics/usage?${WINDOW}`;
const PER_MINUTE = 40;

describe.skipIf(!pgUp)('Redis stopped mid-run and restarted (server mode)', () => {
  let redis: RedisServer;
  let engine: TestEngine;
  let t: TestTenant;
  let worker: QueueWorker;
  const ran: number[] = [];
  let sent = 0;

  const job: JobDefinition = {
    name: 'fault.probe',
    everyMs: HOUR,
    attempts: 1,
    handler: async ({ windowStart }) => {
      ran.push(windowStart.getTime());
    },
  };

  const ingest = async (n: number, key = t.ingest, ids?: string[]) => {
    const events = Array.from({ length: n }, (_, i) => ({ event_id: ids?.[i] ?? `redis-fault-${++sent}`, event_type: 'fault.redis', ts: new Date(base + 60_000 * (sent % 60)).toISOString() }));
    const r = await engine.request('POST', '/api/v1/events', { key, body: events });
    return { status: r.status, body: (await r.json()) as { accepted: number; duplicates: number } };
  };
  const stats = async () => {
    const r = await engine.request('GET', STATS, { key: t.read });
    expect(r.status, await r.clone().text()).toBe(200);
    return { cache: r.headers.get('x-cache'), requests: ((await r.json()) as { totals: { requests: number } }).totals.requests };
  };
  const readyz = async () => {
    const r = await engine.request('GET', '/readyz');
    return { status: r.status, body: (await r.json()) as { status: string; stores: Record<string, { ok: boolean; required: boolean; error?: string }> } };
  };

  beforeAll(async () => {
    redis = new RedisServer(await freePort());
    await redis.start();
    engine = await startTestEngine({ pg: 'server', env: { REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: String(PER_MINUTE) } });
    t = await engine.newTenant();
    worker = new QueueWorker(engine.services, [job], redis.url, { prefix: 'fault', schedule: false, lockDurationMs: 1000, stalledIntervalMs: 500, log: () => {} });
    await worker.start();
  }, 60_000);
  afterAll(async () => {
    await worker?.kill().catch(() => {});
    await engine?.close();
    await redis?.kill();
  });

  it('with Redis up: statistics are cached in Redis and a worker runs an enqueued window', async () => {
    expect((await ingest(10)).body.accepted).toBe(10);
    expect(await stats()).toEqual({ cache: 'MISS', requests: 10 });
    expect(await stats()).toEqual({ cache: 'HIT', requests: 10 });
    const probe = new Redis(redis.url);
    expect((await probe.keys('tallyhouse*analytics*')).length).toBeGreaterThanOrEqual(1);
    probe.disconnect();
    await worker.enqueueWindow('fault.probe', base);
    await until(() => ran.includes(base), 10_000, 'window run before the fault');
    expect((await readyz()).body).toMatchObject({ status: 'ready', stores: { redis: { ok: true, required: false } } });
  });

  it('with Redis killed: ingest, dedup, statistics and in-process rate limiting keep working; readyz says redis is down', async () => {
    await redis.kill();
    const ready = await readyz();
    expect(ready.status).toBe(200); // the engine still serves: Redis is not required
    expect(ready.body).toMatchObject({ status: 'degraded', stores: { redis: { ok: false, required: false }, clickhouse: { ok: true }, postgres: { ok: true } } });

    const started = Date.now();
    const accepted = await ingest(5);
    expect(accepted).toEqual({ status: 202, body: expect.objectContaining({ accepted: 5, duplicates: 0 }) });
    // Dedup never depended on Redis (ClickHouse's event_ids): a retry of acknowledged ids stores nothing.
    const retry = await ingest(2, t.ingest, ['redis-fault-1', 'redis-fault-11']);
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 2 });
    // Fresh numbers, not the entry cached in the dead Redis, and not an error.
    expect(await stats()).toEqual({ cache: 'MISS', requests: 15 });
    expect(await stats()).toEqual({ cache: 'MISS', requests: 15 }); // nowhere to cache: every read is answered
    expect(Date.now() - started).toBeLessThan(10_000); // nothing waited on the dead Redis

    // What lives only in Redis (the workers' job history) says the store is down, not 500.
    const jobs = await engine.request('GET', '/api/v1/ops/jobs', { key: t.admin });
    expect(jobs.status).toBe(503);
    expect(((await jobs.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
    expect(jobs.headers.get('retry-after')).toBe('5');

    // The per-key limit still holds, counted in process (insuranceLimiter).
    const { key } = await engine.services.tenants.createKey({ tenantId: t.id, scopes: ['read'] });
    const statuses: number[] = [];
    for (let i = 0; i < PER_MINUTE + 1; i++) statuses.push((await engine.request('GET', '/api/v1/events?limit=1', { key })).status);
    expect(statuses.slice(0, PER_MINUTE).every((s) => s === 200)).toBe(true);
    expect(statuses[PER_MINUTE]).toBe(429);
  });

  it('with Redis back on the same port: readyz recovers, the cache is used again and the worker resumes', async () => {
    await redis.start();
    await until(async () => (await readyz()).body.stores.redis?.ok === true, 20_000, 'readyz redis ok');
    expect((await readyz()).body.status).toBe('ready');
    // The restarted Redis is empty (no persistence): the first read fills it, the second hits it.
    await until(async () => (await stats()).cache === 'HIT', 20_000, 'cache HIT after Redis restart');
    expect(await stats()).toEqual({ cache: 'HIT', requests: 15 });
    // The same worker (never restarted) reconnected: a window enqueued now runs.
    const next = base + HOUR;
    await until(async () => {
      await worker.enqueueWindow('fault.probe', next);
      return true;
    }, 20_000, 'enqueue after restart');
    await until(() => ran.includes(next), 20_000, 'window run after the restart');
    expect(ran.filter((w) => w === next)).toHaveLength(1);
  });
});
