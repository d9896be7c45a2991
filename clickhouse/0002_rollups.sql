-- Hourly and daily rollups, keyed by tenant, bucket and the low-cardinality dimensions the
-- statistics API groups by. Counts and sums only (SimpleAggregateFunction), plus a latency
-- histogram (bucket -> count) that sums exactly, so p50/p95/p99 come out the same from raw
-- and from either rollup. High-cardinality actors (users, agents) live in actors_daily.
-- Daily is fed from hourly, not from raw: one MV on the insert path instead of two.
-- @distributed rollup_hourly cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:rollup_hourly}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    hour          DateTime('UTC'),
    event_type    LowCardinality(String),
    project       LowCardinality(String),
    environment   LowCardinality(String),
    model         LowCardinality(String),
    provider      LowCardinality(String),
    feature       LowCardinality(String),
    api_key_id    LowCardinality(String),
    endpoint      LowCardinality(String),
    status        LowCardinality(String),
    success       Bool,
    events        SimpleAggregateFunction(sum, UInt64),
    requests      SimpleAggregateFunction(sum, UInt64),
    input_tokens  SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    compute_units SimpleAggregateFunction(sum, UInt64),
    cost_nano     SimpleAggregateFunction(sum, Int64),
    cost_unpriced SimpleAggregateFunction(sum, UInt64),
    failures      SimpleAggregateFunction(sum, UInt64),
    latency_count SimpleAggregateFunction(sum, UInt64),
    latency_sum   SimpleAggregateFunction(sum, UInt64),
    latency_hist  SimpleAggregateFunction(sumMap, Map(UInt16, UInt64))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant_id, hour, event_type, project, environment, model, feature, api_key_id, endpoint, provider, status, success)
TTL hour + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:rollup_hourly_mv}} {{on_cluster}} TO {{table:rollup_hourly}} AS
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
FROM {{table:events}}
GROUP BY tenant_id, hour, event_type, project, environment, model, provider, feature, api_key_id, endpoint, status, success;

-- @distributed rollup_daily cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:rollup_daily}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    day           Date,
    event_type    LowCardinality(String),
    project       LowCardinality(String),
    environment   LowCardinality(String),
    model         LowCardinality(String),
    provider      LowCardinality(String),
    feature       LowCardinality(String),
    api_key_id    LowCardinality(String),
    endpoint      LowCardinality(String),
    status        LowCardinality(String),
    success       Bool,
    events        SimpleAggregateFunction(sum, UInt64),
    requests      SimpleAggregateFunction(sum, UInt64),
    input_tokens  SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    compute_units SimpleAggregateFunction(sum, UInt64),
    cost_nano     SimpleAggregateFunction(sum, Int64),
    cost_unpriced SimpleAggregateFunction(sum, UInt64),
    failures      SimpleAggregateFunction(sum, UInt64),
    latency_count SimpleAggregateFunction(sum, UInt64),
    latency_sum   SimpleAggregateFunction(sum, UInt64),
    latency_hist  SimpleAggregateFunction(sumMap, Map(UInt16, UInt64))
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, event_type, project, environment, model, feature, api_key_id, endpoint, provider, status, success)
TTL day + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:rollup_daily_mv}} {{on_cluster}} TO {{table:rollup_daily}} AS
SELECT
    tenant_id,
    toDate(hour) AS day,
    event_type, project, environment, model, provider, feature, api_key_id, endpoint, status, success,
    sum(events) AS events,
    sum(requests) AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(compute_units) AS compute_units,
    sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced,
    sum(failures) AS failures,
    sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum,
    sumMap(latency_hist) AS latency_hist
FROM {{table:rollup_hourly}}
GROUP BY tenant_id, day, event_type, project, environment, model, provider, feature, api_key_id, endpoint, status, success;

-- Per-day activity of each user and agent: exact distinct counts over long windows (count the
-- distinct actor_id rows, ~days x actors, instead of merging uniq states), the by-user
-- breakdown and the per-agent heatmap.
-- @distributed actors_daily cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:actors_daily}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    day           Date,
    actor_kind    Enum8('user' = 1, 'agent' = 2),
    actor_id      String,
    event_type    LowCardinality(String),
    project       LowCardinality(String),
    environment   LowCardinality(String),
    success       Bool,
    events        SimpleAggregateFunction(sum, UInt64),
    requests      SimpleAggregateFunction(sum, UInt64),
    input_tokens  SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    compute_units SimpleAggregateFunction(sum, UInt64),
    cost_nano     SimpleAggregateFunction(sum, Int64)
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, actor_kind, actor_id, event_type, project, environment, success)
TTL day + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:actors_daily_mv}} {{on_cluster}} TO {{table:actors_daily}} AS
SELECT
    tenant_id,
    toDate(ts) AS day,
    CAST(actor.1, 'Enum8(\'user\' = 1, \'agent\' = 2)') AS actor_kind,
    actor.2 AS actor_id,
    event_type, project, environment, success,
    toUInt64(count()) AS events,
    toUInt64(sum(requests)) AS requests,
    toUInt64(sum(input_tokens)) AS input_tokens,
    toUInt64(sum(output_tokens)) AS output_tokens,
    toUInt64(sum(compute_units)) AS compute_units,
    toInt64(sum(cost_nano)) AS cost_nano
FROM {{table:events}}
ARRAY JOIN arrayFilter(a -> a.2 != '', [('user', user_id), ('agent', agent_id)]) AS actor
GROUP BY tenant_id, day, actor_kind, actor_id, event_type, project, environment, success;
