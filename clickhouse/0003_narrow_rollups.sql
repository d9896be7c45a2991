-- Narrow rollups for the questions dashboards ask most: totals and series by scope (project,
-- environment), event type and outcome, and distinct users/agents over long windows. Measured
-- on generated data, the wide rollup_hourly kept ~1 row per event (its dimensions multiply)
-- and actors_daily more rows than raw; these keep a handful of rows per tenant-hour/-day.
-- They are fed from the rollups' own inserts (chained views over already-aggregated blocks), so
-- the raw insert path gets no new view. Existing data is backfilled once at the end.
-- @distributed scope_hourly cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:scope_hourly}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    hour          DateTime('UTC'),
    event_type    LowCardinality(String),
    project       LowCardinality(String),
    environment   LowCardinality(String),
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
ORDER BY (tenant_id, hour, event_type, project, environment, success)
TTL hour + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:scope_hourly_mv}} {{on_cluster}} TO {{table:scope_hourly}} AS
SELECT tenant_id, hour, event_type, project, environment, success,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum, sumMap(latency_hist) AS latency_hist
FROM {{table:rollup_hourly}}
GROUP BY tenant_id, hour, event_type, project, environment, success;

-- @distributed scope_daily cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:scope_daily}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    day           Date,
    event_type    LowCardinality(String),
    project       LowCardinality(String),
    environment   LowCardinality(String),
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
ORDER BY (tenant_id, day, event_type, project, environment, success)
TTL day + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:scope_daily_mv}} {{on_cluster}} TO {{table:scope_daily}} AS
SELECT tenant_id, toDate(hour) AS day, event_type, project, environment, success,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum, sumMap(latency_hist) AS latency_hist
FROM {{table:scope_hourly}}
GROUP BY tenant_id, day, event_type, project, environment, success;

-- One row per actor per day: exact distinct users/agents over a month read days x actors rows.
-- @distributed actor_days cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:actor_days}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    day           Date,
    actor_kind    Enum8('user' = 1, 'agent' = 2),
    actor_id      String,
    events        SimpleAggregateFunction(sum, UInt64),
    requests      SimpleAggregateFunction(sum, UInt64),
    input_tokens  SimpleAggregateFunction(sum, UInt64),
    output_tokens SimpleAggregateFunction(sum, UInt64),
    compute_units SimpleAggregateFunction(sum, UInt64),
    cost_nano     SimpleAggregateFunction(sum, Int64)
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, actor_kind, actor_id)
TTL day + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:actor_days_mv}} {{on_cluster}} TO {{table:actor_days}} AS
SELECT tenant_id, day, actor_kind, actor_id,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano
FROM {{table:actors_daily}}
GROUP BY tenant_id, day, actor_kind, actor_id;

-- Backfill what the wider rollups already hold (a no-op on a new store). On a cluster through the
-- Distributed tables, so every shard's rows are read and land on their shards.
INSERT INTO {{dist:scope_hourly}}
SELECT tenant_id, hour, event_type, project, environment, success,
    sum(events), sum(requests), sum(input_tokens), sum(output_tokens), sum(compute_units), sum(cost_nano),
    sum(cost_unpriced), sum(failures), sum(latency_count), sum(latency_sum), sumMap(latency_hist)
FROM {{dist:rollup_hourly}}
GROUP BY tenant_id, hour, event_type, project, environment, success;

INSERT INTO {{dist:actor_days}}
SELECT tenant_id, day, actor_kind, actor_id,
    sum(events), sum(requests), sum(input_tokens), sum(output_tokens), sum(compute_units), sum(cost_nano)
FROM {{dist:actors_daily}}
GROUP BY tenant_id, day, actor_kind, actor_id;
