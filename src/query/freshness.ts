import type { ClickHouseStore } from '../stores/clickhouse/store.js';

/**
 * Event time (epoch ms) of the tenant's newest event, or null when it has none. Not a planner
 * question (no window, no aggregate over one). totals_hourly's newest hour bounds the raw read to
 * that hour's granules (the raw table is ordered by (tenant_id, ts)); "ORDER BY ts DESC LIMIT 1"
 * read the last granule of every part instead: 18 ms against 6 ms for a tenant with 10M events.
 * One thread: the read is a few granules, and it runs beside the request's other statements.
 */
export async function newestEventMs(ch: ClickHouseStore, tenantId: string): Promise<number | null> {
  const rows = await ch.query<{ ms: string; n: string }>(
    `SELECT toString(toUnixTimestamp64Milli(max(ts))) AS ms, toString(count()) AS n FROM events
     WHERE tenant_id = {tenant:String} AND ts >= (SELECT max(hour) FROM totals_hourly WHERE tenant_id = {tenant:String})
     SETTINGS max_threads = 1`,
    { tenant: tenantId },
  );
  return rows[0] && rows[0].n !== '0' ? Number(rows[0].ms) : null;
}

/**
 * Age in whole seconds of the newest event; an event stamped in the future (producers may
 * send up to INGEST_MAX_FUTURE_DAYS ahead) reads as 0, not as a negative age.
 */
export function freshnessSec(newestMs: number | null, nowMs = Date.now()): number | null {
  return newestMs === null ? null : Math.max(0, Math.floor((nowMs - newestMs) / 1000));
}
