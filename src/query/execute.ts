import { nanoToUsd } from '../ingest/money.js';
import type { ClickHouseStore } from '../stores/clickhouse/store.js';
import { BREAKDOWN_SOURCES, MEASURES, latencyBucketValue, type Dimension, type Measure, type Metric, type SourceName } from './catalog.js';
import { plan, type ForcedSource, type Plan, type Question } from './planner.js';
import { additiveSql, distinctSql, eachDimensionSql, extentSql, metaAlias } from './sql.js';

export type MetricValue = number | string | null;

export interface AnswerRow {
  /** Bucket start (epoch ms) when bucketed by time. */
  bucket?: number;
  dims: Partial<Record<Dimension, string | boolean>>;
  /** Values of the question's metadataGroup keys ('' where an event lacks the key). */
  meta?: Record<string, string>;
  values: Partial<Record<Metric, MetricValue>>;
  /** True for the top-N remainder row. */
  other?: boolean;
}

export interface Answer {
  rows: AnswerRow[];
  /** Tables that answered, e.g. ['daily', 'hourly', 'raw']. */
  sources: SourceName[];
  plan: Plan;
}

export interface AnswerOptions {
  source?: ForcedSource;
  orderBy?: { field: Metric | Dimension | 'time'; direction: 'asc' | 'desc' };
  limit?: number;
  /** With limit: one more row summing everything past the limit. */
  other?: boolean;
  /** Refuse answers with more groups than this (before limit). */
  maxGroups?: number;
  /** false: only the buckets that have events (e.g. when summing buckets, where zeros add nothing). */
  fillGaps?: boolean;
  /**
   * Each of q.dimensions on its own instead of their combinations: every row carries one
   * dimension. One statement when the per-dimension rollups (raw at most for the edges) answer
   * every dimension, else one question per dimension. maxGroups counts per dimension; no order,
   * limit or other row.
   */
  eachDimension?: boolean;
}

export class TooManyGroupsError extends Error {}

interface Group {
  bucket?: number;
  dims: Partial<Record<Dimension, string | boolean>>;
  /** Metadata group values, in the order of q.metadataGroup. */
  meta: string[];
  m: Record<Measure, bigint>;
  hist: Map<number, bigint>;
  uniqueUsers: bigint;
  uniqueAgents: bigint;
  uniqueRuns: bigint;
  /** Exact first/last event time (epoch ms); null when the group has no events. */
  firstTs: bigint | null;
  lastTs: bigint | null;
}

// A literal, not Object.fromEntries(MEASURES…): a breakdown makes one per group (10k users).
const zeroMeasures = (): Record<Measure, bigint> => ({
  events: 0n,
  requests: 0n,
  input_tokens: 0n,
  output_tokens: 0n,
  compute_units: 0n,
  cost_nano: 0n,
  cost_unpriced: 0n,
  failures: 0n,
  latency_count: 0n,
  latency_sum: 0n,
});

function emptyGroup(bucket: number | undefined, dims: Group['dims'], meta: string[] = []): Group {
  return { bucket, dims, meta, m: zeroMeasures(), hist: new Map(), uniqueUsers: 0n, uniqueAgents: 0n, uniqueRuns: 0n, firstTs: null, lastTs: null };
}

// The remainder's distinct counts are re-asked by filtering the one dimension; a metadata
// grouping cannot be filtered that way, so its remainder has none.
const metaGrouped = (q: Question) => (q.metadataGroup?.length ?? 0) > 0;

const minTs = (a: bigint | null, b: bigint | null) => (a === null ? b : b === null ? a : a < b ? a : b);
const maxTs = (a: bigint | null, b: bigint | null) => (a === null ? b : b === null ? a : a > b ? a : b);

