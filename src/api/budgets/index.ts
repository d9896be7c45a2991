import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env.js';
import { registerBudgetCheck } from './check-route.js';
import { registerBudgetCrud } from './crud-routes.js';
import { registerBudgetStatus } from './status-route.js';

/** Budgets (seed 004 §2.8). /budgets/check first: it must not be read as /budgets/{id}. */
export function registerBudgets(app: OpenAPIHono<AppEnv>) {
  registerBudgetCheck(app);
  registerBudgetStatus(app);
  registerBudgetCrud(app);
}
