import type { Pool } from 'pg';
import { SCOPE_DIMENSION, type ScopeType } from '../../control/budgets/budget.js';
import type { Incident } from '../../control/incidents/types.js';
import { DIMENSIONS, type Dimension, type Metric } from '../../query/catalog.js';
import type { Answer, AnswerOptions } from '../../query/execute.js';
import type { DimensionFilter, Question } from '../../query/planner.js';
import type { Config } from '../../config.js';
import { addInto, costFields, COST_METRICS, sumsOf, zeroSums, type CostSums } from '../analytics/statistics/breakdown.js';

export type Ask = (q: Question, opts?: AnswerOptions) => Promise<Answer>;
const DAY_MS = 86_400_000;
export const RUN_METRICS: Metric[] = [...COST_METRICS, 'events'];

/**
 * Every instant an event can have: retention back, the ingest future limit ahead. A run's events
 * are wherever they are; a run-scoped question never needs a narrower window.
 */
export function wholeRetention(config: Pick<Config, 'retentionDays' | 'ingest'>, nowMs = Date.now()) {
  return { fromMs: nowMs - config.retentionDays * DAY_MS, toMs: nowMs + (config.ingest.maxFutureDays + 1) * DAY_MS };
}

export interface CostTotals extends CostSums {
  events: bigint;
}

/** Exact cost, requests, tokens and events of the events matching filters in [fromMs, toMs). */
export async function costTotals(ask: Ask, tenantId: string, w: { fromMs: number; toMs: number }, filters: DimensionFilter[]): Promise<CostTotals> {
  const a = await ask({ tenantId, metrics: RUN_METRICS, dimensions: [], tz: 'UTC', fromMs: w.fromMs, toMs: w.toMs, filters, metadata: [] });
  const sums = zeroSums();
  let events = 0n;
  for (const r of a.rows) {
    addInto(sums, sumsOf(r));
    events += BigInt(r.values.events ?? 0);
  }
  return { ...sums, events };
}

export const costTotalsJson = (t: CostTotals) => ({ ...costFields(t), events: Number(t.events) });

export const runFilter = (runId: string): DimensionFilter[] => [{ dimension: 'run_id', op: 'eq', values: [runId] }];

/**
 * The events an incident is about: its budget's scope when a budget raised it, else its
 * dimension value when the dimension is one events carry, else the whole tenant.
 */
export async function incidentScope(pool: Pool, inc: Incident): Promise<{ dimension: string; value: string | null; filters: DimensionFilter[] }> {
  const { rows } = await pool.query(
    `SELECT b.scope_type, b.scope_value FROM anomalies a JOIN budgets b ON b.id = a.budget_id
     WHERE a.incident_id = $1 AND a.tenant_id = $2 ORDER BY a.created_at LIMIT 1`,
    [inc.id, inc.tenantId],
  );
  if (rows[0]) {
    const type = rows[0].scope_type as ScopeType;
    if (type === 'tenant') return { dimension: 'tenant', value: null, filters: [] };
    const d = SCOPE_DIMENSION[type];
    return { dimension: d, value: rows[0].scope_value, filters: [{ dimension: d, op: 'eq', values: [rows[0].scope_value] }] };
  }
  if ((DIMENSIONS as readonly string[]).includes(inc.dimension)) {
    const d = inc.dimension as Dimension;
    return { dimension: d, value: inc.dimensionValue, filters: [{ dimension: d, op: 'eq', values: [inc.dimensionValue ?? ''] }] };
  }
  return { dimension: 'tenant', value: null, filters: [] };
}