/** Answers a question from the plan's sources; the same numbers whichever sources answered. */
export async function answer(ch: ClickHouseStore, q: Question, opts: AnswerOptions = {}): Promise<Answer> {
  if (opts.eachDimension) return answerEachDimension(ch, q, opts);
  const p = plan(q, opts.source ?? 'auto');
  const groups = new Map<string, Group>();
  const metaKeys = q.metadataGroup ?? [];
  const metaOf = (row: Record<string, unknown>) => metaKeys.map((_, i) => String(row[metaAlias(i)] ?? ''));
  // One dimension, no bucket, no metadata (a breakdown: thousands of users): its value is the key.
  const single = q.dimensions.length === 1 && !q.granularity && metaKeys.length === 0 ? q.dimensions[0]! : null;
  const keyOf = (row: Record<string, unknown>) =>
    single !== null && typeof row[single] === 'string' ? (row[single] as string) : JSON.stringify([row.bucket ?? null, ...q.dimensions.map((d) => row[d]), ...metaOf(row)]);
  const groupFor = (row: Record<string, unknown>) => {
    const k = keyOf(row);
    let g = groups.get(k);
    if (!g) {
      const dims: Group['dims'] = {};
      for (const d of q.dimensions) dims[d] = row[d] as string | boolean;
      g = emptyGroup(row.bucket === undefined ? undefined : Number(row.bucket) * 1000, dims, metaOf(row));
      groups.set(k, g);
    }
    return g;
  };

  if (p.additive && p.additive.segments.length) {
    const { sql, params } = additiveSql(q, p.additive);
    for (const row of await ch.query<Record<string, unknown>>(sql, params)) {
      const g = groupFor(row);
      for (const m of p.additive.measures) g.m[m] += BigInt(row[m] as string);
      if (p.additive.histogram) {
        for (const [b, n] of Object.entries((row.latency_hist ?? {}) as Record<string, string>)) {
          g.hist.set(Number(b), (g.hist.get(Number(b)) ?? 0n) + BigInt(n));
        }
      }
    }
  }
  if (p.distinct) {
    const { sql, params } = distinctSql(q, p.distinct.segments);
    for (const row of await ch.query<Record<string, unknown>>(sql, params)) {
      const g = groupFor(row);
      g.uniqueUsers = BigInt(row.unique_users as string);
      g.uniqueAgents = BigInt(row.unique_agents as string);
      if (row.unique_runs !== undefined) g.uniqueRuns = BigInt(row.unique_runs as string);
    }
  }
  if (p.extent) {
    const { sql, params } = extentSql(q, p.extent);
    for (const row of await ch.query<Record<string, unknown>>(sql, params)) {
      const g = groupFor(row);
      g.firstTs = BigInt(row.first_ts as string);
      g.lastTs = BigInt(row.last_ts as string);
    }
  }
  if (opts.maxGroups !== undefined && groups.size > opts.maxGroups) {
    throw new TooManyGroupsError(`the answer has ${groups.size} groups, more than ${opts.maxGroups}; add filters or a coarser granularity`);
  }

  let list = [...groups.values()];
  if (p.buckets && opts.fillGaps !== false) list = fillGaps(list, p.buckets, q.dimensions, metaKeys);

  const order = opts.orderBy ?? (q.granularity ? { field: 'time' as const, direction: 'asc' as const } : { field: q.metrics[0]!, direction: 'desc' as const });
  list.sort(comparator(order, q));
  let otherGroup: Group | null = null;
  if (opts.limit !== undefined && list.length > opts.limit) {
    const rest = list.slice(opts.limit);
    list = list.slice(0, opts.limit);
    if (opts.other) otherGroup = await otherRow(ch, q, rest, opts);
  }
  const rows = list.map((g) => toRow(g, q.metrics, metaKeys));
  if (otherGroup) rows.push({ ...toRow(otherGroup, q.metrics, []), other: true });
  const sources = [
    ...new Set([...(p.additive?.segments.map((s) => s.source) ?? []), ...(p.distinct?.segments.map((s) => s.source) ?? []), ...(p.extent ? [p.extent.source] : [])]),
  ];
  return { rows, sources, plan: p };
}

/**
 * The single-dimension plans of q's dimensions when one statement can answer them all: the same
 * segments for every dimension, each from a per-dimension rollup or raw, additive metrics only.
 */
export function eachDimensionPlan(q: Question, opts: Pick<AnswerOptions, 'source'>): Plan | null {
  if (q.granularity || q.filters.length || q.metadata.length || q.metadataGroup?.length || !q.dimensions.length) return null;
  const plans = q.dimensions.map((d) => plan({ ...q, dimensions: [d] }, opts.source ?? 'auto'));
  const first = plans[0]!;
  if (first.distinct || first.extent || !first.additive) return null;
  const segs = JSON.stringify(first.additive.segments);
  if (!plans.every((p) => JSON.stringify(p.additive?.segments) === segs)) return null;
  const sources = first.additive.segments.map((s) => s.source);
  if (!sources.some((s) => BREAKDOWN_SOURCES.has(s)) || !sources.every((s) => BREAKDOWN_SOURCES.has(s) || s === 'raw')) return null;
  return first;
}

