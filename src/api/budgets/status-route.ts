import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { budgetStatus, statusAmounts } from '../../control/budgets/status.js';
import { getBudget } from '../../control/budgets/store.js';
import { requireScope } from '../auth.js';
import { errorResponses, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';
import { budgetJson, budgetNotFound, budgetSchema, idParam } from './schemas.js';

const statusSchema = z
  .object({
    budget: budgetSchema,
    as_of: z.string().openapi({ description: 'the instant the status and forecast are computed for' }),
    period: z.object({ from: z.string(), to: z.string(), tz: z.string() }),
    spent: z.string().openapi({ description: 'cost: exact decimal USD; tokens (input + output), requests: a whole number' }),
    pct_used: z.number().openapi({ description: 'spent / limit × 100, 2 decimals' }),
    remaining: z.string().openapi({ description: 'limit − spent (negative once over)' }),
    forecast: z.object({
      period_end_projection: z.string(),
      burn_rate_per_day: z.string().openapi({ description: 'per 24 h; cost exact to the nano-USD, counts to 3 decimals' }),
      method: z.enum(['blended', 'current_rate']).openapi({
        description:
          'blended: burn = w × (spent / elapsed) + (1 − w) × (last period total / its length), w = elapsed / period length; ' +
          'current_rate: spent / elapsed (no events in the last period). Projection = spent + burn × time left.',
      }),
      exceeds_limit: z.boolean(),
    }),
    thresholds_crossed: z.array(z.number()),
  })
  .openapi('BudgetStatus');

const route = createRoute({
  method: 'get',
  path: '/api/v1/budgets/{id}/status',
  tags: ['budgets'],
  summary: "A budget's current period (tenant time zone): spent, % used, remaining, period-end forecast, thresholds crossed",
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: idParam },
  responses: {
    200: { description: 'Status', content: { 'application/json': { schema: statusSchema } } },
    ...errorResponses,
    404: { description: 'BUDGET_NOT_FOUND', content: { 'application/json': { schema: errorSchema } } },
  },
});

export function registerBudgetStatus(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const { tenant } = c.get('principal');
    const b = await getBudget(c.get('services').pg.pool, tenant.id, c.req.valid('param').id);
    if (!b) throw budgetNotFound();
    const planner = timedPlanner(c, 'budgets.status');
    const s = await budgetStatus((q) => planner.ask(q), b, tenant.timezone);
    planner.done();
    return c.json(
      {
        budget: budgetJson(b),
        as_of: new Date(s.asOfMs).toISOString(),
        period: { from: new Date(s.period.fromMs).toISOString(), to: new Date(s.period.toMs).toISOString(), tz: s.period.tz },
        ...statusAmounts(s),
      },
      200,
    );
  });
}
