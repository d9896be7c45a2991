import { numberToPlain } from '../../ingest/money.js';
import { PERIODS, BUDGET_METRICS, SCOPE_TYPES, type BudgetFields } from './budget.js';

/** A budget that cannot exist; `field` names the input field at fault. */
export class BudgetInvalidError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

const MAX_THRESHOLDS = 20;
const COST_LIMIT = /^\d{1,15}(\.\d{1,9})?$/;
const COUNT_LIMIT = /^\d{1,15}$/;
const THRESHOLD = /^\d{1,4}(\.\d{1,6})?$/;

/** JSON number → its shortest decimal text, exponent expanded (1e-9 → "0.000000001"). */
const text = (v: string | number) => (typeof v === 'number' ? (Number.isFinite(v) ? numberToPlain(v) : String(v)) : v.trim());

/**
 * Checks a whole budget (a create, or a patch merged into the stored budget) and returns the
 * limit as the exact decimal text to store. Every refusal names its field.
 */
export function validateBudget(b: BudgetFields): { limit: string; thresholds: string[] } {
  if (!(SCOPE_TYPES as readonly string[]).includes(b.scopeType)) throw new BudgetInvalidError('scope_type', `must be one of ${SCOPE_TYPES.join(', ')}`);
  if (!(PERIODS as readonly string[]).includes(b.period)) throw new BudgetInvalidError('period', `must be one of ${PERIODS.join(', ')}`);
  if (!(BUDGET_METRICS as readonly string[]).includes(b.metric)) throw new BudgetInvalidError('metric', `must be one of ${BUDGET_METRICS.join(', ')}`);
  if (b.name.trim() === '') throw new BudgetInvalidError('name', 'must not be empty');

  if (b.scopeType === 'tenant') {
    if (b.scopeValue !== null) throw new BudgetInvalidError('scope_value', 'must be null (or absent) for a tenant-wide budget');
  } else if (b.scopeValue === null || b.scopeValue === '') {
    throw new BudgetInvalidError('scope_value', `is required for scope_type "${b.scopeType}" (the ${b.scopeType} the budget caps)`);
  }

  const limit = text(b.limit);
  if (/^-/.test(limit)) throw new BudgetInvalidError('limit', 'must be greater than 0');
  if (b.metric === 'cost') {
    if (!COST_LIMIT.test(limit)) throw new BudgetInvalidError('limit', 'must be a USD amount with at most 15 digits before and 9 after the point, e.g. "100" or "12.50"');
  } else if (!COUNT_LIMIT.test(limit)) {
    throw new BudgetInvalidError('limit', `must be a whole number of ${b.metric} (at most 15 digits)`);
  }
  if (/^[0.]+$/.test(limit)) throw new BudgetInvalidError('limit', 'must be greater than 0');

  if (b.thresholds.length === 0 || b.thresholds.length > MAX_THRESHOLDS) {
    throw new BudgetInvalidError('thresholds', `must list 1 to ${MAX_THRESHOLDS} percentages of the limit`);
  }
  const thresholds = b.thresholds.map((t, i) => {
    const s = Number.isFinite(t) ? numberToPlain(t) : '';
    if (!THRESHOLD.test(s) || t <= 0 || t > 1000) throw new BudgetInvalidError('thresholds', `[${i}] = ${t}: each must be a percentage in (0, 1000] with at most 6 decimals`);
    if (i > 0 && t <= b.thresholds[i - 1]!) {
      throw new BudgetInvalidError('thresholds', `[${i}] = ${t}: must be strictly increasing (no duplicates), after ${b.thresholds[i - 1]}`);
    }
    return s;
  });
  return { limit, thresholds };
}