async function answerEachDimension(ch: ClickHouseStore, q: Question, opts: AnswerOptions): Promise<Answer> {
  const single = { source: opts.source, maxGroups: opts.maxGroups, fillGaps: opts.fillGaps };
  const p = eachDimensionPlan(q, opts);
  if (!p) {
    const answers = await Promise.all(q.dimensions.map((d) => answer(ch, { ...q, dimensions: [d] }, single)));
    return { rows: answers.flatMap((a) => a.rows), sources: [...new Set(answers.flatMap((a) => a.sources))], plan: answers[0]!.plan };
  }
  const additive = p.additive!;
  const { sql, params } = eachDimensionSql({ ...q, dimensions: [] }, q.dimensions, additive);
  const groups = new Map<string, Group>();
  const perDim = new Map<string, number>();
  for (const row of await ch.query<Record<string, unknown>>(sql, params)) {
    const dim = row.dim as Dimension;
    const value = String(row.value);
    const g = emptyGroup(undefined, { [dim]: value });
    groups.set(JSON.stringify([dim, value]), g);
    perDim.set(dim, (perDim.get(dim) ?? 0) + 1);
    for (const m of additive.measures) g.m[m] = BigInt(row[m] as string);
    if (additive.histogram) {
      for (const [b, n] of Object.entries((row.latency_hist ?? {}) as Record<string, string>)) g.hist.set(Number(b), BigInt(n));
    }
  }
  for (const [dim, n] of perDim) {
    if (opts.maxGroups !== undefined && n > opts.maxGroups) {
      throw new TooManyGroupsError(`the ${dim} breakdown has ${n} groups, more than ${opts.maxGroups}; add filters or a coarser granularity`);
    }
  }
  const rows = [...groups.values()].map((g) => toRow(g, q.metrics, []));
  return { rows, sources: [...new Set(additive.segments.map((s) => s.source))], plan: p };
}

/** Every bucket for every dimension combination seen: a bucket without events reads 0. */
function fillGaps(list: Group[], buckets: number[], dims: Dimension[], metaKeys: string[]): Group[] {
  // A combination is the dimension values plus the metadata group values.
  const comboKey = (g: Group) => JSON.stringify([...dims.map((d) => g.dims[d]), ...g.meta]);
  const combos = new Map<string, Group>();
  for (const g of list) combos.set(comboKey(g), g);
  if (combos.size === 0 && dims.length === 0 && metaKeys.length === 0) combos.set('[]', emptyGroup(undefined, {}));
  const have = new Set(list.map((g) => JSON.stringify([g.bucket, comboKey(g)])));
  const out = [...list];
  for (const [key, g] of combos) {
    for (const b of buckets) {
      if (!have.has(JSON.stringify([b, key]))) out.push(emptyGroup(b, g.dims, g.meta));
    }
  }
  return out;
}

/** Everything past the top N, summed; distinct counts re-asked for the remainder (not additive). */
async function otherRow(ch: ClickHouseStore, q: Question, rest: Group[], opts: AnswerOptions): Promise<Group> {
  const g = emptyGroup(undefined, {});
  for (const r of rest) {
    for (const m of MEASURES) g.m[m] += r.m[m];
    for (const [b, n] of r.hist) g.hist.set(b, (g.hist.get(b) ?? 0n) + n);
    g.firstTs = minTs(g.firstTs, r.firstTs);
    g.lastTs = maxTs(g.lastTs, r.lastTs);
  }
  const distinctMetrics = q.metrics.filter((m) => m === 'unique_users' || m === 'unique_agents' || m === 'unique_runs');
  const wantsDistinct = distinctMetrics.length > 0;
  const dim = q.dimensions[0];
  if (wantsDistinct && q.dimensions.length === 1 && !metaGrouped(q) && dim && dim !== 'success' && !q.granularity) {
    const values = rest.map((r) => String(r.dims[dim]));
    const sub = await answer(
      ch,
      { ...q, dimensions: [], metrics: distinctMetrics, filters: [...q.filters, { dimension: dim, op: 'in', values }] },
      { source: opts.source },
    );
    const v = sub.rows[0]?.values;
    g.uniqueUsers = BigInt((v?.unique_users as number | undefined) ?? 0);
    g.uniqueAgents = BigInt((v?.unique_agents as number | undefined) ?? 0);
    g.uniqueRuns = BigInt((v?.unique_runs as number | undefined) ?? 0);
  } else if (wantsDistinct) {
    g.uniqueUsers = -1n; // not defined for this remainder
    g.uniqueAgents = -1n;
    g.uniqueRuns = -1n;
  }
  return g;
}

