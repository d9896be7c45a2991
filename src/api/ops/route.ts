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

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['ops'],
  summary: 'ClickHouse and Postgres are reachable',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready'), stores: storeStatus }) } } },
    503: { description: 'A store is down; stores says which', content: { 'application/json': { schema: z.object({ status: z.literal('unavailable'), stores: storeStatus }) } } },
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

export function registerOps(app: OpenAPIHono<AppEnv>) {
  app.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(readyz, async (c) => {
    const st = await stores(c);
    return st.clickhouse && st.postgres
      ? c.json({ status: 'ready' as const, stores: st }, 200)
      : c.json({ status: 'unavailable' as const, stores: st }, 503);
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
