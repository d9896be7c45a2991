import type { Pool } from 'pg';
import { nanoToUsd } from '../../ingest/money.js';
import { answer } from '../../query/execute.js';
import type { DimensionFilter } from '../../query/planner.js';
import type { Services } from '../../services.js';
import { formatAmount, parseAmount } from '../budgets/amounts.js';
import { SCOPE_DIMENSION, type Budget } from '../budgets/budget.js';
import { batchUsage, usageAt, type BatchResult, type UsageAsk } from '../budgets/batch-usage.js';
import { budgetStatus, crossed, statusFrom, statusWindows, type Ask, type BudgetStatus } from '../budgets/status.js';
import { liveBudgetsOfAllTenants } from '../budgets/store.js';
import { recordAnomaly } from '../incidents/record.js';
import type { AnomalyInput, Severity } from '../incidents/types.js';

/**
 * Budget detection (issue 4 §2): for every live budget, its current period as of `now` —
 *  - thresholds: each fires once per period, and only the highest newly crossed one fires
 *    (40 % → 100 % in one step fires 100 % only). The per-period watermark is the highest
 *    threshold already recorded as an anomaly for that budget and period, so recording the
 *    anomaly and advancing the watermark are one commit: a crash in between cannot lose or
 *    repeat a firing. Thresholds ≥ 100 % fire BUDGET_EXCEEDED (CRITICAL, opens or attaches to
 *    the incident `budget:<id>`); below, BUDGET_THRESHOLD (LOW under 80 %, else MEDIUM).
 *    A breach always fires: a budget whose thresholds stop below 100 % gets 100 % as well.
 *  - forecast: BUDGET_FORECAST_EXCEEDED (MEDIUM), once per period, while the period-end
 *    projection is above the limit but the limit is not yet reached.
 * Dedup keys come from the finding (budget, period start, threshold or "forecast"), so a re-run
 * over the same state records nothing new.
 *
 * The run blamed (anomaly run_id, incident source run): the run of the newest event in the
 * budget's scope and period that carries a run_id — the spend that arrived last is what pushed
 * the budget over. Ties on the same millisecond go to the smallest run_id.
 *
 * Known limits: a period is checked while `now` is inside it, so spend that lands in the last
 * moments of a period after the final run of that period is not checked again; a budget whose
 * limit is raised mid-period keeps its watermark (a threshold % fired once does not re-fire).
 */

export interface BudgetDetectionSummary {
  budgets: number;
  /** Anomalies newly recorded (re-runs over the same state: 0). */
  anomalies: number;
  incidentsOpened: number;
  /** Budgets whose check failed; the others are still checked (the job then reports the failure). */
  failed: number;
}

export class BudgetDetectionError extends Error {}

const HUNDRED = parseAmount('100');
const pctLabel = (t: string) => String(Number(t));

function severityOf(pctScaled: bigint): Severity {
  if (pctScaled >= HUNDRED) return 'CRITICAL';
  return pctScaled < parseAmount('80') ? 'LOW' : 'MEDIUM';
}

/** The budget's thresholds as detection applies them: its own, plus 100 % if none reaches the limit. */
export function effectiveThresholds(b: Budget): string[] {
  return b.thresholds.some((t) => parseAmount(t) >= HUNDRED) ? b.thresholds : [...b.thresholds, '100'];
}

/** What one check of one budget decides to record, in order. Pure, for the watermark rule. */
export function budgetFindings(s: BudgetStatus, watermark: { highestPct: bigint; forecastFired: boolean }) {
  const thresholds = crossed(s.spent, s.limit, effectiveThresholds(s.budget));
  const fresh = thresholds.filter((t) => parseAmount(t) > watermark.highestPct);
  const threshold = fresh.length ? fresh.reduce((a, b) => (parseAmount(b) > parseAmount(a) ? b : a)) : null;
  const forecast = !watermark.forecastFired && s.spent < s.limit && s.forecast.projection > s.limit;
  return { threshold, forecast };
}

interface Watermark {
  highestPct: bigint;
  forecastFired: boolean;
}

