import { ACTOR_SOURCES, BREAKDOWN_SOURCES, type Dimension, type Granularity, type Measure, type SourceName } from './catalog.js';
import type { Plan, Question, Segment } from './planner.js';

/**
 * SQL for a plan. Identifiers come from the catalog only; every value (tenant, bounds, filter
 * values, time zone, metadata keys) is a `{name:Type}` parameter.
 */
export interface Sql {
  sql: string;
  params: Record<string, unknown>;
}

/** The ClickHouse table behind each planner source. */
export const SOURCE_TABLE: Record<SourceName, string> = {
  raw: 'events',
  hourly: 'rollup_hourly',
  daily: 'rollup_daily',
  scope_hourly: 'scope_hourly',
  scope_daily: 'scope_daily',
  totals_hourly: 'totals_hourly',
  totals_daily: 'totals_daily',
  actors_daily: 'actors_daily',
  actor_days: 'actor_days',
  actor_hours: 'actor_hours',
  breakdown_hourly: 'breakdown_hourly',
  breakdown_daily: 'breakdown_daily',
};

const TIME_COL: Record<SourceName, string> = {
  raw: 'ts',
  hourly: 'hour',
  daily: "toDateTime(day, 'UTC')",
  scope_hourly: 'hour',
  scope_daily: "toDateTime(day, 'UTC')",
  totals_hourly: 'hour',
  totals_daily: "toDateTime(day, 'UTC')",
  actors_daily: "toDateTime(day, 'UTC')",
  actor_days: "toDateTime(day, 'UTC')",
  actor_hours: 'hour',
  breakdown_hourly: 'hour',
  breakdown_daily: "toDateTime(day, 'UTC')",
};

function bucketExpr(source: SourceName, g: Granularity): string {
  const local = `toDateTime(${TIME_COL[source]}, {tz:String})`;
  const start = {
    minute: `toStartOfMinute(${local})`,
    hour: `toStartOfHour(${local})`,
    day: `toStartOfDay(${local})`,
    week: `toDateTime(toMonday(${local}), {tz:String})`,
    month: `toDateTime(toStartOfMonth(${local}), {tz:String})`,
  }[g];
  return `toUnixTimestamp(${start})`;
}

/** The column a dimension reads in a source (actors_daily keeps users and agents as actor_id). */
export function dimColumn(source: SourceName, d: Dimension): string {
  if (ACTOR_SOURCES.has(source) && (d === 'user_id' || d === 'agent_id')) return 'actor_id';
  if (BREAKDOWN_SOURCES.has(source)) return 'value';
  return d;
}

/** A measure's sum in one source (raw derives failures and latency from its columns). */
export function measureExpr(source: SourceName, m: Measure): string {
  if (source !== 'raw') return m === 'cost_nano' ? `toInt64(sum(${m}))` : `toUInt64(sum(${m}))`;
  switch (m) {
    case 'events':
      return 'toUInt64(count())';
    case 'failures':
      return 'toUInt64(countIf(NOT success))';
    case 'latency_count':
      return 'toUInt64(count(latency_ms))';
    case 'latency_sum':
      return 'toUInt64(sum(ifNull(latency_ms, 0)))';
    case 'cost_nano':
      return 'toInt64(sum(cost_nano))';
    default:
      return `toUInt64(sum(${m}))`;
  }
}

const HIST_EXPR: Record<SourceName, string> = {
  raw: 'sumMapIf(map(latency_bucket, toUInt64(1)), latency_ms IS NOT NULL)',
  hourly: 'sumMap(latency_hist)',
  daily: 'sumMap(latency_hist)',
  scope_hourly: 'sumMap(latency_hist)',
  scope_daily: 'sumMap(latency_hist)',
  totals_hourly: 'sumMap(latency_hist)',
  totals_daily: 'sumMap(latency_hist)',
  actors_daily: '', // never planned: the actor tables have no latency
  actor_days: '',
  actor_hours: '',
  breakdown_hourly: '', // never planned: 0007 dropped their histogram
  breakdown_daily: '',
};

