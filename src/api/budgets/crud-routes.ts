import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { createBudget, deleteBudget, getBudget, listBudgets, updateBudget } from '../../control/budgets/store.js';
import { requireScope } from '../auth.js';
import { errorResponses, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';
import { asApiError, budgetJson, budgetNotFound, budgetSchema, createBody, idParam, patchBody } from './schemas.js';

const notFound = { 404: { description: 'BUDGET_NOT_FOUND (also for another tenant’s budget)', content: { 'application/json': { schema: errorSchema } } } };
const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });

const create = createRoute({
  method: 'post',
  path: '/api/v1/budgets',
  tags: ['budgets'],
  summary: 'Create a budget: a limit on cost, tokens or requests per day, ISO week or month (tenant time zone) on one scope',
  security: [{ bearer: [] }],
  middleware: requireScope('admin'),
  request: { body: { required: true, content: { 'application/json': { schema: createBody } } } },
  responses: { 201: json(budgetSchema, 'Created'), ...errorResponses },
});

const list = createRoute({
  method: 'get',
  path: '/api/v1/budgets',
  tags: ['budgets'],
  summary: "The tenant's budgets, oldest first",
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  responses: { 200: json(z.object({ budgets: z.array(budgetSchema) }), 'Budgets'), ...errorResponses },
});

const get = createRoute({
  method: 'get',
  path: '/api/v1/budgets/{id}',
  tags: ['budgets'],
  summary: 'One budget',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: idParam },
  responses: { 200: json(budgetSchema, 'The budget'), ...errorResponses, ...notFound },
});

const patch = createRoute({
  method: 'patch',
  path: '/api/v1/budgets/{id}',
  tags: ['budgets'],
  summary: 'Change some fields of a budget (the result is validated as a whole)',
  security: [{ bearer: [] }],
  middleware: requireScope('admin'),
  request: { params: idParam, body: { required: true, content: { 'application/json': { schema: patchBody } } } },
  responses: { 200: json(budgetSchema, 'The changed budget'), ...errorResponses, ...notFound },
});

const remove = createRoute({
  method: 'delete',
  path: '/api/v1/budgets/{id}',
  tags: ['budgets'],
  summary: 'Delete a budget (it stops applying at once; anomalies and incidents it raised keep their link)',
  security: [{ bearer: [] }],
  middleware: requireScope('admin'),
  request: { params: idParam },
  responses: { 204: { description: 'Deleted' }, ...errorResponses, ...notFound },
});

export function registerBudgetCrud(app: OpenAPIHono<AppEnv>) {
  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const { tenant, key } = c.get('principal');
    const b = await createBudget(
      c.get('services').pg.pool,
      tenant.id,
      {
        name: body.name,
        scopeType: body.scope_type,
        scopeValue: body.scope_value ?? null,
        period: body.period,
        metric: body.metric,
        limit: body.limit,
        thresholds: body.thresholds,
      },
      { apiKeyId: key.id },
    ).catch(asApiError);
    return c.json(budgetJson(b), 201);
  });
  app.openapi(list, async (c) => {
    const budgets = await listBudgets(c.get('services').pg.pool, c.get('principal').tenant.id);
    return c.json({ budgets: budgets.map(budgetJson) }, 200);
  });
  app.openapi(get, async (c) => {
    const b = await getBudget(c.get('services').pg.pool, c.get('principal').tenant.id, c.req.valid('param').id);
    if (!b) throw budgetNotFound();
    return c.json(budgetJson(b), 200);
  });
  app.openapi(patch, async (c) => {
    const body = c.req.valid('json');
    const { tenant, key } = c.get('principal');
    const b = await updateBudget(
      c.get('services').pg.pool,
      tenant.id,
      c.req.valid('param').id,
      {
        name: body.name,
        scopeType: body.scope_type,
        scopeValue: body.scope_value,
        period: body.period,
        metric: body.metric,
        limit: body.limit,
        thresholds: body.thresholds,
      },
      { apiKeyId: key.id },
    ).catch(asApiError);
    if (!b) throw budgetNotFound();
    return c.json(budgetJson(b), 200);
  });
  app.openapi(remove, async (c) => {
    const { tenant, key } = c.get('principal');
    if (!(await deleteBudget(c.get('services').pg.pool, tenant.id, c.req.valid('param').id, { apiKeyId: key.id }))) throw budgetNotFound();
    return c.body(null, 204);
  });
}
