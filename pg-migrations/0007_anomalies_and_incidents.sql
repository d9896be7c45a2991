-- Incidents (seed 004 §2.5, §6.2): what a person must look at. Opened by HIGH/CRITICAL
-- anomalies and every BUDGET_EXCEEDED; anomalies for the same key attach to the open one.
CREATE TABLE incidents (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- What groups anomalies into one incident, e.g. 'budget:<id>' or 'spike:model:gpt-4o'.
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 1024),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    category         text NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
    severity         text NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    -- The run whose events caused it, when one did (seed 004 §2.1: runs ↔ incidents).
    source_run_id    text,
    -- The dimension and window of the anomaly that opened it (cost impact, related incidents).
    dimension        text NOT NULL DEFAULT 'tenant',
    dimension_value  text,
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL,
    opened_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    resolved_at      timestamptz,
    resolved_by      text,
    resolution_note  text CHECK (length(resolution_note) <= 4000),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK (resolved_at IS NULL OR resolved_at >= opened_at)
);
-- At most one open (not yet resolved) incident per key: anomalies attach to it.
CREATE UNIQUE INDEX incidents_one_open_per_key ON incidents (tenant_id, key) WHERE status <> 'resolved';
CREATE INDEX incidents_tenant_opened ON incidents (tenant_id, opened_at DESC, id DESC);
CREATE INDEX incidents_tenant_resolved ON incidents (tenant_id, resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_source_run ON incidents (tenant_id, source_run_id) WHERE source_run_id IS NOT NULL;

-- Everything detection found (seed 004 §2.5): recorded whether or not it pages anyone.
CREATE TABLE anomalies (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type             text NOT NULL CHECK (type IN ('BUDGET_THRESHOLD', 'BUDGET_FORECAST_EXCEEDED', 'BUDGET_EXCEEDED', 'SPEND_SPIKE', 'USAGE_DROP', 'ERROR_RATE_SPIKE')),
    severity         text NOT NULL CHECK (severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    -- 'tenant' for the whole tenant, else a dimension (model, feature, user_id, api_key_id, endpoint, budget).
    dimension        text NOT NULL CHECK (length(dimension) BETWEEN 1 AND 64),
    dimension_value  text,
    window_start     timestamptz NOT NULL,
    window_end       timestamptz NOT NULL CHECK (window_end > window_start),
    -- Exact: costs to the nano-USD, counts whole.
    observed         numeric(30, 9) NOT NULL,
    expected         numeric(30, 9),
    z_score          double precision,
    impact_usd       numeric(30, 9) NOT NULL DEFAULT 0,
    budget_id        uuid REFERENCES budgets (id),
    threshold_pct    numeric(12, 6),
    run_id           text,
    -- What detection derives from the finding itself, so re-running it over the same window
    -- inserts nothing new.
    dedup_key        text NOT NULL CHECK (length(dedup_key) BETWEEN 1 AND 1024),
    incident_id      uuid REFERENCES incidents (id),
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (tenant_id, dedup_key)
);
CREATE INDEX anomalies_tenant_created ON anomalies (tenant_id, created_at DESC, id DESC);
CREATE INDEX anomalies_incident ON anomalies (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX anomalies_run ON anomalies (tenant_id, run_id) WHERE run_id IS NOT NULL;
