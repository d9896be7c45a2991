import type { ClickHouseStore } from '../stores/clickhouse/store.js';

/**
 * Event time (epoch ms) of the tenant's newest event, or null when it has none. Not a planner
 * question (no window, no aggregate over one): the raw table is ordered by (tenant_id, ts), so
 * ClickHouse reads this in reverse key order and stops at the first row.
 */
export async function newestEventMs(ch: ClickHouseStore, tenantId: string): Promise<number | null> {
  const rows = await ch.query<{ ms: string }>(
    'SELECT toString(toUnixTimestamp64Milli(ts)) AS ms FROM events WHERE tenant_id = {tenant:String} ORDER BY ts DESC LIMIT 1',
    { tenant: tenantId },
  );
  return rows[0] ? Number(rows[0].ms) : null;
}

/**
 * Age in whole seconds of the newest event; an event stamped in the future (producers may
 * send up to INGEST_MAX_FUTURE_DAYS ahead) reads as 0, not as a negative age.
 */
export function freshnessSec(newestMs: number | null, nowMs = Date.now()): number | null {
  return newestMs === null ? null : Math.max(0, Math.floor((nowMs - newestMs) / 1000));
}
