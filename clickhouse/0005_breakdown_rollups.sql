-- One row per tenant, hour (or day), dimension and value: single-dimension breakdowns (cost by
-- model, by feature, by API key, by project; events by type) read a few rows per hour instead of
-- rollup_hourly's dimension combinations (~1 row per event on data whose dimensions vary
-- independently; measured: a 30-day cost breakdown read 255k rollup rows for 574k events).
-- Each rollup row is fanned out once per dimension (ARRAY JOIN), so every dimension's values
-- sum to the same totals. success is left out (a Bool; scope_* keep it). Fed from
-- rollup_hourly's inserts (chained views: the raw insert path gets no new view), dim leads the
-- key after the tenant, so a question reads only its dimension's rows, in granules of 1024 rows
-- (a tenant-dimension's window is a few hundred rows; 8192-row granules read mostly others').
-- Backfilled at the end.
-- @distributed breakdown_hourly cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:breakdown_hourly}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    hour          DateTime('UTC'),
    dim           LowCardinality(String),
    value         LowCardinality(String),
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
ORDER BY (tenant_id, dim, hour, value)
TTL hour + INTERVAL {{rollup_retention_days}} DAY DELETE
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:breakdown_hourly_mv}} {{on_cluster}} TO {{table:breakdown_hourly}} AS
SELECT tenant_id, hour, kv.1 AS dim, kv.2 AS value,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum, sumMap(latency_hist) AS latency_hist
FROM {{table:rollup_hourly}}
ARRAY JOIN [
    ('event_type', toString(event_type)), ('project', toString(project)), ('environment', toString(environment)),
    ('model', toString(model)), ('provider', toString(provider)), ('feature', toString(feature)),
    ('api_key_id', toString(api_key_id)), ('endpoint', toString(endpoint)), ('status', toString(status))
] AS kv
GROUP BY tenant_id, hour, dim, value;

-- @distributed breakdown_daily cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:breakdown_daily}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    day           Date,
    dim           LowCardinality(String),
    value         LowCardinality(String),
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
ORDER BY (tenant_id, dim, day, value)
TTL day + INTERVAL {{rollup_retention_days}} DAY DELETE
SETTINGS index_granularity = 1024;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:breakdown_daily_mv}} {{on_cluster}} TO {{table:breakdown_daily}} AS
SELECT tenant_id, toDate(hour) AS day, dim, value,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum, sumMap(latency_hist) AS latency_hist
FROM {{table:breakdown_hourly}}
GROUP BY tenant_id, day, dim, value;

-- Backfill (a no-op on a new store); breakdown_daily fills through its view.
INSERT INTO {{dist:breakdown_hourly}}
SELECT tenant_id, hour, kv.1 AS dim, kv.2 AS value,
    sum(events), sum(requests), sum(input_tokens), sum(output_tokens), sum(compute_units), sum(cost_nano),
    sum(cost_unpriced), sum(failures), sum(latency_count), sum(latency_sum), sumMap(latency_hist)
FROM {{dist:rollup_hourly}}
ARRAY JOIN [
    ('event_type', toString(event_type)), ('project', toString(project)), ('environment', toString(environment)),
    ('model', toString(model)), ('provider', toString(provider)), ('feature', toString(feature)),
    ('api_key_id', toString(api_key_id)), ('endpoint', toString(endpoint)), ('status', toString(status))
] AS kv
GROUP BY tenant_id, hour, dim, value;
