import type { Pool } from 'pg';
import { usdToNano } from '../ingest/money.js';

/**
 * A tenant's unit rates (tenant_unit_rates): nano-USD per event, by event type. Read as text
 * so the numeric never passes through a float.
 */
export async function loadUnitRates(pool: Pool, tenantId: string): Promise<Map<string, bigint>> {
  const { rows } = await pool.query<{ event_type: string; usd: string }>(
    'SELECT event_type, usd_per_event::text AS usd FROM tenant_unit_rates WHERE tenant_id = $1',
    [tenantId],
  );
  return new Map(rows.map((r) => [r.event_type, usdToNano(r.usd)]));
}

export interface UnitRate {
  eventType: string;
  usdPerEvent: string;
  updatedAt: string;
}

const toRate = (r: { event_type: string; usd: string; updated_at: Date }): UnitRate => ({
  eventType: r.event_type,
  usdPerEvent: r.usd,
  updatedAt: r.updated_at.toISOString(),
});

export async function listUnitRates(pool: Pool, tenantId: string): Promise<UnitRate[]> {
  const { rows } = await pool.query(
    'SELECT event_type, usd_per_event::text AS usd, updated_at FROM tenant_unit_rates WHERE tenant_id = $1 ORDER BY event_type',
    [tenantId],
  );
  return rows.map(toRate);
}

/** Sets (inserts or replaces) the rate of one event type; the amount is a decimal string. */
export async function setUnitRate(pool: Pool, tenantId: string, eventType: string, usdPerEvent: string): Promise<UnitRate> {
  const { rows } = await pool.query(
    `INSERT INTO tenant_unit_rates (tenant_id, event_type, usd_per_event) VALUES ($1, $2, $3::numeric)
     ON CONFLICT (tenant_id, event_type) DO UPDATE SET usd_per_event = EXCLUDED.usd_per_event, updated_at = now()
     RETURNING event_type, usd_per_event::text AS usd, updated_at`,
    [tenantId, eventType, usdPerEvent],
  );
  return toRate(rows[0]);
}

export async function deleteUnitRate(pool: Pool, tenantId: string, eventType: string): Promise<boolean> {
  const { rowCount } = await pool.query('DELETE FROM tenant_unit_rates WHERE tenant_id = $1 AND event_type = $2', [tenantId, eventType]);
  return (rowCount ?? 0) > 0;
}
