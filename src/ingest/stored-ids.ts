import type { ClickHouseStore } from '../stores/clickhouse/store.js';

/** Which of `ids` the tenant already has (event_ids is written by the insert itself, a view). */
export async function storedEventIds(ch: ClickHouseStore, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await ch.query<{ event_id: string }>(
    'SELECT DISTINCT event_id FROM event_ids WHERE tenant_id = {tenant:String} AND event_id IN {ids:Array(String)}',
    { tenant: tenantId, ids },
  );
  return new Set(rows.map((r) => r.event_id));
}
