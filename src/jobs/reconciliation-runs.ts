import type { Pool } from 'pg';

/** Counts of one tenant in one run (reconciliation_runs.tenant_stats). */
export interface TenantReconStats {
  hours_checked: number;
  hours_repaired: number;
}

export interface RunOutcome {
  hoursChecked: number;
  hoursRepaired: number;
  daysRebuilt: number;
  tenants: number;
  duplicatesRemoved: number;
  tenantStats: Record<string, TenantReconStats>;
  lagSec: number | null;
}

export async function startRun(pool: Pool, startedAt: Date, from: Date, to: Date, tenantId?: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    'INSERT INTO reconciliation_runs (started_at, window_from, window_to, tenant_id) VALUES ($1, $2, $3, $4) RETURNING id',
    [startedAt, from, to, tenantId ?? null],
  );
  return rows[0]!.id;
}

export async function finishRun(pool: Pool, id: string, finishedAt: Date, out: RunOutcome): Promise<void> {
  await pool.query(
    `UPDATE reconciliation_runs SET finished_at = $2, hours_checked = $3, hours_repaired = $4, days_rebuilt = $5,
       tenants = $6, duplicates_removed = $7, tenant_stats = $8, lag_sec = $9 WHERE id = $1`,
    [id, finishedAt, out.hoursChecked, out.hoursRepaired, out.daysRebuilt, out.tenants, out.duplicatesRemoved, JSON.stringify(out.tenantStats), out.lagSec],
  );
}

export async function failRun(pool: Pool, id: string, finishedAt: Date, error: string): Promise<void> {
  await pool.query('UPDATE reconciliation_runs SET finished_at = $2, error = $3 WHERE id = $1', [id, finishedAt, error.slice(0, 2000)]);
}

export interface TenantReconciliation {
  last_run_at: string;
  hours_checked: number;
  hours_repaired: number;
  lag_sec: number | null;
}

/**
 * The tenant's view of the newest successful run that covered it (an all-tenant run, or one
 * limited to it): its own hour counts, the run's lag. Null before any such run.
 */
export async function lastReconciliation(pool: Pool, tenantId: string): Promise<TenantReconciliation | null> {
  const { rows } = await pool.query<{ finished_at: Date; stats: TenantReconStats | null; lag_sec: number | null }>(
    `SELECT finished_at, tenant_stats -> $1::text AS stats, lag_sec FROM reconciliation_runs
     WHERE finished_at IS NOT NULL AND error IS NULL AND (tenant_id IS NULL OR tenant_id = $1::uuid)
     ORDER BY finished_at DESC LIMIT 1`,
    [tenantId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    last_run_at: r.finished_at.toISOString(),
    hours_checked: r.stats?.hours_checked ?? 0,
    hours_repaired: r.stats?.hours_repaired ?? 0,
    lag_sec: r.lag_sec,
  };
}
