import type { Metric, SourceName } from '../../../query/catalog.js';
import type { AnswerRow } from '../../../query/execute.js';
import { windowQuestion, type Question } from '../../../query/planner.js';
import type { Ask, StatisticsParams } from './params.js';

/**
 * Usage statistics (seed 000 topic "usage"): totals and a gap-filled series, both planner
 * answers, so the numbers are the same whichever tables answered.
 */
const TOTAL_METRICS: Metric[] = [
  'requests',
  'compute_units',
  'total_tokens',
  'input_tokens',
  'output_tokens',
  'events',
  'unique_users',
  'unique_agents',
  'latency_p95',
  'success_rate',
];
const SERIES_METRICS: Metric[] = ['requests', 'compute_units', 'total_tokens'];

export interface UsageTotals {
  requests: number;
  compute_units: number;
  tokens: number;
  input_tokens: number;
  output_tokens: number;
  events: number;
  unique_users: number;
  unique_agents: number;
  /** Milliseconds; null when no event in the window carried a latency. */
  latency_p95: number | null;
  /** Share of events that succeeded, 0..1; null without events. */
  success_rate: number | null;
}

export interface UsagePoint {
  /** Bucket start, epoch ms. */
  bucket: number;
  requests: number;
  compute_units: number;
  tokens: number;
}

const base = (p: StatisticsParams): Omit<Question, 'metrics'> => windowQuestion({ tenantId: p.tenantId, fromMs: p.fromMs, toMs: p.toMs, tz: p.tz }, { metrics: [], filters: p.filters });

/** The planner questions behind the usage topic (also what `_status` counts tables from). */
export const usageQuestions = (p: StatisticsParams) => ({
  totals: { ...base(p), metrics: TOTAL_METRICS } satisfies Question,
  series: { ...base(p), metrics: SERIES_METRICS, granularity: p.resolution } satisfies Question,
});

const num = (row: AnswerRow | undefined, m: Metric): number => Number(row?.values[m] ?? 0);
const nullable = (row: AnswerRow | undefined, m: Metric): number | null => {
  const v = row?.values[m];
  return v === null || v === undefined ? null : Number(v);
};

export async function usageSeries(ask: Ask, p: StatisticsParams): Promise<{ series: UsagePoint[]; sources: SourceName[] }> {
  const a = await ask(usageQuestions(p).series, { source: p.source });
  const series = a.rows.map((r) => ({
    bucket: r.bucket!,
    requests: num(r, 'requests'),
    compute_units: num(r, 'compute_units'),
    tokens: num(r, 'total_tokens'),
  }));
  return { series, sources: a.sources };
}

export async function usageStatistics(ask: Ask, p: StatisticsParams): Promise<{ totals: UsageTotals; series: UsagePoint[]; sources: SourceName[] }> {
  const [t, s] = await Promise.all([ask(usageQuestions(p).totals, { source: p.source }), usageSeries(ask, p)]);
  // No dimensions and no buckets: one row (aggregates over an empty set still answer one).
  const row = t.rows[0];
  return {
    totals: {
      requests: num(row, 'requests'),
      compute_units: num(row, 'compute_units'),
      tokens: num(row, 'total_tokens'),
      input_tokens: num(row, 'input_tokens'),
      output_tokens: num(row, 'output_tokens'),
      events: num(row, 'events'),
      unique_users: num(row, 'unique_users'),
      unique_agents: num(row, 'unique_agents'),
      latency_p95: nullable(row, 'latency_p95'),
      success_rate: nullable(row, 'success_rate'),
    },
    series: s.series,
    sources: [...new Set([...t.sources, ...s.sources])],
  };
}
