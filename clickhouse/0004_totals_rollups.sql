-- Whole-tenant totals per hour and per day: the org-scope dashboard (no breakdown, no filter)
-- reads 24 rows a day instead of the scope rollup's event type x project x environment x
-- outcome rows. Measured on 10M generated events, scope_hourly still kept ~100 rows per
-- tenant-hour. Fed from scope_hourly's inserts (chained), backfilled once at the end.
-- @distributed totals_hourly cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:totals_hourly}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    hour          DateTime('UTC'),
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
ORDER BY (tenant_id, hour)
TTL hour + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:totals_hourly_mv}} {{on_cluster}} TO {{table:totals_hourly}} AS
SELECT tenant_id, hour,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum, sumMap(latency_hist) AS latency_hist
FROM {{table:scope_hourly}}
GROUP BY tenant_id, hour;

-- @distributed totals_daily cityHash64(tenant_id)
CREATE TABLE IF NOT EXISTS {{table:totals_daily}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    day           Date,
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
ORDER BY (tenant_id, day)
TTL day + INTERVAL {{rollup_retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:totals_daily_mv}} {{on_cluster}} TO {{table:totals_daily}} AS
SELECT tenant_id, toDate(hour) AS day,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum, sumMap(latency_hist) AS latency_hist
FROM {{table:totals_hourly}}
GROUP BY tenant_id, day;

-- Backfill (a no-op on a new store); totals_daily fills through its view.
INSERT INTO {{dist:totals_hourly}}
SELECT tenant_id, hour,
    sum(events), sum(requests), sum(input_tokens), sum(output_tokens), sum(compute_units), sum(cost_nano),
    sum(cost_unpriced), sum(failures), sum(latency_count), sum(latency_sum), sumMap(latency_hist)
FROM {{dist:scope_hourly}}
GROUP BY tenant_id, hour;