async function watermarkOf(pool: Pool, b: Budget, periodStart: Date): Promise<Watermark> {
  const { rows } = await pool.query(
    `SELECT max(threshold_pct) FILTER (WHERE type IN ('BUDGET_THRESHOLD', 'BUDGET_EXCEEDED'))::text AS highest,
            coalesce(bool_or(type = 'BUDGET_FORECAST_EXCEEDED'), false) AS forecast
     FROM anomalies WHERE tenant_id = $1 AND budget_id = $2 AND window_start = $3`,
    [b.tenantId, b.id, periodStart],
  );
  const r = rows[0] ?? {};
  return { highestPct: r.highest == null ? 0n : parseAmount(String(r.highest)), forecastFired: r.forecast === true };
}

/** The run of the newest event carrying a run_id in the budget's scope and period (see above). */
async function blamedRun(ask: Ask, s: BudgetStatus): Promise<string | null> {
  const b = s.budget;
  const filters: DimensionFilter[] = [{ dimension: 'run_id', op: 'not_in', values: [''] }];
  if (b.scopeType !== 'tenant') filters.push({ dimension: SCOPE_DIMENSION[b.scopeType], op: 'eq', values: [b.scopeValue ?? ''] });
  const a = await ask({ tenantId: b.tenantId, metrics: ['last_seen'], dimensions: ['run_id'], tz: s.period.tz, fromMs: s.period.fromMs, toMs: s.period.toMs, filters, metadata: [] });
  const run = a.rows[0]?.dims.run_id;
  return typeof run === 'string' && run !== '' ? run : null;
}

function anomalyOf(s: BudgetStatus, kind: { threshold: string } | 'forecast', runId: string | null): AnomalyInput {
  const b = s.budget;
  const m = b.metric;
  const periodStart = new Date(s.period.fromMs);
  const base = {
    tenantId: b.tenantId,
    dimension: 'budget',
    dimensionValue: b.id,
    windowStart: periodStart,
    windowEnd: new Date(s.period.toMs),
    expected: formatAmount(m, s.limit),
    budgetId: b.id,
    runId,
  };
  if (kind === 'forecast') {
    return {
      ...base,
      type: 'BUDGET_FORECAST_EXCEEDED',
      severity: 'MEDIUM',
      observed: formatAmount(m, s.forecast.projection),
      impactUsd: '0',
      dedupKey: `budget:${b.id}:${periodStart.toISOString()}:forecast`,
      title: `Budget "${b.name}" is forecast to exceed its limit this ${b.period}`,
    };
  }
  const pct = parseAmount(kind.threshold);
  const exceeded = pct >= HUNDRED;
  const over = s.spent - s.limit;
  return {
    ...base,
    type: exceeded ? 'BUDGET_EXCEEDED' : 'BUDGET_THRESHOLD',
    severity: severityOf(pct),
    observed: formatAmount(m, s.spent),
    impactUsd: m === 'cost' && over > 0n ? nanoToUsd(over) : '0',
    thresholdPct: pctLabel(kind.threshold),
    dedupKey: `budget:${b.id}:${periodStart.toISOString()}:${pctLabel(kind.threshold)}`,
    title: exceeded ? `Budget "${b.name}" exceeded (${pctLabel(kind.threshold)} % of its ${b.metric} limit)` : `Budget "${b.name}" reached ${pctLabel(kind.threshold)} %`,
  };
}

/** The watermarks of many (budget, period) in one statement, keyed `${budgetId} ${periodStartMs}`. */
async function watermarksOf(pool: Pool, keys: { budget: Budget; periodStart: Date }[]): Promise<Map<string, Watermark>> {
  const out = new Map<string, Watermark>();
  if (!keys.length) return out;
  const { rows } = await pool.query(
    `SELECT k.budget_id::text AS budget_id, (extract(epoch FROM k.window_start) * 1000)::bigint::text AS start_ms,
            max(a.threshold_pct) FILTER (WHERE a.type IN ('BUDGET_THRESHOLD', 'BUDGET_EXCEEDED'))::text AS highest,
            coalesce(bool_or(a.type = 'BUDGET_FORECAST_EXCEEDED'), false) AS forecast
     FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS k(tenant_id, budget_id, window_start)
     JOIN anomalies a ON a.tenant_id = k.tenant_id AND a.budget_id = k.budget_id AND a.window_start = k.window_start
     GROUP BY k.budget_id, k.window_start`,
    [keys.map((k) => k.budget.tenantId), keys.map((k) => k.budget.id), keys.map((k) => k.periodStart)],
  );
  for (const r of rows) {
    out.set(`${r.budget_id} ${r.start_ms}`, { highestPct: r.highest == null ? 0n : parseAmount(String(r.highest)), forecastFired: r.forecast === true });
  }
  return out;
}