function percentile(hist: Map<number, bigint>, q: number): number | null {
  let total = 0n;
  for (const n of hist.values()) total += n;
  if (total === 0n) return null;
  // Nearest rank: the smallest bucket whose cumulative count reaches ceil(q * N).
  const rank = BigInt(Math.ceil(q * Number(total)));
  let seen = 0n;
  for (const b of [...hist.keys()].sort((a, c) => a - c)) {
    seen += hist.get(b)!;
    if (seen >= rank) return latencyBucketValue(b);
  }
  return null;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function metricValue(g: Group, metric: Metric): MetricValue {
  const m = g.m;
  switch (metric) {
    case 'total_tokens':
      return Number(m.input_tokens + m.output_tokens);
    case 'cost':
      return nanoToUsd(m.cost_nano);
    case 'success_rate':
      return m.events === 0n ? null : round(Number(m.events - m.failures) / Number(m.events), 6);
    case 'latency_avg':
      return m.latency_count === 0n ? null : round(Number(m.latency_sum) / Number(m.latency_count), 3);
    case 'cost_per_request':
      return m.requests === 0n ? null : nanoToUsd((m.cost_nano * 2n + m.requests) / (2n * m.requests));
    case 'unique_users':
      return g.uniqueUsers < 0n ? null : Number(g.uniqueUsers);
    case 'unique_agents':
      return g.uniqueAgents < 0n ? null : Number(g.uniqueAgents);
    case 'unique_runs':
      return g.uniqueRuns < 0n ? null : Number(g.uniqueRuns);
    case 'latency_p50':
      return percentile(g.hist, 0.5);
    case 'latency_p95':
      return percentile(g.hist, 0.95);
    case 'latency_p99':
      return percentile(g.hist, 0.99);
    case 'first_seen':
      return g.firstTs === null ? null : new Date(Number(g.firstTs)).toISOString();
    case 'last_seen':
      return g.lastTs === null ? null : new Date(Number(g.lastTs)).toISOString();
    default:
      return Number(m[metric]);
  }
}

function toRow(g: Group, metrics: Metric[], metaKeys: string[]): AnswerRow {
  const values: AnswerRow['values'] = {};
  for (const metric of metrics) values[metric] = metricValue(g, metric);
  const meta = metaKeys.length ? { meta: Object.fromEntries(metaKeys.map((k, i) => [k, g.meta[i] ?? ''])) } : {};
  return { ...(g.bucket === undefined ? {} : { bucket: g.bucket }), dims: g.dims, ...meta, values };
}

/**
 * Sort order of the groups. Each group's key is computed once (a sort compares O(n log n) times:
 * formatting 10k users' costs as decimal strings per comparison took ~40 ms of a request). Money
 * compares as integer nano-USD, exactly.
 */
function comparator(order: NonNullable<AnswerOptions['orderBy']>, q: Question) {
  const dir = order.direction === 'asc' ? 1 : -1;
  const value = (g: Group): number | string | bigint => {
    if (order.field === 'time') return g.bucket ?? 0;
    if ((q.dimensions as string[]).includes(order.field)) return String(g.dims[order.field as Dimension]);
    // Times compare as instants, not as strings.
    if (order.field === 'first_seen' || order.field === 'last_seen') {
      const t = order.field === 'first_seen' ? g.firstTs : g.lastTs;
      return t === null ? Number.NEGATIVE_INFINITY : Number(t);
    }
    if (order.field === 'cost') return g.m.cost_nano;
    const v = metricValue(g, order.field as Metric);
    if (v === null) return Number.NEGATIVE_INFINITY;
    return typeof v === 'string' ? Number(v) : v;
  };
  const values = new Map<Group, number | string | bigint>();
  const ties = new Map<Group, string>();
  const valueOf = (g: Group) => {
    let v = values.get(g);
    if (v === undefined) values.set(g, (v = value(g)));
    return v;
  };
  const tieOf = (g: Group) => {
    let t = ties.get(g);
    if (t === undefined) ties.set(g, (t = JSON.stringify([g.bucket ?? 0, ...q.dimensions.map((d) => g.dims[d]), ...g.meta])));
    return t;
  };
  return (a: Group, b: Group) => {
    const va = valueOf(a);
    const vb = valueOf(b);
    if (va < vb) return -dir;
    if (va > vb) return dir;
    const ta = tieOf(a);
    const tb = tieOf(b);
    return ta < tb ? -1 : ta > tb ? 1 : 0;
  };
}
