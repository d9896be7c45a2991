/**
 * The bench phases that need the engine in-process, each run by bench/run.ts as its own child
 * process (chDB allows one process per data directory and one engine per process), never while
 * the server holds the directory. Protocol: `PROGRESS done total note` lines, one `RESULT {json}`.
 *
 *   prepare — tenants and keys in Postgres, the Zipf dataset and the export tenant generated
 *             in-engine, then the engine's own file() load of the ingest section's NDJSON
 *             (validated and priced into rows exactly as the API would), timed: the ingest baseline.
 *   jobs    — budgets for N tenants × 10, then budget detection and reconciliation handlers timed.
 */
import '../../src/cli/threadpool.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createBudget } from '../../src/control/budgets/store.js';
import type { BudgetFields } from '../../src/control/budgets/budget.js';
import { detectBudgets } from '../../src/control/detection/budgets.js';
import { EVENT_COLUMNS, buildEventRows } from '../../src/ingest/event-rows.js';
import { isRejection, validateEvent, type ValidEvent } from '../../src/ingest/validate-event.js';
import { reconcileRecent } from '../../src/jobs/reconciliation.js';
import { buildServices } from '../../src/services.js';
import { EXPORT_STEP_MS, generateExportTenant, generateTenants } from './datagen.js';
import { ingestEvents, type JobsArgs, type JobsResult, type PrepareArgs, type PrepareResult } from './phases.js';

const progress = (done: number, total: number, note = '') => console.log(`PROGRESS ${done} ${total} ${note}`);
const [phase, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs ?? '{}');
const services = await buildServices(loadConfig());

async function prepare(a: PrepareArgs): Promise<PrepareResult> {
  const { tenants, ch } = services;
  const ids: string[] = [];
  for (let i = 0; i < a.tenants; i++) {
    const name = `bench-t-${String(i).padStart(4, '0')}`;
    const t = (await tenants.getTenant(name)) ?? (await tenants.createTenant({ name, plan: 'enterprise' }));
    ids.push(t.id);
    if (i % 50 === 0) progress(i, a.tenants, 'tenants');
  }
  const named = async (name: string) => (await tenants.getTenant(name)) ?? (await tenants.createTenant({ name, plan: 'enterprise' }));
  const ingestT = await named('bench-ingest');
  const exportT = await named('bench-export');
  const fileT = await named('bench-file-baseline');
  const key = async (tenantId: string, scopes: ('read' | 'ingest' | 'admin')[], userId?: string) => (await tenants.createKey({ tenantId, scopes, userId })).key;
  const keys = {
    read: await key(ids[0]!, ['read']),
    admin: await key(ids[0]!, ['admin', 'read']),
    ingest: await key(ingestT.id, ['ingest']),
    usageUser: await key(ingestT.id, ['ingest'], 'bench-user-1'),
    exportRead: await key(exportT.id, ['read']),
  };

  const t0 = performance.now();
  await generateTenants(ch, { events: a.events, tenantIds: ids, days: a.days, nowMs: a.nowMs, onProgress: (d) => progress(d, a.events, 'events') });
  const genS = (performance.now() - t0) / 1000;

  // Export rows end a day before now, whole days back: [startMs, startMs + rows × step).
  const startMs = Math.floor((a.nowMs - a.exportRows * EXPORT_STEP_MS - 86_400_000) / 86_400_000) * 86_400_000;
  const t1 = performance.now();
  await generateExportTenant(ch, exportT.id, a.exportRows, startMs, (d) => progress(d, a.exportRows, 'export-rows'));
  const expS = (performance.now() - t1) / 1000;

  // The file() baseline: the ingest section's NDJSON, validated and priced into the rows the API
  // would insert (outside the timing), then read by the engine itself from /dev/shm with every
  // materialized view firing.
  const events = ingestEvents(a.ingestEvents, a.ingestSeed, a.nowMs);
  const ndjsonMb = events.reduce((s, e) => s + Buffer.byteLength(JSON.stringify(e)) + 1, 0) / 1e6;
  const valid = events
    .map((e, j) => validateEvent(e, j, { nowMs: a.nowMs, maxFutureMs: 7 * 86_400_000, retentionMs: 400 * 86_400_000 }))
    .filter((v): v is ValidEvent => !isRejection(v));
  const rows = buildEventRows({ tenantId: fileT.id, apiKeyId: 'bench' }, valid, services.prices, a.nowMs);
  const file = path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `tallyhouse-bench-${process.pid}.jsonl`);
  fs.writeFileSync(file, rows);
  const types = new Map(
    (await ch.query<{ name: string; type: string }>("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events'")).map((c) => [c.name, c.type]),
  );
  const structure = EVENT_COLUMNS.map((c) => `${c} ${types.get(c)}`).join(', ').replace(/'/g, "\\'");
  const t2 = performance.now();
  await ch.command(`INSERT INTO events (${EVENT_COLUMNS.join(', ')}) SELECT * FROM file('${file}', 'JSONCompactEachRow', '${structure}')`);
  const fileS = (performance.now() - t2) / 1000;
  fs.rmSync(file, { force: true });
  const loaded = Number((await ch.query<{ n: string }>('SELECT count() AS n FROM events WHERE tenant_id = {t:String}', { t: fileT.id }))[0]!.n);
  if (loaded !== valid.length) throw new Error(`file() baseline loaded ${loaded} rows, expected ${valid.length}`);

  const sizes = await ch.query<{ table: string; rows: string }>(
    'SELECT table, sum(rows) AS rows FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY table',
  );
  const [largest] = await ch.query<{ all: string; c30: string; u: string; ag: string }>(
    `SELECT count() AS all, countIf(ts >= now() - INTERVAL 30 DAY) AS c30,
            uniqExactIf(user_id, ts >= now() - INTERVAL 30 DAY) AS u, uniqExactIf(agent_id, ts >= now() - INTERVAL 30 DAY AND agent_id != '') AS ag
     FROM events WHERE tenant_id = {t:String}`,
    { t: ids[0]! },
  );
  return {
    tenantIds: ids,
    keys,
    ingestTenantId: ingestT.id,
    exportTenant: { id: exportT.id, startMs, stepMs: EXPORT_STEP_MS, rows: a.exportRows },
    generate: { events: a.events, seconds: genS, exportRows: a.exportRows, exportSeconds: expS },
    fileBaseline: { events: valid.length, seconds: fileS, ndjsonMb, rowsMb: rows.length / 1e6 },
    tables: Object.fromEntries(sizes.map((s) => [s.table, Number(s.rows)])),
    largestTenant: { events: Number(largest!.all), last30d: Number(largest!.c30), users30d: Number(largest!.u), agents30d: Number(largest!.ag) },
  };
}

