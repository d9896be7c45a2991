import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';
import { dict, envelope, usageMiddleware, usageQuery, usageWindow, usageQuestion, windowSchema } from './window.js';

const usageSummary = z
  .object({
    summary: z.record(z.string(), z.record(z.string(), z.number().int())).openapi({
      description: '{event_type: {user_id: count}}; events that name no user are not in it',
      example: { sql_generation: { u1: 12, u2: 3 }, dashboard_publish: { u1: 1 } },
    }),
    days: z.number().int(),
    window: windowSchema,
    generated_at: z.string(),
  })
  .openapi('UsageSummaryResponse');

export const usageSummaryRoute = createRoute({
  method: 'get',
  path: '/api/v1/usage/summary',
  tags: ['usage monitoring'],
  summary: 'Events per event type and user over the last `days` days',
  description: 'Admin keys only. The window is the last `days` × 24 h up to now. Cached 60 s.',
  security: [{ bearer: [] }],
  middleware: usageMiddleware('usage-summary'),
  request: { query: usageQuery },
  responses: { 200: { description: 'Summary', content: { 'application/json': { schema: usageSummary } } }, ...errorResponses },
});

export function registerUsageSummary(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageSummaryRoute, async (c) => {
    const w = usageWindow(c, c.req.valid('query').days);
    const planner = timedPlanner(c, 'usage-summary');
    const a = await planner.ask(usageQuestion(c, w, { metrics: ['events'], dimensions: ['event_type', 'user_id'] }));
    planner.done();
    const summary = dict<Record<string, number>>();
    for (const r of a.rows) {
      const type = r.dims.event_type as string;
      (summary[type] ??= dict<number>())[r.dims.user_id as string] = r.values.events as number;
    }
    return c.json({ summary, ...envelope(w) }, 200);
  });
}
