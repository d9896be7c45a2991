import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';

const storeStatus = z.object({ clickhouse: z.boolean(), postgres: z.boolean() });

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['ops'],
  summary: 'The process is up',
  responses: { 200: { description: 'Up', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const probe = z
  .object({
    ok: z.boolean(),
    required: z.boolean().openapi({ description: 'Whether the engine is unready without it (Redis is not: the engine degrades)' }),
    latency_ms: z.number().openapi({ description: 'Time the ping took (or until it was given up)' }),
    error: z.string().optional().openapi({ description: '"unreachable" or "no answer within 2000 ms"' }),
  })
  .openapi('StoreProbe');
const readyBody = z.object({
  status: z.enum(['ready', 'degraded', 'unavailable']).openapi({ description: 'degraded: an optional store (Redis) is down; the engine still serves' }),
  stores: z.object({ clickhouse: probe, postgres: probe, redis: probe.optional().openapi({ description: 'Only with REDIS_URL' }) }),
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['ops'],
  summary: 'Whether each store answers: ClickHouse and Postgres (required), Redis (optional)',
  responses: {
    200: { description: 'Ready, or degraded (Redis down: cache bypassed, limits in process)', content: { 'application/json': { schema: readyBody } } },
    503: { description: 'A required store is down; stores says which', content: { 'application/json': { schema: readyBody } } },
  },
});

const analyticsHealth = createRoute({
  method: 'get',
  path: '/api/v1/analytics/health',
  tags: ['ops'],
  summary: 'Analytics domain health (internal)',
  responses: {
    200: {
      description: 'Healthy',
      content: {
        'application/json': {
          schema: z.object({
            status: z.enum(['healthy', 'degraded']),
            stores: storeStatus,
            mode: z.object({ clickhouse: z.enum(['embedded', 'server']), postgres: z.enum(['embedded', 'server']) }),
            uptime_sec: z.number(),
          }),
        },
      },
    },
  },
});

async function stores(c: { get(k: 'services'): AppEnv['Variables']['services'] }) {
  const s = c.get('services');
  const [clickhouse, postgres] = await Promise.all([s.ch.ping(), s.pg.ping()]);
  return { clickhouse, postgres };
}

const PROBE_TIMEOUT_MS = 2000;

/** One store's ping, timed and bounded: a store that hangs reads as down, not as a hung probe. */
async function probeStore(ping: () => Promise<boolean>, required: boolean): Promise<z.infer<typeof probe>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), PROBE_TIMEOUT_MS)));
  const result = await Promise.race([ping().catch(() => false), timeout]);
  clearTimeout(timer);
  const latency_ms = Math.round((performance.now() - started) * 10) / 10;
  if (result === true) return { ok: true, required, latency_ms };
  // Not the driver's message: /readyz needs no key, and addresses describe the deployment.
  return { ok: false, required, latency_ms, error: result === 'timeout' ? `no answer within ${PROBE_TIMEOUT_MS} ms` : 'unreachable' };
}

export function registerOps(app: OpenAPIHono<AppEnv>) {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    const s = c.get('services');
    const redis = s.redis;
    const [clickhouse, postgres, redisProbe] = await Promise.all([
      probeStore(() => s.ch.ping(), true),
      probeStore(() => s.pg.ping(), true),
      redis ? probeStore(async () => (await redis.ping()) === 'PONG', false) : undefined,
    ]);
    const stores = { clickhouse, postgres, ...(redisProbe ? { redis: redisProbe } : {}) };
    if (!clickhouse.ok || !postgres.ok) return c.json({ status: 'unavailable' as const, stores }, 503);
    return c.json({ status: redisProbe && !redisProbe.ok ? ('degraded' as const) : ('ready' as const), stores }, 200);
  });
  app.openapi(analyticsHealth, async (c) => {
    const s = c.get('services');
    const st = await stores(c);
    return c.json(
      {
        status: st.clickhouse && st.postgres ? ('healthy' as const) : ('degraded' as const),
        stores: st,
        mode: { clickhouse: s.ch.mode, postgres: s.pg.mode },
        uptime_sec: Math.round((Date.now() - s.startedAt) / 1000),
      },
      200,
    );
  });
  app.get('/metrics', async (c) => {
    const { registry } = c.get('services').metrics;
    return c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  });
}
