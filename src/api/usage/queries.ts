import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';
import { dict, envelope, usageMiddleware, usageQuery, usageWindow, usageQuestion, windowSchema } from './window.js';

const GENERATION = 'sql_generation';
const EXECUTION = 'sql_execution';

const queryCounts = z.object({ sql_generation: z.number().int(), sql_execution: z.number().int(), total: z.number().int() });

const usageQueries = z
  .object({
    queries: z.record(z.string(), queryCounts).openapi({ description: '{user_id: {sql_generation, sql_execution, total}}' }),
    days: z.number().int(),
    window: windowSchema,
    generated_at: z.string(),
  })
  .openapi('UsageQueriesResponse');

export const usageQueriesRoute = createRoute({
  method: 'get',
  path: '/api/v1/usage/queries',
  tags: ['usage monitoring'],
  summary: 'NL→SQL activity per user: sql_generation and sql_execution events over the last `days` days',
  description: 'Admin keys only. Users without either event are not listed. Cached 60 s.',
  security: [{ bearer: [] }],
  middleware: usageMiddleware('usage-queries'),
  request: { query: usageQuery },
  responses: { 200: { description: 'Query events per user', content: { 'application/json': { schema: usageQueries } } }, ...errorResponses },
});

export function registerUsageQueries(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageQueriesRoute, async (c) => {
    const w = usageWindow(c, c.req.valid('query').days);
    const planner = timedPlanner(c, 'usage-queries');
    const a = await planner.ask(
      usageQuestion(c, w, {
        metrics: ['events'],
        dimensions: ['user_id', 'event_type'],
        filters: [{ dimension: 'event_type', op: 'in', values: [GENERATION, EXECUTION] }],
      }),
    );
    planner.done();
    const queries = dict<z.infer<typeof queryCounts>>();
    for (const r of a.rows) {
      const entry = (queries[r.dims.user_id as string] ??= { sql_generation: 0, sql_execution: 0, total: 0 });
      const n = r.values.events as number;
      entry[r.dims.event_type === GENERATION ? GENERATION : EXECUTION] += n;
      entry.total += n;
    }
    return c.json({ queries, ...envelope(w) }, 200);
  });
}
