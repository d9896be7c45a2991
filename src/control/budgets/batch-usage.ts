import { nanoToUsd } from '../../ingest/money.js';
import { ACTOR_SOURCES, BREAKDOWN_SOURCES, type Dimension, type Measure, type SourceName } from '../../query/catalog.js';
import type { Answer } from '../../query/execute.js';
import { plan, type Segment } from '../../query/planner.js';
import { dimColumn, measureExpr, SOURCE_TABLE } from '../../query/sql.js';
import type { ClickHouseStore } from '../../stores/clickhouse/store.js';
import { SCOPE_DIMENSION, type BudgetMetric, type ScopeType } from './budget.js';
import type { PeriodWindow } from './period.js';
import { usageOf, usageQuestion, type Usage } from './status.js';

/**
 * Budget usage for many (tenant, scope, window) at once, for detection: the per-budget path asks
 * the planner twice per budget (O(budgets) queries a minute); here asks that the planner would
 * answer from the same segments (same sources and bounds — so the same window, whichever time
 * zone produced it) and the same scope dimension share ONE statement over all their tenants and
 * scope values, grouped by (tenant, value). Most tenants share UTC and calendar periods, so a run
 * is a few dozen statements whatever the number of budgets.
 *
 * Exactness: the segments are the planner's own plan() for the very question budgetStatus asks,
 * each segment reads the same table with the same bounds, filter column and sum expressions as
 * src/query/sql.ts, and the sums go through the same usageOf() as the answer would — so the
 * numbers are budgetStatus's (test/control/budgets/batch-usage.test.ts compares them).
 * Measures: all of a budget's metrics at once (every planned source keeps them all; which
 * measures are summed does not change the plan for these questions — asserted per ask below).
 */

export interface UsageAsk {
  tenantId: string;
  scopeType: ScopeType;
  scopeValue: string | null;
  window: PeriodWindow;
  tz: string;
}

const MEASURES: Measure[] = ['events', 'requests', 'input_tokens', 'output_tokens', 'cost_nano'];
/** The metric whose question plans the group: tokens asks the most measures; the plan check below covers the others. */
const PLAN_METRICS: BudgetMetric[] = ['cost', 'tokens', 'requests'];

const HOUR_SOURCES: ReadonlySet<SourceName> = new Set(['hourly', 'scope_hourly', 'totals_hourly', 'actor_hours', 'breakdown_hourly']);
const DAY_SOURCES: ReadonlySet<SourceName> = new Set(['daily', 'scope_daily', 'totals_daily', 'actors_daily', 'actor_days', 'breakdown_daily']);

export class UnbatchableAsk extends Error {}

/** The key of an ask's answer in batchUsage's result. */
export const askKey = (a: Pick<UsageAsk, 'tenantId' | 'scopeType' | 'scopeValue' | 'window'>) =>
  JSON.stringify([a.tenantId, a.scopeType, a.scopeType === 'tenant' ? '' : (a.scopeValue ?? ''), a.window.fromMs, a.window.toMs]);

/** The planner's segments for an ask; the same for every budget metric, or the ask is not batchable. */
export function askSegments(a: UsageAsk): Segment[] {
  if (!Number.isFinite(a.window.fromMs) || !Number.isFinite(a.window.toMs)) throw new UnbatchableAsk('window is not a valid instant range');
  const plans = PLAN_METRICS.map((m) => plan(usageQuestion(a.tenantId, a.scopeType, a.scopeValue, m, a.window, a.tz)));
  const segs = plans.map((p) => JSON.stringify(p.additive?.segments ?? null));
  if (new Set(segs).size !== 1 || !plans[0]!.additive) throw new UnbatchableAsk('metrics plan differently');
  for (const s of plans[0]!.additive.segments) {
    if (s.source !== 'raw' && !HOUR_SOURCES.has(s.source) && !DAY_SOURCES.has(s.source)) throw new UnbatchableAsk(`source ${s.source}`);
  }
  return plans[0]!.additive.segments;
}


interface GroupSql {
  sql: string;
  params: Record<string, unknown>;
}

