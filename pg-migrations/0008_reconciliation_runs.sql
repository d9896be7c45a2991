-- One row per reconciliation run (issue 4): what was checked, what was rebuilt, how far behind.
-- tenant_stats holds each checked tenant's own counts ({"<tenant id>": {"hours_checked": n,
-- "hours_repaired": n}}), so a tenant's _status never reveals other tenants' activity.
CREATE TABLE reconciliation_runs (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    window_from    timestamptz NOT NULL,
    window_to      timestamptz NOT NULL,
    -- Set when the run was limited to one tenant.
    tenant_id      uuid,
    hours_checked  integer NOT NULL DEFAULT 0,
    hours_repaired integer NOT NULL DEFAULT 0,
    days_rebuilt   integer NOT NULL DEFAULT 0,
    tenants        integer NOT NULL DEFAULT 0,
    duplicates_removed integer NOT NULL DEFAULT 0,
    tenant_stats   jsonb NOT NULL DEFAULT '{}',
    -- now − end of the newest closed hour checked; null when no hour was checked.
    lag_sec        integer,
    error          text
);
CREATE INDEX reconciliation_runs_finished ON reconciliation_runs (finished_at DESC);