class Params {
  readonly values: Record<string, unknown> = {};
  #n = 0;
  add(type: string, value: unknown): string {
    const name = `p${this.#n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

function whereClause(q: Question, seg: Segment, p: Params, tenantParam: string): string {
  const s = seg.source;
  const parts = [`tenant_id = ${tenantParam}`];
  if (s === 'raw') {
    parts.push(`ts >= fromUnixTimestamp64Milli(${p.add('Int64', seg.fromMs)})`, `ts < fromUnixTimestamp64Milli(${p.add('Int64', seg.toMs)})`);
  } else if (TIME_COL[s] === 'hour') {
    parts.push(`hour >= toDateTime(${p.add('UInt32', seg.fromMs / 1000)})`, `hour < toDateTime(${p.add('UInt32', seg.toMs / 1000)})`);
  } else {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    parts.push(`day >= ${p.add('Date', day(seg.fromMs))}`, `day < ${p.add('Date', day(seg.toMs))}`);
  }
  if (BREAKDOWN_SOURCES.has(s)) {
    // The planner sends these questions naming exactly one dimension (a catalog name, bound as a
    // value); eachDimensionSql names its dimensions itself.
    const dim = [...q.dimensions, ...q.filters.map((f) => f.dimension)][0];
    if (dim) parts.push(`dim = ${p.add('String', dim)}`);
  }
  if (ACTOR_SOURCES.has(s)) {
    // The planner sends actors_daily at most one actor kind; distinct counts read both kinds.
    const actor = [...q.dimensions, ...q.filters.map((f) => f.dimension)].find((d) => d === 'user_id' || d === 'agent_id');
    if (actor) parts.push(`actor_kind = ${p.add('String', actor === 'agent_id' ? 'agent' : 'user')}`);
  } else {
    // Grouping by an actor covers the events that name one (as actors_daily does).
    for (const d of q.dimensions) if (d === 'user_id' || d === 'agent_id') parts.push(`${d} != ''`);
  }
  for (const f of q.filters) {
    const col = dimColumn(s, f.dimension);
    if (f.dimension === 'success') {
      const values = f.values.map((v) => v === 'true');
      const op = f.op === 'not_in' ? 'NOT IN' : 'IN';
      parts.push(`${col} ${op} ${p.add('Array(Bool)', values)}`);
    } else if (f.op === 'eq') parts.push(`${col} = ${p.add('String', f.values[0])}`);
    else parts.push(`${col} ${f.op === 'in' ? 'IN' : 'NOT IN'} ${p.add('Array(String)', f.values)}`);
  }
  for (const m of q.metadata) parts.push(`metadata[${p.add('String', m.key)}] = ${p.add('String', m.value)}`);
  return parts.join(' AND ');
}

/** Column alias of the i-th metadata group key (the key itself is a parameter, never SQL). */
export const metaAlias = (i: number) => `meta_${i}`;

function keySelect(q: Question, source: SourceName, p: Params): string[] {
  const keys = q.dimensions.map((d) => `${dimColumn(source, d)} AS ${d}`);
  if (q.granularity) keys.unshift(`${bucketExpr(source, q.granularity)} AS bucket`);
  // Only raw has metadata; the planner sends metadata groupings nowhere else.
  (q.metadataGroup ?? []).forEach((k, i) => keys.push(`metadata[${p.add('String', k)}] AS ${metaAlias(i)}`));
  return keys;
}

const keyNames = (q: Question) => [...(q.granularity ? ['bucket'] : []), ...q.dimensions, ...(q.metadataGroup ?? []).map((_, i) => metaAlias(i))];

/** One statement for all additive segments: each segment aggregates its table, the outer query sums. */
export function additiveSql(q: Question, a: NonNullable<Plan['additive']>): Sql {
  const p = new Params();
  const tenant = p.add('String', q.tenantId);
  if (q.granularity) p.values.tz = q.tz;
  const names = keyNames(q);
  const inner = a.segments.map((seg) => {
    const cols = [...keySelect(q, seg.source, p), ...a.measures.map((m) => `${measureExpr(seg.source, m)} AS ${m}`)];
    if (a.histogram) cols.push(`${HIST_EXPR[seg.source]} AS latency_hist`);
    return `SELECT ${cols.join(', ')} FROM ${SOURCE_TABLE[seg.source]} WHERE ${whereClause(q, seg, p, tenant)}${names.length ? ` GROUP BY ${names.join(', ')}` : ''}`;
  });
  if (inner.length === 1) return { sql: inner[0]!, params: p.values };
  const outerCols = [...names, ...a.measures.map((m) => `${m === 'cost_nano' ? 'toInt64' : 'toUInt64'}(sum(${m})) AS ${m}`)];
  if (a.histogram) outerCols.push('sumMap(latency_hist) AS latency_hist');
  return {
    sql: `SELECT ${outerCols.join(', ')} FROM (${inner.join(' UNION ALL ')})${names.length ? ` GROUP BY ${names.join(', ')}` : ''}`,
    params: p.values,
  };
}

/**
 * Several one-dimension groupings of the same window in one statement: rows (dim, value, measures).
 * The per-dimension rollups hold them as rows already; any other source (raw for the window's
 * edges) fans each row out once per dimension with ARRAY JOIN, as the rollups' view does. `q`
 * carries no dimensions, filters, metadata or buckets (the caller checks).
 */
export function eachDimensionSql(q: Question, dims: Dimension[], a: NonNullable<Plan['additive']>): Sql {
  const p = new Params();
  const tenant = p.add('String', q.tenantId);
  const dimList = p.add('Array(String)', dims);
  const inner = a.segments.map((seg) => {
    const cols = a.measures.map((m) => `${measureExpr(seg.source, m)} AS ${m}`);
    if (a.histogram) cols.push(`${HIST_EXPR[seg.source]} AS latency_hist`);
    const where = whereClause(q, seg, p, tenant);
    if (BREAKDOWN_SOURCES.has(seg.source)) {
      return `SELECT dim, value, ${cols.join(', ')} FROM ${SOURCE_TABLE[seg.source]} WHERE ${where} AND dim IN ${dimList} GROUP BY dim, value`;
    }
    const pairs = dims.map((d) => `(${p.add('String', d)}, toString(${d}))`).join(', ');
    return `SELECT kv.1 AS dim, kv.2 AS value, ${cols.join(', ')} FROM ${SOURCE_TABLE[seg.source]} ARRAY JOIN [${pairs}] AS kv WHERE ${where} GROUP BY dim, value`;
  });
  if (inner.length === 1) return { sql: inner[0]!, params: p.values };
  const outerCols = ['dim', 'value', ...a.measures.map((m) => `${m === 'cost_nano' ? 'toInt64' : 'toUInt64'}(sum(${m})) AS ${m}`)];
  if (a.histogram) outerCols.push('sumMap(latency_hist) AS latency_hist');
  return { sql: `SELECT ${outerCols.join(', ')} FROM (${inner.join(' UNION ALL ')}) GROUP BY dim, value`, params: p.values };
}

/**
 * Distinct users/agents/runs over the plan's segments. One segment: counted where it is read.
 * Several (actor tables for whole days, raw for the edges): each lists its distinct
 * (kind, id) pairs per group and the outer query counts the union, so an actor seen in two
 * segments counts once.
 */
export function distinctSql(q: Question, segments: Segment[]): Sql {
  const p = new Params();
  const tenant = p.add('String', q.tenantId);
  if (q.granularity) p.values.tz = q.tz;
  const names = keyNames(q);
  const groupBy = (extra: string[] = []) => ([...names, ...extra].length ? ` GROUP BY ${[...names, ...extra].join(', ')}` : '');
  const runs = q.metrics.includes('unique_runs');
  // Asked for one actor kind only (e.g. active agents): the actor tables' rows of the other kind
  // (users outnumber agents by far) are left unread; the other count is then 0 and not reported.
  const kinds = (['user', 'agent'] as const).filter((k) => q.metrics.includes(k === 'user' ? 'unique_users' : 'unique_agents'));
  const oneKind = kinds.length === 1 ? kinds[0]! : null;
  const actorWhere = (seg: Segment) => whereClause(q, seg, p, tenant) + (oneKind ? ` AND actor_kind = ${p.add('String', oneKind)}` : '');
  if (segments.length === 1) {
    const seg = segments[0]!;
    const cols = ACTOR_SOURCES.has(seg.source)
      ? ["uniqExactIf(actor_id, actor_kind = 'user') AS unique_users", "uniqExactIf(actor_id, actor_kind = 'agent') AS unique_agents"]
      : [
          "uniqExactIf(user_id, user_id != '') AS unique_users",
          "uniqExactIf(agent_id, agent_id != '') AS unique_agents",
          ...(runs ? ["uniqExactIf(run_id, run_id != '') AS unique_runs"] : []),
        ];
    const where = ACTOR_SOURCES.has(seg.source) ? actorWhere(seg) : whereClause(q, seg, p, tenant);
    return {
      sql: `SELECT ${[...keySelect(q, seg.source, p), ...cols].join(', ')} FROM ${SOURCE_TABLE[seg.source]} WHERE ${where}${groupBy()}`,
      params: p.values,
    };
  }
  const inner = segments.map((seg) => {
    const keys = keySelect(q, seg.source, p);
    if (ACTOR_SOURCES.has(seg.source)) {
      return `SELECT ${[...keys, 'toString(actor_kind) AS kind', 'actor_id AS id'].join(', ')} FROM ${SOURCE_TABLE[seg.source]} WHERE ${actorWhere(seg)}${groupBy(['kind', 'id'])}`;
    }
    const pairs = [
      ...(oneKind !== 'agent' ? ["('user', user_id)"] : []),
      ...(oneKind !== 'user' ? ["('agent', agent_id)"] : []),
      ...(runs ? ["('run', run_id)"] : []),
    ].join(', ');
    return (
      `SELECT ${[...keys, 'pair.1 AS kind', 'pair.2 AS id'].join(', ')} FROM ${SOURCE_TABLE[seg.source]} ` +
      `ARRAY JOIN arrayFilter(x -> x.2 != '', [${pairs}]) AS pair WHERE ${whereClause(q, seg, p, tenant)}${groupBy(['kind', 'id'])}`
    );
  });
  const counts = [
    "uniqExactIf(id, kind = 'user') AS unique_users",
    "uniqExactIf(id, kind = 'agent') AS unique_agents",
    ...(runs ? ["uniqExactIf(id, kind = 'run') AS unique_runs"] : []),
  ];
  return { sql: `SELECT ${[...names, ...counts].join(', ')} FROM (${inner.join(' UNION ALL ')})${groupBy()}`, params: p.values };
}

/** Exact first and last event time (epoch ms) per group, from raw events. */
export function extentSql(q: Question, seg: Segment): Sql {
  const p = new Params();
  const tenant = p.add('String', q.tenantId);
  if (q.granularity) p.values.tz = q.tz;
  const names = keyNames(q);
  const cols = ['toString(min(toUnixTimestamp64Milli(ts))) AS first_ts', 'toString(max(toUnixTimestamp64Milli(ts))) AS last_ts'];
  return {
    sql: `SELECT ${[...keySelect(q, seg.source, p), ...cols].join(', ')} FROM ${SOURCE_TABLE[seg.source]} WHERE ${whereClause(q, seg, p, tenant)}${names.length ? ` GROUP BY ${names.join(', ')}` : ''}`,
    params: p.values,
  };
}
