import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { formatAmount, parseAmount } from '../../control/budgets/amounts.js';
import { BUDGET_METRICS, SCOPE_TYPES } from '../../control/budgets/budget.js';
import { checkBudgets, checkedJson } from '../../control/budgets/check.js';
import { requireScope } from '../auth.js';
import { ApiError, errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';

const checkedSchema = z.object({
  id: z.string(),
  name: z.string(),
  scope_type: z.enum(SCOPE_TYPES),
  scope_value: z.string().nullable(),
  period: z.string(),
  period_from: z.string(),
  period_to: z.string(),
  limit: z.string(),
  spent: z.string(),
  pct_used: z.number(),
  remaining: z.string().openapi({ description: 'limit − spent − amount' }),
  allowed: z.boolean(),
});

const checkResponse = z
  .object({
    allowed: z.boolean(),
    binding_budget: checkedSchema.nullable().openapi({ description: 'the applicable budget with the least remaining headroom; null when none applies' }),
    remaining: z.string().nullable().openapi({ description: "the binding budget's remaining (after the amount)" }),
    budgets: z.array(checkedSchema),
  })
  .openapi('BudgetCheck');

const query = z.object({
  scope_type: z.enum(SCOPE_TYPES),
  scope_value: z.string().min(1).max(1024).optional(),
  metric: z.enum(BUDGET_METRICS),
  amount: z
    .string()
    .optional()
    .openapi({ description: 'what is about to be spent (cost: decimal USD; tokens, requests: a whole number), added before comparing; default 0' }),
});

const route = createRoute({
  method: 'get',
  path: '/api/v1/budgets/check',
  tags: ['budgets'],
  summary: 'For an enforcer: may this scope spend `amount` more now? Applies its own budgets and every tenant-wide one',
  description:
    'allowed when every applicable budget of the metric has spent + amount ≤ limit (amount 0 or absent: spent < limit). ' +
    'One Postgres query and one planner question per distinct (period, scope); nothing cached, so a spend shows at once.',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { query },
  responses: { 200: { description: 'Decision', content: { 'application/json': { schema: checkResponse } } }, ...errorResponses },
});

const COST_AMOUNT = /^\d{1,15}(\.\d{1,9})?$/;
const COUNT_AMOUNT = /^\d{1,15}$/;

export function registerBudgetCheck(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const q = c.req.valid('query');
    if (q.scope_type === 'tenant' && q.scope_value !== undefined) {
      throw new ApiError(400, 'INVALID_REQUEST', 'query field "scope_value": must be absent for scope_type=tenant', { field: 'scope_value' });
    }
    if (q.scope_type !== 'tenant' && q.scope_value === undefined) {
      throw new ApiError(400, 'INVALID_REQUEST', `query field "scope_value": is required for scope_type=${q.scope_type}`, { field: 'scope_value' });
    }
    const amountText = q.amount ?? '0';
    if (!(q.metric === 'cost' ? COST_AMOUNT : COUNT_AMOUNT).test(amountText)) {
      throw new ApiError(
        400,
        'INVALID_REQUEST',
        `query field "amount": must be ${q.metric === 'cost' ? 'a non-negative USD amount with at most 9 decimals' : `a non-negative whole number of ${q.metric}`}`,
        { field: 'amount' },
      );
    }
    const { tenant } = c.get('principal');
    const planner = timedPlanner(c, 'budgets.check');
    const r = await checkBudgets(c.get('services').pg.pool, (question) => planner.ask(question), tenant.timezone, {
      tenantId: tenant.id,
      scopeType: q.scope_type,
      scopeValue: q.scope_value ?? null,
      metric: q.metric,
      amount: parseAmount(amountText),
    });
    planner.done();
    return c.json(
      {
        allowed: r.allowed,
        binding_budget: r.binding ? checkedJson(r.binding) : null,
        remaining: r.binding ? formatAmount(q.metric, r.binding.remaining) : null,
        budgets: r.budgets.map(checkedJson),
      },
      200,
    );
  });
}