// Ten budgets per tenant over every scope type, period and metric; limits such that some
// thresholds fire on the first run (and none again on the second).
const BUDGETS: Omit<BudgetFields, 'thresholds'>[] = [
  { name: 'tenant monthly spend', scopeType: 'tenant', scopeValue: null, period: 'month', metric: 'cost', limit: '25' },
  { name: 'tenant daily requests', scopeType: 'tenant', scopeValue: null, period: 'day', metric: 'requests', limit: '5000' },
  { name: 'tenant weekly tokens', scopeType: 'tenant', scopeValue: null, period: 'week', metric: 'tokens', limit: '50000000' },
  { name: 'gpt-4o monthly', scopeType: 'model', scopeValue: 'gpt-4o', period: 'month', metric: 'cost', limit: '10' },
  { name: 'mini daily tokens', scopeType: 'model', scopeValue: 'gpt-4o-mini', period: 'day', metric: 'tokens', limit: '1000000' },
  { name: 'chat monthly', scopeType: 'feature', scopeValue: 'chat', period: 'month', metric: 'cost', limit: '5' },
  { name: 'web weekly requests', scopeType: 'project', scopeValue: 'web', period: 'week', metric: 'requests', limit: '20000' },
  { name: 'top user monthly', scopeType: 'user', scopeValue: 'user-0', period: 'month', metric: 'cost', limit: '2' },
  { name: 'key-0 daily requests', scopeType: 'api_key', scopeValue: 'key-0', period: 'day', metric: 'requests', limit: '1000' },
  { name: 'search weekly tokens', scopeType: 'feature', scopeValue: 'search', period: 'week', metric: 'tokens', limit: '3000000' },
];

async function jobs(a: JobsArgs): Promise<JobsResult> {
  const pool = services.pg.pool;
  const { rows } = await pool.query<{ id: string }>("SELECT id FROM tenants WHERE name LIKE 'bench-t-%' ORDER BY name LIMIT $1", [a.tenants]);
  const t0 = performance.now();
  let made = 0;
  for (const [i, { id }] of rows.entries()) {
    for (const b of BUDGETS.slice(0, a.budgetsPerTenant)) {
      await createBudget(pool, id, b);
      made++;
    }
    if (i % 20 === 0) progress(i, rows.length, 'tenants with budgets');
  }
  const createS = (performance.now() - t0) / 1000;
  const now = new Date();
  progress(0, 3, 'detection (first run)');
  const t1 = performance.now();
  const first = await detectBudgets(services, now);
  const firstS = (performance.now() - t1) / 1000;
  progress(1, 3, 'detection (steady state)');
  const t2 = performance.now();
  const steady = await detectBudgets(services, new Date(now.getTime() + 1000));
  const steadyS = (performance.now() - t2) / 1000;
  progress(2, 3, 'reconciliation');
  const t3 = performance.now();
  const rec = await reconcileRecent(services, { now: new Date() });
  const recS = (performance.now() - t3) / 1000;
  return {
    tenants: rows.length,
    budgets: made,
    createSeconds: createS,
    detectionFirst: { seconds: firstS, anomalies: first.anomalies, incidentsOpened: first.incidentsOpened, failed: first.failed },
    detectionSteady: { seconds: steadyS, anomalies: steady.anomalies, failed: steady.failed },
    reconciliation: { seconds: recS, tenants: rec.tenants, hoursChecked: rec.hoursChecked, hoursRepaired: rec.hoursRepaired },
  };
}

async function main(): Promise<PrepareResult | JobsResult> {
  if (phase === 'prepare') return prepare(args as PrepareArgs);
  if (phase === 'jobs') return jobs(args as JobsArgs);
  throw new Error(`unknown phase ${phase}`);
}

try {
  const result = await main();
  console.log(`RESULT ${JSON.stringify(result)}`);
} finally {
  await services.close();
}
process.exit(0);
