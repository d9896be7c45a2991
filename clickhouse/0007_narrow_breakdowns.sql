-- The per-dimension rollups of 0005 cost more on the insert path than they return: each
-- rollup_hourly row fanned out into 9 rows with a latency histogram (sumMap) each (with 0006's
-- actor_hours, the engine's own insert with every view fell from 28.8k to 16.2k rows/s;
-- bench/ingest.ts, 200k events; after this file its file() load went from 40-55k to 68-92k
-- rows/s on the same machine). They now keep only what single-dimension questions ask them and no
-- narrower table answers: project, model, provider, feature, api_key_id, endpoint (event_type,
-- environment and success are scope_*'s; status is rarely asked alone), and no histogram
-- (percentiles by one dimension read rollup_hourly; the planner knows, see catalog.ts).
-- Rows of the dropped dimensions are deleted. A view is dropped before its replacement is
-- created, so inserts of other processes in that gap miss the breakdowns; the reconciliation
-- job rebuilds such tenant-days from raw through the new views.
DROP VIEW IF EXISTS {{table:breakdown_daily_mv}} {{on_cluster}};

DROP VIEW IF EXISTS {{table:breakdown_hourly_mv}} {{on_cluster}};

ALTER TABLE {{table:breakdown_hourly}} {{on_cluster}} DROP COLUMN IF EXISTS latency_hist;

ALTER TABLE {{dist:breakdown_hourly}} {{on_cluster}} DROP COLUMN IF EXISTS latency_hist;

ALTER TABLE {{table:breakdown_daily}} {{on_cluster}} DROP COLUMN IF EXISTS latency_hist;

ALTER TABLE {{dist:breakdown_daily}} {{on_cluster}} DROP COLUMN IF EXISTS latency_hist;

ALTER TABLE {{table:breakdown_hourly}} {{on_cluster}} DELETE WHERE dim NOT IN ('project', 'model', 'provider', 'feature', 'api_key_id', 'endpoint');

ALTER TABLE {{table:breakdown_daily}} {{on_cluster}} DELETE WHERE dim NOT IN ('project', 'model', 'provider', 'feature', 'api_key_id', 'endpoint');

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:breakdown_hourly_mv}} {{on_cluster}} TO {{table:breakdown_hourly}} AS
SELECT tenant_id, hour, kv.1 AS dim, kv.2 AS value,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum
FROM {{table:rollup_hourly}}
ARRAY JOIN [
    ('project', toString(project)), ('model', toString(model)), ('provider', toString(provider)),
    ('feature', toString(feature)), ('api_key_id', toString(api_key_id)), ('endpoint', toString(endpoint))
] AS kv
GROUP BY tenant_id, hour, dim, value;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{table:breakdown_daily_mv}} {{on_cluster}} TO {{table:breakdown_daily}} AS
SELECT tenant_id, toDate(hour) AS day, dim, value,
    sum(events) AS events, sum(requests) AS requests, sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens, sum(compute_units) AS compute_units, sum(cost_nano) AS cost_nano,
    sum(cost_unpriced) AS cost_unpriced, sum(failures) AS failures, sum(latency_count) AS latency_count,
    sum(latency_sum) AS latency_sum
FROM {{table:breakdown_hourly}}
GROUP BY tenant_id, day, dim, value;
