-- A tenant's own price per event of a type (seed 001's usage-based pricing: "$0.01 per workflow
-- run"). The costs report multiplies the events of a type by its rate, exactly: numeric(20, 9)
-- is whole nano-USD, the unit every cost in tallyhouse is kept in.
CREATE TABLE tenant_unit_rates (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type    text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 128),
    usd_per_event numeric(20, 9) NOT NULL CHECK (usd_per_event >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_type)
);
