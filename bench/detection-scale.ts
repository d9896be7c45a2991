/**
 * Budget detection at scale, batched vs the committed per-budget implementation, same process,
 * same data (the machine is shared: only same-run numbers compare).
 *
 *   npx tsx bench/detection-scale.ts [--tenants 1000] [--events 1000000] [--no-legacy]
 *
 * Sets up N tenants with Zipf-sized generated events (bench/suite/datagen.ts) and the jobs
 * phase's 10 budgets each, on a temp data dir; then times detectBudgets (this tree) and the
 * per-budget detectBudgets of `git show HEAD:src/control/detection/budgets.ts`, each as a first
 * run (anomalies reset before) and a steady run (nothing new), and checks both first runs record
 * the same anomalies.
 */
import '../src/cli/threadpool.js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { engineEnv, REPO } from './suite/common.js';

const { values: opt } = parseArgs({ options: { tenants: { type: 'string', default: '1000' }, events: { type: 'string', default: '1000000' }, 'no-legacy': { type: 'boolean', default: false } } });
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-detection-scale-'));
Object.assign(process.env, engineEnv(dataDir));
for (const k of ['CLICKHOUSE_URL', 'DATABASE_URL', 'REDIS_URL']) delete process.env[k];

const { loadConfig } = await import('../src/config.js');
const { buildServices } = await import('../src/services.js');
const { createBudget } = await import('../src/control/budgets/store.js');
const { detectBudgets } = await import('../src/control/detection/budgets.js');
const { generateTenants } = await import('./suite/datagen.js');
type BudgetFields = import('../src/control/budgets/budget.js').BudgetFields;

// The per-budget implementation as committed, its imports pointed back at src/.
const legacyFile = path.join(REPO, '.tmp', `detection-legacy-${process.pid}.ts`);
let legacy: typeof detectBudgets | null = null;
if (!opt['no-legacy']) {
  const src = execFileSync('git', ['show', 'HEAD:src/control/detection/budgets.ts'], { cwd: REPO, encoding: 'utf8' })
    .replaceAll("'../../", "'../src/")
    .replaceAll("'../budgets/", "'../src/control/budgets/")
    .replaceAll("'../incidents/", "'../src/control/incidents/");
  fs.mkdirSync(path.dirname(legacyFile), { recursive: true });
  fs.writeFileSync(legacyFile, src);
  legacy = ((await import(legacyFile)) as { detectBudgets: typeof detectBudgets }).detectBudgets;
}

// As bench/suite/engine-phase.ts's jobs phase.
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

const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const services = await buildServices(loadConfig());
const pool = services.pg.pool;
try {
  const n = Number(opt.tenants);
  const nowMs = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await services.tenants.createTenant({ name: `ds-${String(i).padStart(4, '0')}`, plan: 'enterprise' })).id);
  log(`${n} tenants; generating ${opt.events} events …`);
  await generateTenants(services.ch, { events: Number(opt.events), tenantIds: ids, days: 62, nowMs });
  for (const id of ids) for (const b of BUDGETS) await createBudget(pool, id, b);
  log(`${n * BUDGETS.length} budgets`);

  const reset = async () => {
    await pool.query('DELETE FROM anomalies');
    await pool.query('DELETE FROM incidents');
  };
  const recorded = async () => (await pool.query<{ k: string }>('SELECT dedup_key AS k FROM anomalies ORDER BY 1')).rows.map((r) => r.k);
  const time = async (label: string, fn: typeof detectBudgets, at: Date) => {
    const t0 = performance.now();
    const s = await fn(services, at);
    const secs = (performance.now() - t0) / 1000;
    log(`${label}: ${secs.toFixed(2)} s  (${s.budgets} budgets, ${s.anomalies} anomalies, ${s.incidentsOpened} incidents opened, ${s.failed} failed)`);
    return secs;
  };
  const now = new Date(nowMs);
  const steadyAt = new Date(nowMs + 1000);
  const out: Record<string, number> = {};
  out.batchedFirst = await time('batched, first run', detectBudgets, now);
  const batchedKeys = await recorded();
  out.batchedSteady = await time('batched, steady run', detectBudgets, steadyAt);
  if (legacy) {
    await reset();
    out.perBudgetFirst = await time('per-budget (HEAD), first run', legacy, now);
    const legacyKeys = await recorded();
    const same = JSON.stringify(legacyKeys) === JSON.stringify(batchedKeys);
    log(`first runs record the same anomalies: ${same} (${batchedKeys.length} vs ${legacyKeys.length})`);
    if (!same) process.exitCode = 1;
    out.perBudgetSteady = await time('per-budget (HEAD), steady run', legacy, steadyAt);
    out.batchedSteady2 = await time('batched, steady run (again)', detectBudgets, steadyAt);
  }
  console.log(`RESULT ${JSON.stringify(out)}`);
} finally {
  await services.close();
  if (legacy) fs.rmSync(legacyFile, { force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
}
