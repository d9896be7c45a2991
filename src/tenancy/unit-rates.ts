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
