-- Budgets: the one place limits live (seed 004 §2.8: enforcement and tracking must read the
-- same number). A budget caps one metric over a calendar period in the tenant's time zone on
-- one scope. Deleting a budget stamps deleted_at: anomalies and incidents raised by it keep a
-- budget to point at; every read filters on deleted_at IS NULL.
CREATE TABLE budgets (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    scope_type   text NOT NULL CHECK (scope_type IN ('tenant', 'project', 'feature', 'user', 'model', 'api_key')),
    scope_value  text CHECK (length(scope_value) BETWEEN 1 AND 1024),
    period       text NOT NULL CHECK (period IN ('day', 'week', 'month')),
    metric       text NOT NULL CHECK (metric IN ('cost', 'tokens', 'requests')),
    -- cost: USD, exact to the nano-USD (the unit of every cost); tokens, requests: whole numbers.
    limit_value  numeric(30, 9) NOT NULL CHECK (limit_value > 0),
    -- % of the limit, strictly increasing (checked by the API, which names the field).
    thresholds   numeric(12, 6)[] NOT NULL DEFAULT '{50,80,100}'
                 CHECK (cardinality(thresholds) BETWEEN 1 AND 20 AND 0 < ALL (thresholds) AND 1000 >= ALL (thresholds)),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    CHECK ((scope_type = 'tenant') = (scope_value IS NULL)),
    CHECK (metric = 'cost' OR limit_value = trunc(limit_value))
);
-- The enforcer's lookup: a tenant's live budgets on one scope (plus its tenant-wide ones).
CREATE INDEX budgets_scope ON budgets (tenant_id, scope_type, scope_value) WHERE deleted_at IS NULL;

-- The unified timeline (seed 004 §6.3): one row per thing that happened in any domain, so a
-- tenant reads budgets, anomalies, incidents and keys as one chronological stream.
CREATE TABLE domain_events (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ts            timestamptz NOT NULL DEFAULT clock_timestamp(),
    source_domain text NOT NULL CHECK (length(source_domain) BETWEEN 1 AND 64),
    event_type    text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 128),
    entity_id     text NOT NULL,
    related       jsonb NOT NULL DEFAULT '{}',
    summary       text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}'
);
-- Newest first, keyset-paginated by (ts, id).
CREATE INDEX domain_events_tenant_ts ON domain_events (tenant_id, ts DESC, id DESC);
-- One entity's history (a budget's changes, an incident's steps).
CREATE INDEX domain_events_entity ON domain_events (tenant_id, entity_id, ts DESC);
