import type { Pool } from 'pg';
import { formatAmount, parseAmount } from './amounts.js';
import type { Budget, BudgetMetric, ScopeType } from './budget.js';
import { periodAt, type PeriodWindow } from './period.js';
import { pctUsed, usageIn, type Ask } from './status.js';
import { applicableBudgets } from './store.js';

export interface CheckInput {
  tenantId: string;
  scopeType: ScopeType;
  scopeValue: string | null;
  metric: BudgetMetric;
  /** Scaled units about to be spent (0 when the enforcer only asks about headroom). */
  amount: bigint;
}

export interface CheckedBudget {
  budget: Budget;
  period: PeriodWindow;
  spent: bigint;
  limit: bigint;
  /** limit − spent − amount; negative when the amount would overrun it. */
  remaining: bigint;
  allowed: boolean;
}

export interface CheckResult {
  allowed: boolean;
  binding: CheckedBudget | null;
  budgets: CheckedBudget[];
}

/**
 * Whether `amount` more of a metric may be spent on a scope now. Every live budget of that
 * metric on the scope, and every tenant-wide one, must have room: a budget allows when
 * spent + amount ≤ limit, and an amount of 0 asks whether any headroom is left (spent < limit).
 * The binding budget is the one with the least remaining headroom (ties: the earlier-created).
 * Cost: one Postgres query, then one planner question per distinct (period, scope) — budgets
 * sharing both share the answer.
 */
export async function checkBudgets(pool: Pool, ask: Ask, tz: string, input: CheckInput, nowMs = Date.now()): Promise<CheckResult> {
  const budgets = await applicableBudgets(pool, input.tenantId, input.scopeType, input.scopeValue, input.metric);
  const usage = new Map<string, Promise<bigint>>();
  const spentOf = (b: Budget, w: PeriodWindow) => {
    const key = JSON.stringify([b.period, b.scopeType, b.scopeValue]);
    let p = usage.get(key);
    if (!p) {
      p = usageIn(ask, b, w, tz).then((u) => u.spent);
      usage.set(key, p);
    }
    return p;
  };
  const checked = await Promise.all(
    budgets.map(async (b): Promise<CheckedBudget> => {
      const w = periodAt(nowMs, b.period, tz);
      const spent = await spentOf(b, w);
      const limit = parseAmount(b.limit);
      const remaining = limit - spent - input.amount;
      return { budget: b, period: w, spent, limit, remaining, allowed: remaining > 0n || (remaining === 0n && input.amount > 0n) };
    }),
  );
  let binding: CheckedBudget | null = null;
  for (const c of checked) if (!binding || c.remaining < binding.remaining) binding = c;
  return { allowed: checked.every((c) => c.allowed), binding, budgets: checked };
}

/** The JSON of one checked budget. */
export function checkedJson(c: CheckedBudget) {
  const m = c.budget.metric;
  return {
    id: c.budget.id,
    name: c.budget.name,
    scope_type: c.budget.scopeType,
    scope_value: c.budget.scopeValue,
    period: c.budget.period,
    period_from: new Date(c.period.fromMs).toISOString(),
    period_to: new Date(c.period.toMs).toISOString(),
    limit: formatAmount(m, c.limit),
    spent: formatAmount(m, c.spent),
    pct_used: pctUsed(c.spent, c.limit),
    remaining: formatAmount(m, c.remaining),
    allowed: c.allowed,
  };
}