/** One statement: per (tenant, scope value), the measures summed over the segments. */
export function groupSql(segments: Segment[], scope: Dimension | null, tenants: string[], values: string[]): GroupSql {
  const params: Record<string, unknown> = { tenants };
  let n = 0;
  const add = (type: string, v: unknown) => {
    const name = `p${n++}`;
    params[name] = v;
    return `{${name}:${type}}`;
  };
  const inner = segments.map((seg) => {
    const s = seg.source;
    const where = ['tenant_id IN {tenants:Array(String)}'];
    if (s === 'raw') where.push(`ts >= fromUnixTimestamp64Milli(${add('Int64', seg.fromMs)})`, `ts < fromUnixTimestamp64Milli(${add('Int64', seg.toMs)})`);
    else if (HOUR_SOURCES.has(s)) where.push(`hour >= toDateTime(${add('UInt32', seg.fromMs / 1000)})`, `hour < toDateTime(${add('UInt32', seg.toMs / 1000)})`);
    else {
      const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
      where.push(`day >= ${add('Date', day(seg.fromMs))}`, `day < ${add('Date', day(seg.toMs))}`);
    }
    let value = "''";
    if (scope) {
      const col = dimColumn(s, scope);
      if (BREAKDOWN_SOURCES.has(s)) where.push(`dim = ${add('String', scope)}`);
      if (ACTOR_SOURCES.has(s)) where.push(`actor_kind = ${add('String', scope === 'agent_id' ? 'agent' : 'user')}`);
      where.push(`${col} IN {values:Array(String)}`);
      value = `toString(${col})`;
    }
    const cols = [`toString(tenant_id) AS t`, `${value} AS v`, ...MEASURES.map((m) => `${measureExpr(s, m)} AS ${m}`)];
    return `SELECT ${cols.join(', ')} FROM ${SOURCE_TABLE[s]} WHERE ${where.join(' AND ')} GROUP BY t, v`;
  });
  if (scope) params.values = values;
  if (inner.length === 1) return { sql: inner[0]!, params };
  const outer = ['t', 'v', ...MEASURES.map((m) => `${m === 'cost_nano' ? 'toInt64' : 'toUInt64'}(sum(${m})) AS ${m}`)];
  return { sql: `SELECT ${outer.join(', ')} FROM (${inner.join(' UNION ALL ')}) GROUP BY t, v`, params };
}

/** The answer row's values for the measures, as answer() derives its metrics from them. */
function answerOf(row: Record<string, unknown> | undefined): Answer {
  if (!row) return { rows: [], sources: [], plan: { additive: null, distinct: null, extent: null, buckets: null } };
  const m = (k: Measure) => BigInt(String(row[k]));
  const values = {
    events: Number(m('events')),
    requests: Number(m('requests')),
    input_tokens: Number(m('input_tokens')),
    output_tokens: Number(m('output_tokens')),
    cost: nanoToUsd(m('cost_nano')),
  };
  return { rows: [{ dims: {}, values }], sources: [], plan: { additive: null, distinct: null, extent: null, buckets: null } };
}

/** Raw measures per ask key (askKey), for the metric to be read with usageAt. */
export type BatchedUsage = Map<string, Answer>;

export const usageAt = (batch: BatchedUsage, a: UsageAsk, metric: BudgetMetric): Usage | undefined => {
  const answer = batch.get(askKey(a));
  return answer && usageOf(metric, answer);
};

export interface BatchResult {
  usage: BatchedUsage;
  /** Asks whose group statement failed or that cannot be batched, with why. */
  failed: Map<string, string>;
  statements: number;
}

/**
 * Reads every ask in as few statements as there are (segments, scope dimension) groups. A group
 * that fails leaves its asks in `failed` (the caller checks those budgets one by one), so one bad
 * group does not stop the others.
 */
export async function batchUsage(ch: ClickHouseStore, asks: UsageAsk[]): Promise<BatchResult> {
  const failed = new Map<string, string>();
  const groups = new Map<string, { segments: Segment[]; scope: Dimension | null; asks: UsageAsk[] }>();
  // The plan depends on the scope kind and the window only (tenant and value are filter values).
  const planned = new Map<string, Segment[] | Error>();
  for (const a of asks) {
    let segments: Segment[];
    try {
      const pk = JSON.stringify([a.scopeType, a.window.fromMs, a.window.toMs, a.tz]);
      let p = planned.get(pk);
      if (!p) {
        try {
          p = askSegments(a);
        } catch (e) {
          p = e as Error;
        }
        planned.set(pk, p);
      }
      if (p instanceof Error) throw p;
      segments = p;
    } catch (e) {
      failed.set(askKey(a), (e as Error).message);
      continue;
    }
    const scope = a.scopeType === 'tenant' ? null : SCOPE_DIMENSION[a.scopeType];
    const key = JSON.stringify([scope, segments]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { segments, scope, asks: [] }));
    g.asks.push(a);
  }
  const usage: BatchedUsage = new Map();
  let statements = 0;
  // One statement at a time: detection must not crowd out the queries people wait on.
  for (const g of groups.values()) {
    const tenants = [...new Set(g.asks.map((a) => a.tenantId))];
    const values = [...new Set(g.asks.map((a) => a.scopeValue ?? ''))];
    try {
      const { sql, params } = groupSql(g.segments, g.scope, tenants, values);
      statements++;
      const rows = new Map<string, Record<string, unknown>>();
      for (const r of await ch.query<Record<string, unknown>>(sql, params)) rows.set(JSON.stringify([String(r.t), String(r.v)]), r);
      for (const a of g.asks) usage.set(askKey(a), answerOf(rows.get(JSON.stringify([a.tenantId, g.scope ? (a.scopeValue ?? '') : '']))));
    } catch (e) {
      for (const a of g.asks) failed.set(askKey(a), (e as Error).message);
    }
  }
  return { usage, failed, statements };
}
