import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';
import { dict, envelope, usageMiddleware, usageQuery, usageWindow, usageQuestion, windowSchema } from './window.js';

const usageUsers = z
  .object({
    users: z.record(z.string(), z.number().int()).openapi({ description: '{user_id: events}', example: { u1: 42, u2: 7 } }),
    days: z.number().int(),
    window: windowSchema,
    generated_at: z.string(),
  })
  .openapi('UsageUsersResponse');

export const usageUsersRoute = createRoute({
  method: 'get',
  path: '/api/v1/usage/users',
  tags: ['usage monitoring'],
  summary: 'Events per user over the last `days` days',
  description: 'Admin keys only. Every event type counts; events that name no user are not in it. Cached 60 s.',
  security: [{ bearer: [] }],
  middleware: usageMiddleware('usage-users'),
  request: { query: usageQuery },
  responses: { 200: { description: 'Events per user', content: { 'application/json': { schema: usageUsers } } }, ...errorResponses },
});

export function registerUsageUsers(app: OpenAPIHono<AppEnv>) {
  app.openapi(usageUsersRoute, async (c) => {
    const w = usageWindow(c, c.req.valid('query').days);
    const planner = timedPlanner(c, 'usage-users');
    const a = await planner.ask(usageQuestion(c, w, { metrics: ['events'], dimensions: ['user_id'] }));
    planner.done();
    const users = dict<number>();
    for (const r of a.rows) users[r.dims.user_id as string] = r.values.events as number;
    return c.json({ users, ...envelope(w) }, 200);
  });
}
