/**
 * What a question may ask for: dimensions to group and filter by, and metrics. The names here
 * are the whole vocabulary of the query API; anything else is refused with the valid list.
 * Columns come only from this file, never from input, which is what keeps SQL injection out of
 * group_by and filters.
 */
export type SourceName =
  | 'raw'
  | 'hourly'
  | 'daily'
  | 'scope_hourly'
  | 'scope_daily'
  | 'totals_hourly'
  | 'totals_daily'
  | 'actors_daily'
  | 'actor_days'
  | 'actor_hours'
  | 'breakdown_hourly'
  | 'breakdown_daily';

export const DIMENSIONS = [
  'event_type',
  'project',
  'environment',
  'model',
  'provider',
  'feature',
  'api_key_id',
  'endpoint',
  'status',
  'success',
  'user_id',
  'agent_id',
  'run_id',
  'policy_id',
  'source',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Dimensions each rollup keeps (raw keeps all, plus metadata keys). */
const ROLLUP_DIMS: readonly Dimension[] = ['event_type', 'project', 'environment', 'model', 'provider', 'feature', 'api_key_id', 'endpoint', 'status', 'success'];
const ACTOR_DIMS: readonly Dimension[] = ['event_type', 'project', 'environment', 'success'];
/** The narrow rollups: scope (project, environment), event type and outcome only. */
const SCOPE_DIMS: readonly Dimension[] = ['event_type', 'project', 'environment', 'success'];

/**
 * The per-dimension rollups (one row per dimension value, clickhouse/0007): the dimensions asked
 * alone that scope_* does not keep, plus project (the cost breakdowns ask it with the other
 * three). They answer questions that name exactly one of these (group and/or filter), without
 * percentiles: they keep no latency histogram.
 */
export const BREAKDOWN_DIMS: readonly Dimension[] = ['project', 'model', 'provider', 'feature', 'api_key_id', 'endpoint'];

export const SOURCE_DIMS: Record<SourceName, ReadonlySet<Dimension>> = {
  raw: new Set(DIMENSIONS),
  hourly: new Set(ROLLUP_DIMS),
  daily: new Set(ROLLUP_DIMS),
  scope_hourly: new Set(SCOPE_DIMS),
  scope_daily: new Set(SCOPE_DIMS),
  // whole-tenant totals: no dimension at all
  totals_hourly: new Set(),
  totals_daily: new Set(),
  // user_id / agent_id are served here as actor_id of one actor_kind.
  actors_daily: new Set([...ACTOR_DIMS, 'user_id', 'agent_id']),
  actor_days: new Set(['user_id', 'agent_id']),
  actor_hours: new Set(['user_id', 'agent_id']),
  breakdown_hourly: new Set(BREAKDOWN_DIMS),
  breakdown_daily: new Set(BREAKDOWN_DIMS),
};

/** Sources keeping one row per (dimension, value): a question may name one dimension only. */
export const BREAKDOWN_SOURCES: ReadonlySet<SourceName> = new Set(['breakdown_hourly', 'breakdown_daily']);

/** Sources without latency_hist: a question with a percentile is never planned on them. */
export const NO_HISTOGRAM_SOURCES: ReadonlySet<SourceName> = new Set(['breakdown_hourly', 'breakdown_daily', 'actors_daily', 'actor_days', 'actor_hours']);

/** Sources keeping a row per actor (user or agent) rather than per event. */
export const ACTOR_SOURCES: ReadonlySet<SourceName> = new Set(['actors_daily', 'actor_days', 'actor_hours']);

/** The additive measures every source sums the same way; everything else derives from them. */
export const MEASURES = [
  'events',
  'requests',
  'input_tokens',
  'output_tokens',
  'compute_units',
  'cost_nano',
  'cost_unpriced',
  'failures',
  'latency_count',
  'latency_sum',
] as const;
export type Measure = (typeof MEASURES)[number];

/** Measures actors_daily, actor_days and actor_hours keep (no failures or latency there). */
export const ACTOR_MEASURES: ReadonlySet<Measure> = new Set(['events', 'requests', 'input_tokens', 'output_tokens', 'compute_units', 'cost_nano']);

export const METRICS = [
  'events',
  'requests',
  'input_tokens',
  'output_tokens',
  'total_tokens',
  'compute_units',
  'cost',
  'cost_unpriced',
  'failures',
  'unique_users',
  'unique_agents',
  'unique_runs',
  'success_rate',
  'latency_avg',
  'latency_p50',
  'latency_p95',
  'latency_p99',
  'cost_per_request',
  'first_seen',
  'last_seen',
] as const;
export type Metric = (typeof METRICS)[number];

// 'extent': the exact first/last event time (ISO string). Rollups keep only the hour or day, so
// it is always read from raw events, in a query of its own (like distinct counts).
export type MetricKind = 'additive' | 'distinct' | 'histogram' | 'extent';

/** For each metric: what it is computed from. */
export const METRIC_INPUTS: Record<Metric, { kind: MetricKind; measures: Measure[] }> = {
  events: { kind: 'additive', measures: ['events'] },
  requests: { kind: 'additive', measures: ['requests'] },
  input_tokens: { kind: 'additive', measures: ['input_tokens'] },
  output_tokens: { kind: 'additive', measures: ['output_tokens'] },
  total_tokens: { kind: 'additive', measures: ['input_tokens', 'output_tokens'] },
  compute_units: { kind: 'additive', measures: ['compute_units'] },
  cost: { kind: 'additive', measures: ['cost_nano'] },
  cost_unpriced: { kind: 'additive', measures: ['cost_unpriced'] },
  failures: { kind: 'additive', measures: ['failures'] },
  success_rate: { kind: 'additive', measures: ['events', 'failures'] },
  latency_avg: { kind: 'additive', measures: ['latency_count', 'latency_sum'] },
  cost_per_request: { kind: 'additive', measures: ['cost_nano', 'requests'] },
  unique_users: { kind: 'distinct', measures: [] },
  unique_agents: { kind: 'distinct', measures: [] },
  unique_runs: { kind: 'distinct', measures: [] },
  latency_p50: { kind: 'histogram', measures: [] },
  latency_p95: { kind: 'histogram', measures: [] },
  latency_p99: { kind: 'histogram', measures: [] },
  first_seen: { kind: 'extent', measures: [] },
  last_seen: { kind: 'extent', measures: [] },
};

export const GRANULARITIES = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export const isDimension = (s: string): s is Dimension => (DIMENSIONS as readonly string[]).includes(s);
export const isMetric = (s: string): s is Metric => (METRICS as readonly string[]).includes(s);

/**
 * Latency histogram buckets (the events.latency_bucket column): exact milliseconds below 100,
 * then 1 % wide. A bucket's value is its lower bound, so a percentile is the same number from
 * raw events and from either rollup.
 */
export function latencyBucketValue(bucket: number): number {
  return bucket < 100 ? bucket : Math.round(100 * Math.pow(1.01, bucket - 100));
}
