import type { SourceName } from '../../../query/catalog.js';
import { eachDimensionPlan, TooManyGroupsError } from '../../../query/execute.js';
import { windowQuestion, type Question } from '../../../query/planner.js';
import { addInto, BREAKDOWNS, breakdownRows, COST_METRICS, groupSums, sumsOf, zeroSums, type BreakdownRow, type CostSums } from './breakdown.js';
import type { Ask, StatisticsParams } from './params.js';

/**
 * Cost statistics (seed 000 topic "cost"): a gap-filled spend series, totals and breakdowns.
 * Planner questions: the series; model, feature, api key and project each on its own when the
 * per-dimension rollups (breakdown_*) answer them (a few rows per hour each), otherwise the four
 * in one grouping folded per dimension here (one scan of the wide rollup or raw instead of four);
 * users (actor_days or raw).
 */
const FOLDED = ['model', 'feature', 'api_key', 'project'] as const;
type Folded = (typeof FOLDED)[number];

/** Above this many model × feature × key × project combinations, ask per dimension instead. */
const MAX_COMBINED_GROUPS = 20_000;
/** Groups one breakdown may have before the request is refused (rows past `limit` are summed). */
export const MAX_BREAKDOWN_GROUPS = 100_000;

const base = (p: StatisticsParams): Omit<Question, 'metrics' | 'dimensions'> => windowQuestion({ tenantId: p.tenantId, fromMs: p.fromMs, toMs: p.toMs, tz: p.tz }, { metrics: [], filters: p.filters });

/** The planner questions behind the cost topic (also what `_status` counts tables from). */
export const costQuestions = (p: StatisticsParams) => ({
  series: { ...base(p), metrics: COST_METRICS, dimensions: [], granularity: p.resolution } satisfies Question,
  folded: { ...base(p), metrics: COST_METRICS, dimensions: FOLDED.map((k) => BREAKDOWNS[k].dimension) } satisfies Question,
  // Each breakdown alone: what the per-dimension rollups answer (folded reads them all at once).
  ...(Object.fromEntries(FOLDED.map((k) => [`by_${k}`, { ...base(p), metrics: COST_METRICS, dimensions: [BREAKDOWNS[k].dimension] }])) as Record<`by_${Folded}`, Question>),
  users: { ...base(p), metrics: COST_METRICS, dimensions: [BREAKDOWNS.user.dimension] } satisfies Question,
});

export interface CostPoint {
  /** Bucket start, epoch ms. */
  bucket: number;
  sums: CostSums;
}

export async function costSeries(ask: Ask, p: StatisticsParams): Promise<{ series: CostPoint[]; sources: SourceName[] }> {
  const a = await ask(costQuestions(p).series, { source: p.source });
  return { series: a.rows.map((r) => ({ bucket: r.bucket!, sums: sumsOf(r) })), sources: a.sources };
}

async function foldedGroups(ask: Ask, p: StatisticsParams): Promise<{ groups: Record<Folded, Map<string, CostSums>>; sources: SourceName[] }> {
  const q = costQuestions(p).folded;
  // The per-dimension rollups answer the four (no scope filter, not source=raw): then one read of
  // those dimensions' rows beats one over their combinations.
  if (eachDimensionPlan(q, { source: p.source })) {
    // One statement: the four single-dimension groupings read together (execute's eachDimension).
    const a = await ask(q, { source: p.source, maxGroups: MAX_BREAKDOWN_GROUPS, eachDimension: true });
    const groups = Object.fromEntries(
      FOLDED.map((k) => [k, groupSums(a.rows.filter((r) => BREAKDOWNS[k].dimension in r.dims), BREAKDOWNS[k].dimension)]),
    ) as Record<Folded, Map<string, CostSums>>;
    return { groups, sources: a.sources };
  }
  try {
    const a = await ask(q, { source: p.source, maxGroups: MAX_COMBINED_GROUPS });
    const groups = Object.fromEntries(FOLDED.map((k) => [k, groupSums(a.rows, BREAKDOWNS[k].dimension)])) as Record<Folded, Map<string, CostSums>>;
    return { groups, sources: a.sources };
  } catch (e) {
    if (!(e instanceof TooManyGroupsError)) throw e;
    const answers = await Promise.all(
      FOLDED.map((k) => ask({ ...q, dimensions: [BREAKDOWNS[k].dimension] }, { source: p.source, maxGroups: MAX_BREAKDOWN_GROUPS })),
    );
    const groups = Object.fromEntries(FOLDED.map((k, i) => [k, groupSums(answers[i]!.rows, BREAKDOWNS[k].dimension)])) as Record<Folded, Map<string, CostSums>>;
    return { groups, sources: answers.flatMap((a) => a.sources) };
  }
}

export interface CostStatistics {
  totals: CostSums;
  series: CostPoint[];
  by_model: BreakdownRow[];
  by_feature: BreakdownRow[];
  by_user: BreakdownRow[];
  by_api_key: BreakdownRow[];
  by_project: BreakdownRow[];
  sources: SourceName[];
}

export async function costStatistics(
  ask: Ask,
  p: StatisticsParams,
  limit: number,
  /** Extra fields of by_api_key rows (looked up while ClickHouse answers). */
  apiKeyLabels: Promise<(id: string) => Record<string, string | null>>,
): Promise<CostStatistics> {
  const [series, folded, users, labels] = await Promise.all([
    costSeries(ask, p),
    foldedGroups(ask, p),
    ask(costQuestions(p).users, { source: p.source, maxGroups: MAX_BREAKDOWN_GROUPS }),
    apiKeyLabels,
  ]);
  // Every event falls in exactly one model group, so those sum to the window's totals.
  const totals = zeroSums();
  for (const s of folded.groups.model.values()) addInto(totals, s);
  const rows = (k: Folded) => breakdownRows(BREAKDOWNS[k], folded.groups[k], totals, limit, k === 'api_key' ? labels : undefined);
  return {
    totals,
    series: series.series,
    by_model: rows('model'),
    by_feature: rows('feature'),
    by_user: breakdownRows(BREAKDOWNS.user, groupSums(users.rows, BREAKDOWNS.user.dimension), totals, limit),
    by_api_key: rows('api_key'),
    by_project: rows('project'),
    sources: [...new Set([...series.sources, ...folded.sources, ...users.sources])],
  };
}
