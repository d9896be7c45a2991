import {
  ACTOR_MEASURES,
  ACTOR_SOURCES,
  NO_HISTOGRAM_SOURCES,
  BREAKDOWN_SOURCES,
  METRIC_INPUTS,
  SOURCE_DIMS,
  type Dimension,
  type Granularity,
  type Measure,
  type Metric,
  type SourceName,
} from './catalog.js';
import { DAY_MS, HOUR_MS, bucketStarts, ceilTo, floorTo } from './time-buckets.js';

export interface DimensionFilter {
  dimension: Dimension;
  op: 'eq' | 'in' | 'not_in';
  values: string[];
}

export interface MetadataFilter {
  key: string;
  value: string;
}

/** A question in the planner's terms: always one tenant (from the API key), always [from, to). */
export interface Question {
  tenantId: string;
  metrics: Metric[];
  dimensions: Dimension[];
  /** Set when the answer is bucketed by time. */
  granularity?: Granularity;
  tz: string;
  fromMs: number;
  toMs: number;
  filters: DimensionFilter[];
  metadata: MetadataFilter[];
  /** Metadata keys to group by (raw events only: the rollups keep no metadata). */
  metadataGroup?: string[];
}

/** A question over a window with the plain defaults: no dimensions, filters or metadata, UTC. */
export function windowQuestion(
  window: { tenantId: string; fromMs: number; toMs: number; tz?: string },
  q: Partial<Question> & Pick<Question, 'metrics'>,
): Question {
  return { dimensions: [], filters: [], metadata: [], ...window, tz: window.tz ?? 'UTC', ...q };
}

export interface Segment {
  source: SourceName;
  fromMs: number;
  toMs: number;
}

export interface Plan {
  /** Additive measures (and the latency histogram), summed over these segments. */
  additive: { segments: Segment[]; measures: Measure[]; histogram: boolean } | null;
  /**
   * Distinct users/agents/runs. Counts do not add up across segments, so each segment lists its
   * (kind, id) pairs and one outer count runs over their union.
   */
  distinct: { segments: Segment[] } | null;
  /** first_seen / last_seen: exact times, so always raw, the whole window in one query. */
  extent: Segment | null;
  /** Bucket starts when bucketed by time (for gap filling). */
  buckets: number[] | null;
}

/** Source granularity in ms (raw: any millisecond). */
const STEP: Record<SourceName, number> = {
  totals_daily: DAY_MS,
  totals_hourly: HOUR_MS,
  scope_daily: DAY_MS,
  breakdown_daily: DAY_MS,
  daily: DAY_MS,
  actors_daily: DAY_MS,
  actor_days: DAY_MS,
  actor_hours: HOUR_MS,
  scope_hourly: HOUR_MS,
  breakdown_hourly: HOUR_MS,
  hourly: HOUR_MS,
  raw: 1,
};

/**
 * Cheapest first: on each grid the narrowest table, coarse grids before fine ones, raw last.
 * breakdown_* before scope_*: one dimension's values are fewer rows than scope's combinations.
 */
export const ADDITIVE_ORDER: readonly SourceName[] = [
  'actor_days',
  'actors_daily',
  'totals_daily',
  'breakdown_daily',
  'scope_daily',
  'daily',
  'actor_hours',
  'totals_hourly',
  'breakdown_hourly',
  'scope_hourly',
  'hourly',
  'raw',
];

export type ForcedSource = 'auto' | SourceName;

export class PlanError extends Error {}

/** user_id / agent_id referenced anywhere in the question. */
function actorDims(q: Question): Dimension[] {
  const all = [...q.dimensions, ...q.filters.map((f) => f.dimension)];
  return [...new Set(all.filter((d) => d === 'user_id' || d === 'agent_id'))];
}

const usesMetadata = (q: Question) => q.metadata.length > 0 || (q.metadataGroup?.length ?? 0) > 0;

function coversDims(source: SourceName, q: Question): boolean {
  if (usesMetadata(q) && source !== 'raw') return false;
  const dims = SOURCE_DIMS[source];
  const used = [...q.dimensions, ...q.filters.map((f) => f.dimension)];
  if (!used.every((d) => dims.has(d))) return false;
  // A row there is one (dimension, value): exactly one dimension, grouped and/or filtered.
  if (BREAKDOWN_SOURCES.has(source) && new Set(used).size !== 1) return false;
  if (ACTOR_SOURCES.has(source)) {
    // Each event sits in the actor tables once per actor it names, so only a question about
    // exactly one actor kind, selected positively, reads the same there as in raw.
    const actors = actorDims(q);
    if (actors.length !== 1) return false;
    if (q.filters.some((f) => f.dimension === actors[0] && f.op === 'not_in')) return false;
  }
  return true;
}

