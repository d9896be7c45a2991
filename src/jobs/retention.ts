import type { ClickHouseStore } from '../stores/clickhouse/store.js';
import type { JobDefinition } from './registry.js';

const DAY_MS = 86_400_000;

/** Raw events: kept RETENTION_DAYS. */
const RAW_TABLES: Record<string, string> = { events: 'ts' };
/** Rollups (monthly partitions by their time column): kept ROLLUP_RETENTION_DAYS. */
const ROLLUP_TABLES: Record<string, string> = {
  rollup_hourly: 'hour',
  rollup_daily: 'day',
  actors_daily: 'day',
  scope_hourly: 'hour',
  scope_daily: 'day',
  actor_days: 'day',
  totals_hourly: 'hour',
  totals_daily: 'day',
  breakdown_hourly: 'hour',
  breakdown_daily: 'day',
  actor_hours: 'hour',
};

export interface DroppedPartition {
  table: string;
  /** The partition id: the month, YYYYMM. */
  partition: string;
  rows: number;
}

export interface RetentionResult {
  /** Everything before these instants is past retention. */
  rawCutoff: string;
  rollupCutoff: string;
  dropped: DroppedPartition[];
}

/** The first instant after month YYYYMM (UTC). */
const monthEnd = (partition: string) => Date.UTC(Number(partition.slice(0, 4)), Number(partition.slice(4, 6)), 1);

/**
 * Drops the monthly partitions whose every row is past retention: raw events after
 * RETENTION_DAYS, rollups after ROLLUP_RETENTION_DAYS. The TTL already removes expired parts in
 * the background, at merge time; this makes it prompt and says what went. A month that is only
 * partly expired is left to the TTL. Postgres anomalies and incidents are never touched.
 */
export async function dropExpiredPartitions(
  ch: ClickHouseStore,
  opts: { retentionDays: number; rollupRetentionDays: number; now?: Date },
): Promise<RetentionResult> {
  const now = (opts.now ?? new Date()).getTime();
  const rawCutoff = now - opts.retentionDays * DAY_MS;
  const rollupCutoff = now - opts.rollupRetentionDays * DAY_MS;
  const dropped: DroppedPartition[] = [];
  for (const [tables, cutoff] of [
    [RAW_TABLES, rawCutoff],
    [ROLLUP_TABLES, rollupCutoff],
  ] as const) {
    for (const [table, column] of Object.entries(tables)) {
      // Through the table queries use (the Distributed one on a cluster), so every shard counts.
      const parts = await ch.query<{ partition: string; rows: string | number }>(
        `SELECT _partition_id AS partition, count() AS rows FROM ${table}
         WHERE ${column} < fromUnixTimestamp64Milli({cutoff:Int64}, 'UTC')
         GROUP BY partition ORDER BY partition`,
        { cutoff },
      );
      for (const p of parts) {
        if (!/^\d{6}$/.test(p.partition) || monthEnd(p.partition) > cutoff) continue;
        const local = ch.cluster ? `${table}_local ON CLUSTER \`${ch.cluster}\`` : table;
        await ch.command(`ALTER TABLE ${local} DROP PARTITION ID '${p.partition}'`);
        dropped.push({ table, partition: p.partition, rows: Number(p.rows) });
      }
    }
  }
  return { rawCutoff: new Date(rawCutoff).toISOString(), rollupCutoff: new Date(rollupCutoff).toISOString(), dropped };
}

export const retentionJob: JobDefinition<RetentionResult> = {
  name: 'retention',
  everyMs: 3_600_000,
  backoffMs: 60_000,
  handler: ({ services, windowStart }) =>
    dropExpiredPartitions(services.ch, {
      retentionDays: services.config.retentionDays,
      rollupRetentionDays: services.config.rollupRetentionDays,
      now: windowStart,
    }),
};
