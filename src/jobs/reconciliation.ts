import { EVENT_COLUMNS } from '../ingest/event-rows.js';
import { DAY_MS, HOUR_MS, ceilTo, floorTo } from '../query/time-buckets.js';
import type { Services } from '../services.js';
import type { ClickHouseStore } from '../stores/clickhouse/store.js';
import {
  REBUILD_ACTOR_HOURS,
  REBUILD_ACTORS_DAILY,
  REBUILD_ROLLUP_HOURLY,
  ROLLUP_TABLES,
  actorDayTotalsSql,
  duplicateIdsSql,
  rawActorDayTotalsSql,
  rawHourTotalsSql,
  rollupHourTotalsSql,
} from './reconciliation-sql.js';
import { failRun, finishRun, startRun, type RunOutcome, type TenantReconStats } from './reconciliation-runs.js';

export interface ReconcileWindow {
  from: Date;
  to: Date;
  /** Only this tenant; all tenants with events in the window otherwise. */
  tenantId?: string;
}

export interface ReconcileResult extends RunOutcome {
  runId: string;
  /** The closed hours checked: [from, to), hour-aligned. */
  from: Date;
  to: Date;
  durationMs: number;
  /** Each tenant-day rebuilt (day as YYYY-MM-DD, UTC). */
  rebuilt: { tenantId: string; day: string }[];
}

type ReconServices = Pick<Services, 'ch' | 'pg' | 'metrics' | 'ingest'>;

const HOUR_MEASURES = ['events', 'requests', 'input_tokens', 'output_tokens', 'compute_units', 'cost_nano', 'cost_unpriced', 'failures', 'latency_count', 'latency_sum'] as const;
const ACTOR_MEASURES = ['events', 'requests', 'tokens', 'compute_units', 'cost_nano'] as const;
const ID_CHUNK = 1000;

/** ClickHouse DateTime64 text for a parameter. */
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The reconciliation job: for every closed hour overlapping [from, to) and every tenant with events
 * or rollup rows in it, compare rollup_hourly's totals (and actors_daily's per day) with the
 * deduplicated raw events; where they differ, rebuild the whole tenant-day in every rollup table.
 *
 * Why a whole day: the views cascade (rollup_hourly → rollup_daily, scope_hourly → scope_daily,
 * totals_hourly → totals_daily, breakdown_hourly → breakdown_daily; actors_daily → actor_days;
 * actor_hours, a root of its own), so an hour cannot be replaced alone
 * without leaving its day rows wrong. Deleting the tenant-day everywhere and re-inserting into
 * the view roots lets the views rebuild the rest with their own expressions.
 *
 * Raw duplicates (one event_id stored twice, e.g. two API processes racing past the event_ids
 * check) are removed from `events` itself, keeping the first ingested copy: the planner reads raw
 * for window edges, distinct counts and `source=raw`, so rollups alone being right would still
 * leave answers that depend on the table chosen. Identical copies cannot be told apart by a
 * WHERE, so the kept copy is read out, every copy deleted, the kept one re-inserted.
 *
 * Duplicates are found within the UTC days of the window; copies of one id further apart than
 * that are outside a run's reach (ids repeat within seconds when two processes race).
 * Each tenant's repair runs under the ingest path's tenant lock, so this process inserts nothing
 * for the tenant between a delete and its rebuild; other processes inserting into a day being
 * rebuilt can still be counted twice until the next run repairs that (run it on closed hours).
 */
export async function reconcile(services: ReconServices, window: ReconcileWindow, opts: { now?: Date } = {}): Promise<ReconcileResult> {
  const startedMs = Date.now();
  const nowMs = opts.now?.getTime() ?? startedMs;
  const fromMs = floorTo(window.from.getTime(), HOUR_MS);
  const toMs = Math.max(fromMs, Math.min(ceilTo(window.to.getTime(), HOUR_MS), floorTo(nowMs, HOUR_MS)));
  const { pool } = services.pg;
  const runId = await startRun(pool, new Date(startedMs), new Date(fromMs), new Date(toMs), window.tenantId);
  try {
    const work = await check(services.ch, fromMs, toMs, window.tenantId);
    const rebuilt: ReconcileResult['rebuilt'] = [];
    let duplicatesRemoved = 0;
    for (const [tenantId, days] of work.repairDays) {
      await services.ingest.exclusive(tenantId, async () => {
        duplicatesRemoved += await removeRawDuplicates(services.ch, tenantId, work.duplicates.get(tenantId) ?? [], work.scopeFrom, work.scopeTo);
        const sorted = [...days].sort();
        await rebuildDays(services.ch, tenantId, sorted);
        for (const day of sorted) rebuilt.push({ tenantId, day });
      });
    }
    const out: RunOutcome = {
      hoursChecked: work.hoursChecked,
      hoursRepaired: work.hoursRepaired,
      daysRebuilt: rebuilt.length,
      tenants: Object.keys(work.tenantStats).length,
      duplicatesRemoved,
      tenantStats: work.tenantStats,
      lagSec: toMs > fromMs ? Math.max(0, Math.floor((nowMs - toMs) / 1000)) : null,
    };
    const finishedMs = Date.now();
    await finishRun(pool, runId, new Date(finishedMs), out);
    const durationMs = finishedMs - startedMs;
    services.metrics.reconciliationDuration.set(durationMs / 1000);
    services.metrics.reconciliationLastSuccess.set(Math.floor(finishedMs / 1000));
    services.metrics.reconciliationHoursRepaired.set(out.hoursRepaired);
    return { ...out, runId, from: new Date(fromMs), to: new Date(toMs), durationMs, rebuilt };
  } catch (e) {
    services.metrics.reconciliationDuration.set((Date.now() - startedMs) / 1000);
    await failRun(pool, runId, new Date(), e instanceof Error ? e.message : String(e)).catch(() => {});
    throw e;
  }
}