const NO_WATERMARK: Watermark = { highestPct: 0n, forecastFired: false };

/**
 * Checks every live budget of every tenant as of `now`; see the header for the rules.
 *
 * Cost per run: O(groups) statements, not O(budgets) — the spend of every budget is read in one
 * statement per (planned segments, scope dimension) group (budgets/batch-usage.ts) and every
 * watermark in one Postgres statement; only budgets that record something ask more (the blamed
 * run, the anomaly). A budget whose group or watermark read fails is checked on its own the old
 * way, so a failure stays that budget's.
 */
export async function detectBudgets(services: Services, now: Date = new Date()): Promise<BudgetDetectionSummary> {
  const pool = services.pg.pool;
  const deps = { pool, notifications: services.notifications };
  const ask: Ask = (q) => answer(services.ch, q);
  const nowMs = now.getTime();
  const budgets = await liveBudgetsOfAllTenants(pool);
  const summary: BudgetDetectionSummary = { budgets: budgets.length, anomalies: 0, incidentsOpened: 0, failed: 0 };
  const errors: string[] = [];

  // Spend: batched; an ask that could not be batched or whose group failed is read per budget.
  const asksOf = ({ budget: b, timezone: tz }: (typeof budgets)[number]): [UsageAsk, UsageAsk] => {
    const w = statusWindows(b, tz, nowMs);
    const base = { tenantId: b.tenantId, scopeType: b.scopeType, scopeValue: b.scopeValue, tz };
    return [{ ...base, window: w.current }, { ...base, window: w.previous }];
  };
  let batch: BatchResult = { usage: new Map(), failed: new Map(), statements: 0 };
  try {
    batch = await batchUsage(services.ch, budgets.flatMap(asksOf));
  } catch {
    // Everything falls back to the per-budget path below.
  }
  const statuses = new Map<string, BudgetStatus>();
  for (const entry of budgets) {
    const { budget: b, timezone: tz } = entry;
    try {
      const [cur, prev] = asksOf(entry);
      const u = usageAt(batch.usage, cur, b.metric);
      const l = usageAt(batch.usage, prev, b.metric);
      statuses.set(b.id, u && l ? statusFrom(b, tz, nowMs, u, l) : await budgetStatus(ask, b, tz, nowMs));
    } catch (e) {
      summary.failed++;
      errors.push(`budget ${b.id} (tenant ${b.tenantId}): ${(e as Error).message}`);
    }
  }

  // Watermarks: one statement; if it fails, each budget reads its own (and fails on its own).
  const checked = budgets.filter(({ budget }) => statuses.has(budget.id));
  let marks: Map<string, Watermark> | null = null;
  try {
    marks = await watermarksOf(
      pool,
      checked.map(({ budget }) => ({ budget, periodStart: new Date(statuses.get(budget.id)!.period.fromMs) })),
    );
  } catch {
    marks = null;
  }

  for (const { budget } of checked) {
    try {
      const s = statuses.get(budget.id)!;
      const mark = marks ? (marks.get(`${budget.id} ${s.period.fromMs}`) ?? NO_WATERMARK) : await watermarkOf(pool, budget, new Date(s.period.fromMs));
      const found = budgetFindings(s, mark);
      if (!found.threshold && !found.forecast) continue;
      const runId = await blamedRun(ask, s);
      const inputs = [...(found.threshold ? [anomalyOf(s, { threshold: found.threshold }, runId)] : []), ...(found.forecast ? [anomalyOf(s, 'forecast', runId)] : [])];
      for (const input of inputs) {
        const r = await recordAnomaly(deps, input, now);
        if (r.created) summary.anomalies++;
        if (r.openedIncident) summary.incidentsOpened++;
      }
    } catch (e) {
      summary.failed++;
      errors.push(`budget ${budget.id} (tenant ${budget.tenantId}): ${(e as Error).message}`);
    }
  }
  if (errors.length) throw new BudgetDetectionError(`budget detection: ${errors.length} of ${budgets.length} budgets failed: ${errors.join('; ')}`);
  return summary;
}
