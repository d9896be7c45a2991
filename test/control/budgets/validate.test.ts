import { describe, expect, it } from 'vitest';
import type { BudgetFields } from '../../../src/control/budgets/budget.js';
import { BudgetInvalidError, validateBudget } from '../../../src/control/budgets/validate.js';

const ok: BudgetFields = { name: 'b', scopeType: 'project', scopeValue: 'p', period: 'month', metric: 'cost', limit: '100', thresholds: [50, 80, 100] };
const fieldOf = (b: Partial<BudgetFields>) => {
  try {
    validateBudget({ ...ok, ...b });
  } catch (e) {
    if (e instanceof BudgetInvalidError) return e.field;
    throw e;
  }
  return null;
};

describe('validateBudget', () => {
  it('accepts valid budgets and keeps the limit exact', () => {
    expect(validateBudget({ ...ok, limit: 12.345678901 })).toEqual({ limit: '12.345678901', thresholds: ['50', '80', '100'] });
    expect(validateBudget({ ...ok, metric: 'tokens', limit: 1_000_000, scopeType: 'tenant', scopeValue: null, thresholds: [0.5, 1000] }).thresholds).toEqual(['0.5', '1000']);
  });

  it('names the field of each refusal', () => {
    expect(fieldOf({ limit: '-1' })).toBe('limit');
    expect(fieldOf({ limit: 0 })).toBe('limit');
    expect(fieldOf({ limit: '0.000' })).toBe('limit');
    expect(fieldOf({ limit: '1.0000000001' })).toBe('limit');
    expect(fieldOf({ limit: '1e3' })).toBe('limit');
    expect(fieldOf({ metric: 'tokens', limit: '10.5' })).toBe('limit');
    expect(fieldOf({ metric: 'requests', limit: 2.5 })).toBe('limit');
    expect(fieldOf({ scopeType: 'tenant' })).toBe('scope_value');
    expect(fieldOf({ scopeValue: null })).toBe('scope_value');
    expect(fieldOf({ scopeValue: '' })).toBe('scope_value');
    expect(fieldOf({ scopeType: 'team' as never })).toBe('scope_type');
    expect(fieldOf({ period: 'year' as never })).toBe('period');
    expect(fieldOf({ metric: 'dollars' as never })).toBe('metric');
    expect(fieldOf({ thresholds: [80, 50] })).toBe('thresholds');
    expect(fieldOf({ thresholds: [50, 50] })).toBe('thresholds');
    expect(fieldOf({ thresholds: [0, 50] })).toBe('thresholds');
    expect(fieldOf({ thresholds: [50, 1000.5] })).toBe('thresholds');
    expect(fieldOf({ thresholds: [] })).toBe('thresholds');
    expect(fieldOf({ thresholds: [Number.NaN] })).toBe('thresholds');
    expect(fieldOf({ name: '  ' })).toBe('name');
  });
});