/** Every bucket boundary strictly inside (a, b) falls on the source's grid. */
function bucketsAligned(buckets: number[] | null, a: number, b: number, step: number): boolean {
  if (!buckets || step === 1) return true;
  return buckets.every((t) => t <= a || t >= b || t % step === 0);
}

/**
 * The cheapest covering plan: the widest aligned middle of the window from the coarsest source
 * that has the dimensions and measures, the unaligned edges from finer ones, raw last. Sums
 * agree whichever source a segment came from, so the split does not change the answer.
 */
function planSegments(q: Question, buckets: number[] | null, candidates: SourceName[], from: number, to: number): Segment[] {
  if (from >= to) return [];
  for (let i = 0; i < candidates.length; i++) {
    const source = candidates[i]!;
    const step = STEP[source];
    const a = ceilTo(from, step);
    const b = floorTo(to, step);
    if (a >= b || !bucketsAligned(buckets, a, b, step)) continue;
    const finer = candidates.slice(i + 1);
    return [...planSegments(q, buckets, finer, from, a), { source, fromMs: a, toMs: b }, ...planSegments(q, buckets, finer, b, to)];
  }
  throw new PlanError('no source covers this question'); // unreachable: raw covers everything
}

export function plan(q: Question, forced: ForcedSource = 'auto'): Plan {
  const buckets = q.granularity ? bucketStarts(q.fromMs, q.toMs, q.granularity, q.tz) : null;
  const measures = new Set<Measure>();
  let histogram = false;
  let distinct = false;
  let extent = false;
  for (const m of q.metrics) {
    const input = METRIC_INPUTS[m];
    input.measures.forEach((x) => measures.add(x));
    if (input.kind === 'histogram') histogram = true;
    if (input.kind === 'distinct') distinct = true;
    if (input.kind === 'extent') extent = true;
  }
  // Gap filling and merging need at least the event count per group.
  measures.add('events');

  const additiveSources = ADDITIVE_ORDER.filter((s) => {
    if (!coversDims(s, q)) return false;
    if (histogram && NO_HISTOGRAM_SOURCES.has(s)) return false;
    return !(ACTOR_SOURCES.has(s) && [...measures].some((m) => !ACTOR_MEASURES.has(m)));
  });
  if (forced !== 'auto' && !additiveSources.includes(forced)) {
    throw new PlanError(`source ${forced} cannot answer this question (dimensions, filters or metrics it does not keep)`);
  }
  // A forced source answers the whole window on its own grid, or not at all.
  let segments: Segment[];
  try {
    segments = planSegments(q, buckets, forced === 'auto' ? additiveSources : [forced], q.fromMs, q.toMs);
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    throw new PlanError(`source ${forced} cannot answer this window and bucketing on its ${STEP[forced as SourceName] === HOUR_MS ? 'hour' : 'day'} grid`);
  }

  let distinctPlan: Plan['distinct'] = null;
  if (distinct) {
    const used = [...q.dimensions, ...q.filters.map((f) => f.dimension)];
    // The actor tables keep users and agents only (distinct runs come from raw), per UTC day:
    // actor_days when nothing narrows the actors, actors_daily when only its dimensions do.
    const actorsOk = !q.metrics.includes('unique_runs') && actorDims(q).length === 0 && !usesMetadata(q);
    const actorSource: SourceName | null = !actorsOk
      ? null
      : used.length === 0 && forced !== 'actors_daily'
        ? 'actor_days'
        : used.every((d) => SOURCE_DIMS.actors_daily.has(d))
          ? 'actors_daily'
          : null;
    // actor_hours covers the hours of a window's partial days (it keeps no other dimension).
    const candidates: SourceName[] =
      forced === 'raw' || !actorSource ? ['raw'] : actorSource === 'actor_days' ? ['actor_days', 'actor_hours', 'raw'] : [actorSource, 'raw'];
    distinctPlan = { segments: planSegments(q, buckets, candidates, q.fromMs, q.toMs) };
  }
  const extentSegment: Segment | null = extent ? { source: 'raw', fromMs: q.fromMs, toMs: q.toMs } : null;
  // Only distinct counts over the whole window, ungrouped: the distinct statement answers its one
  // row on its own (an aggregate without GROUP BY answers even an empty window), so the additive
  // statement would be one more serial query whose numbers nobody reads.
  const distinctOnly = distinct && !q.granularity && q.dimensions.length === 0 && !q.metadataGroup?.length && q.metrics.every((m) => METRIC_INPUTS[m].kind === 'distinct');
  const additive = distinctOnly ? null : { segments, measures: [...measures], histogram };
  return { additive, distinct: distinctPlan, extent: extentSegment, buckets };
}
