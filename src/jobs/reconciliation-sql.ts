/**
 * SQL of the reconciliation job. The rebuild statements repeat the SELECTs of the views in
 * clickhouse/0002_rollups.sql (rollup_hourly_mv, actors_daily_mv) and 0006 (actor_hours_mv) over deduplicated raw events:
 * change them together (test/jobs/reconciliation.test.ts compares a rebuilt day with what the
 * views wrote, histogram included, so a drift fails there).
 */

/** Every table fed from events through the views; all of them hold a tenant-day after a rebuild. */
export const ROLLUP_TABLES = [
  { table: 'rollup_hourly', time: 'hour' },
  { table: 'rollup_daily', time: 'day' },
  { table: 'scope_hourly', time: 'hour' },
  { table: 'scope_daily', time: 'day' },
  { table: 'totals_hourly', time: 'hour' },
  { table: 'totals_daily', time: 'day' },
  { table: 'breakdown_hourly', time: 'hour' },
  { table: 'breakdown_daily', time: 'day' },
  { table: 'actors_daily', time: 'day' },
  { table: 'actor_days', time: 'day' },
  { table: 'actor_hours', time: 'hour' },
] as const;

/**
 * One row per (tenant_id, event_id): the first ingested copy, as the ingest path's "the first one
 * counts" (ts then cost break a tie, so the choice is the same on every run). `latency_bucket`
 * is MATERIALIZED, so `*` leaves it out: it is named.
 */
export function dedupedEvents(where: string): string {
  return `(SELECT *, latency_bucket FROM events WHERE ${where}
    ORDER BY tenant_id, event_id, ingested_at, ts, cost_nano
    LIMIT 1 BY tenant_id, event_id)`;
}

// Result aliases (h, d) differ from column names: ClickHouse lets an alias shadow a column in WHERE.

/** Tenant-hour totals of the deduplicated events in [from, to), deduplicated over [scopeFrom, scopeTo). */
export function rawHourTotalsSql(tenantFilter: string): string {
  return `SELECT tenant_id, toUnixTimestamp(toStartOfHour(ts)) AS h,
    toString(count()) AS events, toString(sum(requests)) AS requests,
    toString(sum(input_tokens)) AS input_tokens, toString(sum(output_tokens)) AS output_tokens,
    toString(sum(compute_units)) AS compute_units, toString(sum(cost_nano)) AS cost_nano,
    toString(sum(cost_unpriced)) AS cost_unpriced, toString(countIf(NOT success)) AS failures,
    toString(count(latency_ms)) AS latency_count, toString(sum(ifNull(latency_ms, 0))) AS latency_sum
  FROM ${dedupedEvents(`ts >= {scopeFrom:DateTime64(3, 'UTC')} AND ts < {scopeTo:DateTime64(3, 'UTC')}${tenantFilter}`)}
  WHERE ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}
  GROUP BY tenant_id, h`;
}

export function rollupHourTotalsSql(tenantFilter: string): string {
  return `SELECT tenant_id, toUnixTimestamp(hour) AS h,
    toString(sum(events)) AS events, toString(sum(requests)) AS requests,
    toString(sum(input_tokens)) AS input_tokens, toString(sum(output_tokens)) AS output_tokens,
    toString(sum(compute_units)) AS compute_units, toString(sum(cost_nano)) AS cost_nano,
    toString(sum(cost_unpriced)) AS cost_unpriced, toString(sum(failures)) AS failures,
    toString(sum(latency_count)) AS latency_count, toString(sum(latency_sum)) AS latency_sum
  FROM rollup_hourly
  WHERE hour >= {from:DateTime64(3, 'UTC')} AND hour < {to:DateTime64(3, 'UTC')}${tenantFilter}
  GROUP BY tenant_id, h`;
}

/**
 * Tenant-day totals of actors_daily and what deduplicated raw gives for them: an event counts once
 * per non-empty actor (user, agent), as the view's ARRAY JOIN does.
 */
export function rawActorDayTotalsSql(tenantFilter: string): string {
  return `SELECT tenant_id, toString(toDate(ts)) AS d,
    toString(countIf(user_id != '') + countIf(agent_id != '')) AS events,
    toString(sumIf(requests, user_id != '') + sumIf(requests, agent_id != '')) AS requests,
    toString(sumIf(input_tokens + output_tokens, user_id != '') + sumIf(input_tokens + output_tokens, agent_id != '')) AS tokens,
    toString(sumIf(compute_units, user_id != '') + sumIf(compute_units, agent_id != '')) AS compute_units,
    toString(sumIf(cost_nano, user_id != '') + sumIf(cost_nano, agent_id != '')) AS cost_nano
  FROM ${dedupedEvents(`ts >= {scopeFrom:DateTime64(3, 'UTC')} AND ts < {scopeTo:DateTime64(3, 'UTC')}${tenantFilter}`)}
  GROUP BY tenant_id, d`;
}

