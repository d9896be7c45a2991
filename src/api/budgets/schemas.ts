import { z } from '@hono/zod-openapi';
import { formatAmount, parseAmount } from '../../control/budgets/amounts.js';
import { BUDGET_METRICS, PERIODS, SCOPE_TYPES, type Budget } from '../../control/budgets/budget.js';
import { BudgetInvalidError } from '../../control/budgets/validate.js';
import { ApiError } from '../errors.js';

export const budgetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope_type: z.enum(SCOPE_TYPES),
    scope_value: z.string().nullable(),
    period: z.enum(PERIODS),
    metric: z.enum(BUDGET_METRICS),
    limit: z.string().openapi({ description: 'cost: exact decimal USD; tokens, requests: a whole number (as text)', example: '100.00' }),
    thresholds: z.array(z.number()).openapi({ description: '% of the limit', example: [50, 80, 100] }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Budget');

export const budgetJson = (b: Budget): z.infer<typeof budgetSchema> => ({
  id: b.id,
  name: b.name,
  scope_type: b.scopeType,
  scope_value: b.scopeValue,
  period: b.period,
  metric: b.metric,
  limit: formatAmount(b.metric, parseAmount(b.limit)),
  thresholds: b.thresholds.map(Number),
  created_at: b.createdAt,
  updated_at: b.updatedAt,
});

const limitField = z.union([z.string(), z.number()]).openapi({
  description: 'cost: USD as a decimal string (or number), > 0, at most 9 decimals; tokens, requests: a whole number > 0',
  example: '100',
});
const thresholdsField = z.array(z.number()).openapi({ description: '% of the limit, strictly increasing, each in (0, 1000]; default [50, 80, 100]', example: [50, 80, 100] });

export const createBody = z
  .strictObject({
    name: z.string().min(1).max(200),
    scope_type: z.enum(SCOPE_TYPES),
    scope_value: z.string().max(1024).nullable().optional().openapi({ description: 'the project, feature, user id, model or api key id; absent/null for tenant' }),
    period: z.enum(PERIODS),
    metric: z.enum(BUDGET_METRICS),
    limit: limitField,
    thresholds: thresholdsField.optional(),
  })
  .openapi('BudgetCreate');

export const patchBody = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    scope_type: z.enum(SCOPE_TYPES).optional(),
    scope_value: z.string().max(1024).nullable().optional(),
    period: z.enum(PERIODS).optional(),
    metric: z.enum(BUDGET_METRICS).optional(),
    limit: limitField.optional(),
    thresholds: thresholdsField.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' })
  .openapi('BudgetPatch');

export const idParam = z.object({ id: z.uuid({ message: 'must be a budget id (uuid)' }) });

/** A budget the control layer refused → 400 naming the field. */
export function asApiError(e: unknown): never {
  if (e instanceof BudgetInvalidError) {
    throw new ApiError(400, 'INVALID_BUDGET', `body field "${e.field}": ${e.reason}`, { field: e.field });
  }
  throw e;
}

export const budgetNotFound = () => new ApiError(404, 'BUDGET_NOT_FOUND', 'no such budget');
