import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { DimensionFilter } from '../../query/planner.js';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';
import { dict, envelope, usageMiddleware, usageQuery, usageWindow, usageQuestion, windowSchema } from './window.js';

const PREFIX = 'dashboard_';
const KEY = 'dashboard_id';

const dashboardCounts = z.object({
  events: z.record(z.string(), z.number().int()).openapi({ description: '{event_type: count}, e.g. dashboard_publish, dashboard_view' }),
  total: z.number().int(),
  users: z.number().int().openapi({ description: 'Distinct users with an event on the dashboard' }),
});

const usageDashboards = z
  .object({
    dashboards: z.record(z.string(), dashboardCounts).openapi({ description: '{dashboard_id: {events, total, users}}' }),
    days: z.number().int(),
    window: windowSchema,
    generated_at: z.string(),
  })
  .openapi('UsageDashboardsResponse');

export const usageDashboardsRoute = createRoute({
  method: 'get',
  path: '/api/v1/usage/dashboards',
  tags: ['usage monitoring'],
  summary: 'Dashboard adoption: dashboard_* events per dashboard (metadata dashboard_id) over the last `days` days',
  description: `Admin keys only. Events of any type starting with "${PREFIX}", keyed by their metadata "${KEY}"; events without one are not listed. Cached 60 s.`,
  security: [{ bearer: [] }],
  middleware: usageMiddleware('usage-dashboards'),
  request: { query: usageQuery },
  responses: { 200: { description: 'Events per dashboard', content: { 'application/json': { schema: usageDashboards } } }, ...errorResponses },
});

export function registerUsageDashboards(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageDashboardsRoute, async (c) => {
    const w = usageWindow(c, c.req.valid('query').days);
    const planner = timedPlanner(c, 'usage-dashboards');
    // Which dashboard_* types exist (from the rollups), so the metadata scan of raw events reads
    // those types only.
    const types = await planner.ask(usageQuestion(c, w, { metrics: ['events'], dimensions: ['event_type'] }));
    const dashTypes = types.rows.map((r) => r.dims.event_type as string).filter((t) => t.startsWith(PREFIX));
    const dashboards = dict<z.infer<typeof dashboardCounts>>();
    if (dashTypes.length) {
      const filters: DimensionFilter[] = [{ dimension: 'event_type', op: 'in', values: dashTypes }];
      const [perType, users] = await Promise.all([
        planner.ask(usageQuestion(c, w, { metrics: ['events'], dimensions: ['event_type'], metadataGroup: [KEY], filters })),
        planner.ask(usageQuestion(c, w, { metrics: ['unique_users'], metadataGroup: [KEY], filters })),
      ]);
      for (const r of perType.rows) {
        const id = r.meta![KEY]!;
        if (id === '') continue;
        const entry = (dashboards[id] ??= { events: dict<number>(), total: 0, users: 0 });
        const n = r.values.events as number;
        entry.events[r.dims.event_type as string] = n;
        entry.total += n;
      }
      for (const r of users.rows) {
        const entry = dashboards[r.meta![KEY]!];
        if (entry) entry.users = r.values.unique_users as number;
      }
    }
    planner.done();
    return c.json({ dashboards, ...envelope(w) }, 200);
  });
}