export function actorDayTotalsSql(tenantFilter: string): string {
  return `SELECT tenant_id, toString(day) AS d,
    toString(sum(events)) AS events, toString(sum(requests)) AS requests,
    toString(sum(input_tokens) + sum(output_tokens)) AS tokens,
    toString(sum(compute_units)) AS compute_units, toString(sum(cost_nano)) AS cost_nano
  FROM actors_daily
  WHERE day >= toDate({scopeFrom:DateTime64(3, 'UTC')}) AND day < toDate({scopeTo:DateTime64(3, 'UTC')})${tenantFilter}
  GROUP BY tenant_id, d`;
}

/** (tenant, event_id) pairs stored more than once in the scope, with the UTC days of their copies. */
export function duplicateIdsSql(tenantFilter: string): string {
  return `SELECT tenant_id, event_id, groupUniqArray(toString(toDate(ts))) AS days
  FROM events
  WHERE ts >= {scopeFrom:DateTime64(3, 'UTC')} AND ts < {scopeTo:DateTime64(3, 'UTC')}${tenantFilter}
  GROUP BY tenant_id, event_id
  HAVING count() > 1`;
}

// The tenant's days being rebuilt; the range bounds let the (tenant_id, ts) key prune.
const DAY_PARAMS = `tenant_id = {tenant:String} AND ts >= {dayFrom:DateTime64(3, 'UTC')} AND ts < {dayTo:DateTime64(3, 'UTC')} AND toDate(ts) IN {days:Array(Date)}`;

/** rollup_hourly_mv's SELECT over some days of one tenant's deduplicated events. */
export const REBUILD_ROLLUP_HOURLY = `
SELECT
    tenant_id,
    toStartOfHour(ts) AS hour,
    event_type, project, environment, model, provider, feature, api_key_id, endpoint, status, success,
    toUInt64(count()) AS events,
    toUInt64(sum(requests)) AS requests,
    toUInt64(sum(input_tokens)) AS input_tokens,
    toUInt64(sum(output_tokens)) AS output_tokens,
    toUInt64(sum(compute_units)) AS compute_units,
    toInt64(sum(cost_nano)) AS cost_nano,
    toUInt64(sum(cost_unpriced)) AS cost_unpriced,
    toUInt64(countIf(NOT success)) AS failures,
    toUInt64(count(latency_ms)) AS latency_count,
    toUInt64(sum(ifNull(latency_ms, 0))) AS latency_sum,
    sumMapIf(map(latency_bucket, toUInt64(1)), latency_ms IS NOT NULL) AS latency_hist
FROM ${dedupedEvents(DAY_PARAMS)}
GROUP BY tenant_id, hour, event_type, project, environment, model, provider, feature, api_key_id, endpoint, status, success`;

/** actors_daily_mv's SELECT over some days of one tenant's deduplicated events. */
export const REBUILD_ACTORS_DAILY = `
SELECT
    tenant_id,
    toDate(ts) AS day,
    CAST(actor.1, 'Enum8(\\'user\\' = 1, \\'agent\\' = 2)') AS actor_kind,
    actor.2 AS actor_id,
    event_type, project, environment, success,
    toUInt64(count()) AS events,
    toUInt64(sum(requests)) AS requests,
    toUInt64(sum(input_tokens)) AS input_tokens,
    toUInt64(sum(output_tokens)) AS output_tokens,
    toUInt64(sum(compute_units)) AS compute_units,
    toInt64(sum(cost_nano)) AS cost_nano
FROM ${dedupedEvents(DAY_PARAMS)}
ARRAY JOIN arrayFilter(a -> a.2 != '', [('user', user_id), ('agent', agent_id)]) AS actor
GROUP BY tenant_id, day, actor_kind, actor_id, event_type, project, environment, success`;

/** actor_hours_mv's SELECT over some days of one tenant's deduplicated events. */
export const REBUILD_ACTOR_HOURS = `
SELECT
    tenant_id,
    toStartOfHour(ts) AS hour,
    CAST(actor.1, 'Enum8(\\'user\\' = 1, \\'agent\\' = 2)') AS actor_kind,
    actor.2 AS actor_id,
    toUInt64(count()) AS events,
    toUInt64(sum(requests)) AS requests,
    toUInt64(sum(input_tokens)) AS input_tokens,
    toUInt64(sum(output_tokens)) AS output_tokens,
    toUInt64(sum(compute_units)) AS compute_units,
    toInt64(sum(cost_nano)) AS cost_nano
FROM ${dedupedEvents(DAY_PARAMS)}
ARRAY JOIN arrayFilter(a -> a.2 != '', [('user', user_id), ('agent', agent_id)]) AS actor
GROUP BY tenant_id, hour, actor_kind, actor_id`;
