-- Raw, immutable usage and cost events. Tenant first in ORDER BY; monthly partitions so the
-- retention TTL drops whole parts. cost_nano is exact money: integer nano-USD.
-- latency_bucket is the one definition of the latency histogram bucket (exact below 100 ms,
-- then 1 % wide log buckets), so percentiles from raw and from rollups are the same number.
-- @distributed events cityHash64(tenant_id, event_id)
CREATE TABLE IF NOT EXISTS {{table:events}} {{on_cluster}}
(
    tenant_id     LowCardinality(String),
    event_id      String,
    ts            DateTime64(3, 'UTC'),
    ingested_at   DateTime64(3, 'UTC'),
    event_type    LowCardinality(String),
    project       LowCardinality(String),
    environment   LowCardinality(String),
    user_id       String,
    agent_id      String,
    api_key_id    LowCardinality(String),
    feature       LowCardinality(String),
    model         LowCardinality(String),
    provider      LowCardinality(String),
    endpoint      LowCardinality(String),
    run_id        String,
    policy_id     LowCardinality(String),
    source        LowCardinality(String),
    success       Bool,
    status        LowCardinality(String),
    requests      UInt32,
    input_tokens  UInt64,
    output_tokens UInt64,
    compute_units UInt64,
    latency_ms    Nullable(UInt32),
    cost_nano     Int64,
    cost_unpriced UInt8,
    metadata      Map(String, String),
    latency_bucket UInt16 MATERIALIZED if(ifNull(latency_ms, 0) < 100, toUInt16(ifNull(latency_ms, 0)),
        toUInt16(100 + floor(log(greatest(ifNull(latency_ms, 0), 100) / 100) / log(1.01)))),
    INDEX idx_run_id run_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_agent_id agent_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = {{engine:MergeTree}}
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant_id, ts)
TTL toDateTime(ts) + INTERVAL {{retention_days}} DAY DELETE
SETTINGS ttl_only_drop_parts = 1;

-- Idempotency markers, one row per (tenant, event_id), looked up by primary key at ingest.
-- Fed by a materialized view from events, so a marker only ever exists next to its event:
-- the view runs after the event block was written, never before.
-- @distributed event_ids cityHash64(tenant_id, event_id)
CREATE TABLE IF NOT EXISTS {{table:event_ids}} {{on_cluster}}
(
    tenant_id   LowCardinality(String),
    event_id    String,
    ts          DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC')
)
ENGINE = {{engine:ReplacingMergeTree}}
PARTITION BY toYYYYMM(ingested_at)
ORDER BY (tenant_id, event_id)
TTL toDateTime(ingested_at) + INTERVAL {{retention_days}} DAY DELETE;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:event_ids_mv}} {{on_cluster}} TO {{table:event_ids}} AS
SELECT tenant_id, event_id, ts, ingested_at FROM {{table:events}};