/** Hours a scheduled run looks back: late events and racing duplicates land within this. */
export const DEFAULT_LOOKBACK_HOURS = 48;

/** The scheduled job: every tenant's closed hours of the last `lookbackHours`. */
export function reconcileRecent(services: ReconServices, opts: { lookbackHours?: number; now?: Date } = {}): Promise<ReconcileResult> {
  const nowMs = opts.now?.getTime() ?? Date.now();
  const from = new Date(floorTo(nowMs, HOUR_MS) - (opts.lookbackHours ?? DEFAULT_LOOKBACK_HOURS) * HOUR_MS);
  return reconcile(services, { from, to: new Date(nowMs) }, { now: new Date(nowMs) });
}

interface CheckResult {
  scopeFrom: number;
  scopeTo: number;
  hoursChecked: number;
  hoursRepaired: number;
  tenantStats: Record<string, TenantReconStats>;
  /** Tenant → UTC days (YYYY-MM-DD) to rebuild. */
  repairDays: Map<string, Set<string>>;
  /** Tenant → event ids stored more than once in the scope. */
  duplicates: Map<string, string[]>;
}

type Totals = Record<string, string>;

async function check(ch: ClickHouseStore, fromMs: number, toMs: number, tenantId?: string): Promise<CheckResult> {
  // Deduplication looks at whole UTC days, the unit a repair rebuilds, so the check and the
  // rebuild keep the same copy of a duplicated id.
  const scopeFrom = floorTo(fromMs, DAY_MS);
  const scopeTo = ceilTo(toMs, DAY_MS);
  const result: CheckResult = { scopeFrom, scopeTo, hoursChecked: 0, hoursRepaired: 0, tenantStats: {}, repairDays: new Map(), duplicates: new Map() };
  if (toMs <= fromMs) return result;
  const tenantFilter = tenantId === undefined ? '' : ' AND tenant_id = {tenant:String}';
  const params = { from: chTime(fromMs), to: chTime(toMs), scopeFrom: chTime(scopeFrom), scopeTo: chTime(scopeTo), ...(tenantId === undefined ? {} : { tenant: tenantId }) };
  const repair = (tenant: string, day: string) => {
    let days = result.repairDays.get(tenant);
    if (!days) result.repairDays.set(tenant, (days = new Set()));
    days.add(day);
  };
  const stats = (tenant: string) => (result.tenantStats[tenant] ??= { hours_checked: 0, hours_repaired: 0 });

  type HourRow = Totals & { tenant_id: string; h: string };
  const raw = await ch.query<HourRow>(rawHourTotalsSql(tenantFilter), params);
  const rolled = await ch.query<HourRow>(rollupHourTotalsSql(tenantFilter), params);
  const hours = new Map<string, { tenant: string; hourMs: number; raw?: Totals; rolled?: Totals }>();
  const entry = (r: HourRow) => {
    const k = `${r.tenant_id}\u0000${r.h}`;
    let e = hours.get(k);
    if (!e) hours.set(k, (e = { tenant: r.tenant_id, hourMs: Number(r.h) * 1000 }));
    return e;
  };
  for (const r of raw) entry(r).raw = r;
  for (const r of rolled) entry(r).rolled = r;
  for (const h of hours.values()) {
    result.hoursChecked++;
    stats(h.tenant).hours_checked++;
    if (!sameTotals(h.raw, h.rolled, HOUR_MEASURES)) {
      result.hoursRepaired++;
      stats(h.tenant).hours_repaired++;
      repair(h.tenant, dayOf(h.hourMs));
    }
  }

  type DayRow = Totals & { tenant_id: string; d: string };
  const rawDays = await ch.query<DayRow>(rawActorDayTotalsSql(tenantFilter), params);
  const actorDays = await ch.query<DayRow>(actorDayTotalsSql(tenantFilter), params);
  const days = new Map<string, { tenant: string; day: string; raw?: Totals; rolled?: Totals }>();
  const dayEntry = (r: DayRow) => {
    const k = `${r.tenant_id}\u0000${r.d}`;
    let e = days.get(k);
    if (!e) days.set(k, (e = { tenant: r.tenant_id, day: r.d }));
    return e;
  };
  for (const r of rawDays) dayEntry(r).raw = r;
  for (const r of actorDays) dayEntry(r).rolled = r;
  for (const d of days.values()) if (!sameTotals(d.raw, d.rolled, ACTOR_MEASURES)) repair(d.tenant, d.day);

  for (const r of await ch.query<{ tenant_id: string; event_id: string; days: string[] }>(duplicateIdsSql(tenantFilter), params)) {
    let ids = result.duplicates.get(r.tenant_id);
    if (!ids) result.duplicates.set(r.tenant_id, (ids = []));
    ids.push(r.event_id);
    for (const d of r.days) repair(r.tenant_id, d);
  }
  return result;
}

