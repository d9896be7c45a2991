import { usdToNano } from '../../ingest/money.js';
import type { Answer } from '../../query/execute.js';
import { windowQuestion, type DimensionFilter, type Question } from '../../query/planner.js';
import { countToScaled, divRound, formatAmount, parseAmount, SCALE } from './amounts.js';
import { SCOPE_DIMENSION, type Budget, type BudgetMetric, type ScopeType } from './budget.js';
import { periodAt, previousPeriod, type PeriodWindow } from './period.js';

/** The planner, as the caller wants it asked (timed per request in the API, plain in jobs). */
export type Ask = (q: Question) => Promise<Answer>;

const DAY_MS = 86_400_000n;

export interface Usage {
  /** Scaled units (amounts.ts): nano-USD, nano-tokens, nano-requests. */
  spent: bigint;
  /** Events in the window: whether there is any data at all (a zero spend can still be data). */
  events: number;
}

/** The planner question for a metric over a window on a scope; a tenant scope filters nothing. */
export function usageQuestion(tenantId: string, scopeType: ScopeType, scopeValue: string | null, metric: BudgetMetric, w: PeriodWindow, tz: string): Question {
  const filters: DimensionFilter[] = scopeType === 'tenant' ? [] : [{ dimension: SCOPE_DIMENSION[scopeType], op: 'eq', values: [scopeValue ?? ''] }];
  const metrics: Question['metrics'] = metric === 'cost' ? ['cost', 'events'] : metric === 'tokens' ? ['input_tokens', 'output_tokens', 'events'] : ['requests', 'events'];
  return windowQuestion({ tenantId, fromMs: w.fromMs, toMs: w.toMs, tz }, { metrics, filters });
}

/** What a budget's metric reads in an answer (no rows: nothing happened). */
export function usageOf(metric: BudgetMetric, a: Answer): Usage {
  const v = a.rows[0]?.values;
  if (!v) return { spent: 0n, events: 0 };
  const events = Number(v.events ?? 0);
  if (metric === 'cost') return { spent: usdToNano(String(v.cost ?? '0')), events };
  if (metric === 'tokens') return { spent: countToScaled(BigInt(Number(v.input_tokens ?? 0)) + BigInt(Number(v.output_tokens ?? 0))), events };
  return { spent: countToScaled(Number(v.requests ?? 0)), events };
}

export async function usageIn(ask: Ask, b: Pick<Budget, 'tenantId' | 'scopeType' | 'scopeValue' | 'metric'>, w: PeriodWindow, tz: string): Promise<Usage> {
  return usageOf(b.metric, await ask(usageQuestion(b.tenantId, b.scopeType, b.scopeValue, b.metric, w, tz)));
}

export type ForecastMethod = 'blended' | 'current_rate';

export interface Forecast {
  /** Scaled units at the period end. */
  projection: bigint;
  /** Scaled units per 24 hours. */
  burnPerDay: bigint;
  method: ForecastMethod;
}

/**
 * Period-end projection = spent + burn rate × time left. The burn rate blends two rates by how
 * much of the period has passed (w = elapsed / period length):
 *   burn = w × (spent / elapsed) + (1 − w) × (last period's total / last period's length)
 * so early in a period last cycle's pace dominates and late in it this period's does. Without
 * data (no events) in the last period, burn = spent / elapsed. Lengths are real milliseconds
 * (a DST day is 23 or 25 h; months differ). Exact: w × spent/elapsed = spent/length, so
 *   burn (per ms) = (spent × lastLength + left × lastTotal) / (length × lastLength)
 * and everything is integer math, rounded once at the end (half away from zero).
 */
export function forecast(spent: bigint, w: PeriodWindow, nowMs: number, last: { usage: Usage; window: PeriodWindow } | null): Forecast {
  const length = BigInt(w.toMs - w.fromMs);
  const elapsed = BigInt(Math.min(Math.max(nowMs - w.fromMs, 0), w.toMs - w.fromMs));
  const left = length - elapsed;
  let num: bigint;
  let den: bigint;
  let method: ForecastMethod;
  if (last && last.usage.events > 0) {
    const lastLength = BigInt(last.window.toMs - last.window.fromMs);
    num = spent * lastLength + left * last.usage.spent;
    den = length * lastLength;
    method = 'blended';
  } else {
    num = elapsed === 0n ? 0n : spent;
    den = elapsed === 0n ? 1n : elapsed;
    method = 'current_rate';
  }
  return { projection: spent + divRound(num * left, den), burnPerDay: divRound(num * DAY_MS, den), method };
}

export interface BudgetStatus {
  budget: Budget;
  /** The instant the status is as of (the forecast's "now"). */
  asOfMs: number;
  period: PeriodWindow & { tz: string };
  spent: bigint;
  limit: bigint;
  forecast: Forecast;
  /** Thresholds (exact text) at or below the % used. */
  thresholdsCrossed: string[];
}

/** % of the limit, rounded to 2 decimals (half up). */
export const pctUsed = (spent: bigint, limit: bigint): number => Number(divRound(spent * 10_000n, limit)) / 100;

/** spent ≥ t % of limit, compared exactly (t has at most 6 decimals). */
export const crossed = (spent: bigint, limit: bigint, thresholds: string[]) => thresholds.filter((t) => spent * 100n * SCALE >= parseAmount(t) * limit);

/** A budget's current period in the tenant's time zone: spent, forecast and thresholds crossed. */
export async function budgetStatus(ask: Ask, b: Budget, tz: string, nowMs = Date.now()): Promise<BudgetStatus> {
  const { current: w, previous: lw } = statusWindows(b, tz, nowMs);
  const [now, last] = await Promise.all([usageIn(ask, b, w, tz), usageIn(ask, b, lw, tz)]);
  return statusFrom(b, tz, nowMs, now, last);
}

/** The two windows a status reads: the current period and the one before (for the forecast). */
export function statusWindows(b: Pick<Budget, 'period'>, tz: string, nowMs: number): { current: PeriodWindow; previous: PeriodWindow } {
  return { current: periodAt(nowMs, b.period, tz), previous: previousPeriod(nowMs, b.period, tz) };
}

/** A status from the usage of its two windows (statusWindows), however that usage was read. */
export function statusFrom(b: Budget, tz: string, nowMs: number, now: Usage, last: Usage): BudgetStatus {
  const { current: w, previous: lw } = statusWindows(b, tz, nowMs);
  const limit = parseAmount(b.limit);
  return {
    budget: b,
    asOfMs: nowMs,
    period: { ...w, tz },
    spent: now.spent,
    limit,
    forecast: forecast(now.spent, w, nowMs, { usage: last, window: lw }),
    thresholdsCrossed: crossed(now.spent, limit, b.thresholds),
  };
}

/** The JSON amounts of a status (exact decimal text; see amounts.ts). */
export function statusAmounts(s: BudgetStatus) {
  const m = s.budget.metric;
  return {
    spent: formatAmount(m, s.spent),
    pct_used: pctUsed(s.spent, s.limit),
    remaining: formatAmount(m, s.limit - s.spent),
    forecast: {
      period_end_projection: formatAmount(m, s.forecast.projection),
      burn_rate_per_day: formatAmount(m, s.forecast.burnPerDay, 3),
      method: s.forecast.method,
      exceeds_limit: s.forecast.projection > s.limit,
    },
    thresholds_crossed: s.thresholdsCrossed.map(Number),
  };
}