/** Missing on one side reads as all zeros. */
function sameTotals(a: Totals | undefined, b: Totals | undefined, measures: readonly string[]): boolean {
  return measures.every((m) => BigInt(a?.[m] ?? '0') === BigInt(b?.[m] ?? '0'));
}

// Deletes wait for completion (chDB runs lightweight DELETE and waits with these settings), so
// the rebuild that follows never races its own delete.
const SYNC = 'SETTINGS lightweight_deletes_sync = 2, mutations_sync = 2';

/** DELETE target: on a cluster the shards' local tables (Distributed tables take no DELETE). */
function deleteTarget(ch: ClickHouseStore, table: string): string {
  return ch.cluster ? `${table}_local ON CLUSTER \`${ch.cluster.replace(/`/g, '')}\`` : table;
}

/** Keeps the first ingested copy of each id; returns how many extra copies were removed. */
async function removeRawDuplicates(ch: ClickHouseStore, tenantId: string, ids: string[], scopeFrom: number, scopeTo: number): Promise<number> {
  let removed = 0;
  const range = { tenant: tenantId, scopeFrom: chTime(scopeFrom), scopeTo: chTime(scopeTo) };
  const where = `tenant_id = {tenant:String} AND ts >= {scopeFrom:DateTime64(3, 'UTC')} AND ts < {scopeTo:DateTime64(3, 'UTC')} AND event_id IN {ids:Array(String)}`;
  for (let i = 0; i < ids.length; i += ID_CHUNK) {
    const chunk = ids.slice(i, i + ID_CHUNK);
    const [{ n } = { n: '0' }] = await ch.query<{ n: string }>(`SELECT toString(count()) AS n FROM events WHERE ${where}`, { ...range, ids: chunk });
    const kept = await ch.query<Record<string, unknown>>(
      `SELECT ${EVENT_COLUMNS.join(', ')} FROM events WHERE ${where}
       ORDER BY event_id, ingested_at, ts, cost_nano LIMIT 1 BY event_id`,
      { ...range, ids: chunk },
    );
    await ch.command(`DELETE FROM ${deleteTarget(ch, 'events')} WHERE ${where} ${SYNC}`, { ...range, ids: chunk });
    const body = Buffer.from(kept.map((r) => JSON.stringify(EVENT_COLUMNS.map((c) => r[c]))).join('\n') + '\n');
    await ch.insertRows('events', EVENT_COLUMNS, body);
    removed += Number(n) - kept.length;
  }
  return removed;
}

/**
 * Replaces some days of one tenant in every rollup table with what its deduplicated raw events
 * give. One statement per table for all the days: each DELETE waits for its mutation.
 */
async function rebuildDays(ch: ClickHouseStore, tenantId: string, days: string[]): Promise<void> {
  const first = Date.parse(`${days[0]}T00:00:00Z`);
  const last = Date.parse(`${days[days.length - 1]}T00:00:00Z`);
  const params = { tenant: tenantId, dayFrom: chTime(first), dayTo: chTime(last + DAY_MS), days };
  for (const { table, time } of ROLLUP_TABLES) {
    const match = time === 'day' ? 'day IN {days:Array(Date)}' : "hour >= {dayFrom:DateTime64(3, 'UTC')} AND hour < {dayTo:DateTime64(3, 'UTC')} AND toDate(hour) IN {days:Array(Date)}";
    await ch.command(`DELETE FROM ${deleteTarget(ch, table)} WHERE tenant_id = {tenant:String} AND ${match} ${SYNC}`, params);
  }
  // Into the view roots only: their views refill the daily, scope, totals, breakdown and actor_days tables.
  await ch.command(`INSERT INTO rollup_hourly ${REBUILD_ROLLUP_HOURLY}`, params);
  await ch.command(`INSERT INTO actors_daily ${REBUILD_ACTORS_DAILY}`, params);
  await ch.command(`INSERT INTO actor_hours ${REBUILD_ACTOR_HOURS}`, params);
}
