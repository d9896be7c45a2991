/**
 * `npm run bench`: the bench suite of issue 6 against a real server process.
 *
 *   1. prepare (own process): tenants, keys, the Zipf dataset and the export tenant generated
 *      in-engine, the engine's own file() ingest baseline — on a temp data dir;
 *   2. `tallyhouse serve` as a child process on that dir (cache off, no rate limit); after its
 *      startup jobs finish: HTTP ingest, single-event latency, dashboard queries (rollups vs forced
 *      raw), 8-way concurrency, exports (server RSS from /proc), mixed load with autocannon;
 *   3. jobs (own process, server stopped): 1k tenants × 10 budgets, detection and reconciliation.
 * Prints a table, writes bench/results/<time>.json (+ latest.json), marks each figure against
 * bench/budgets.json and exits 1 when any is over.
 *
 *   npm run bench -- --quick                 smoke run (small sizes, ~5 min)
 *   npm run bench                            10M events (default)
 *   npm run bench -- --events 100M           the budgets' stated scale
 *   npm run bench -- --only queries,exports  some sections (prepare always runs unless --data-dir has it)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { bar, fig, REPO, round, runEnginePhase, type Figure } from './suite/common.js';
import { exports } from './suite/exports.js';
import { httpIngest, INGEST_CONFIGS, ingestFigures, sdkIngest, singleEvent, type IngestRun } from './suite/ingest.js';
import { mixedLoad } from './suite/load.js';
import type { JobsArgs, JobsResult, PrepareArgs, PrepareResult } from './suite/phases.js';
import { concurrency, dashboardQueries, dashboardSet, queryRunsPerItem } from './suite/queries.js';
import { applyBudgets, loadBudgets, markdownTable, summaryMarkdown, textTable } from './suite/report.js';
import { startServerProcess, waitForStartupJobs } from './suite/server.js';

const SECTIONS = ['ingest', 'single-event', 'queries', 'concurrency', 'exports', 'load', 'jobs'] as const;
type Section = (typeof SECTIONS)[number];

/** 10M, 100m, 1.5k, 250_000 → a whole number. */
function count(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(v.replace(/_/g, ''));
  if (!m) throw new InvalidArgumentError('a whole number, optionally with k or M (10M)');
  const n = Math.round(Number(m[1]) * ({ k: 1e3, m: 1e6 }[m[2]!.toLowerCase()] ?? 1));
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('a whole number');
  return n;
}
function sections(v: string): Section[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (bad.length || !list.length) throw new InvalidArgumentError(`comma list of ${SECTIONS.join(', ')}`);
  return list as Section[];
}

const program = new Command('bench')
  .description('tallyhouse bench suite: ingest, queries, exports, load and jobs against latency and throughput budgets')
  .option('--events <n>', 'events generated in-engine (10M default; 100M is the budgets\' stated scale)', count)
  .option('--tenants <n>', 'tenants (Zipf sizes)', count)
  .option('--days <n>', 'days of history', count, 90)
  .option('--export-rows <n>', 'rows of the export tenant: the large export (the small one is 1M or a tenth)', count)
  .option('--ingest-events <n>', 'events per HTTP ingest configuration (and the file() baseline)', count)
  .option('--runs <n>', 'runs per dashboard query for the percentiles (≥ 30 for a real run)', count)
  .option('--single-event-runs <n>', 'sequential single-event POSTs', count)
  .option('--load-seconds <n>', 'duration of the autocannon mixed load', count)
  .option('--jobs-tenants <n>', 'tenants with 10 budgets each for the jobs section', count)
  .option('--only <sections>', `comma list of ${SECTIONS.join(', ')}`, sections)
  .option('--quick', 'small sizes for a smoke run')
  .option('--data-dir <dir>', 'reuse (or create) this data dir; prepared state is kept in it')
  .option('--keep', 'keep the temp data dir')
  .parse();

const o = program.opts<{
  events?: number; tenants?: number; days: number; exportRows?: number; ingestEvents?: number; runs?: number; singleEventRuns?: number;
  loadSeconds?: number; jobsTenants?: number; only?: Section[]; quick?: boolean; dataDir?: string; keep?: boolean;
}>();
const q = !!o.quick;
const cfg = {
  events: o.events ?? (q ? 300_000 : 10_000_000),
  tenants: o.tenants ?? (q ? 100 : 1000),
  days: o.days,
  exportRows: o.exportRows ?? (q ? 200_000 : 10_000_000),
  ingestEvents: o.ingestEvents ?? (q ? 10_000 : 100_000),
  runs: o.runs ?? (q ? 10 : 30),
  singleEventRuns: o.singleEventRuns ?? (q ? 200 : 1000),
  loadSeconds: o.loadSeconds ?? (q ? 10 : 60),
  jobsTenants: o.jobsTenants ?? (q ? 100 : 1000),
  only: new Set<Section>(o.only ?? SECTIONS),
};
if (!q && cfg.runs < 30) console.warn(`warning: --runs ${cfg.runs} < 30: p99 over so few runs is the maximum`);
const smallExport = Math.min(1_000_000, Math.max(1, Math.round(cfg.exportRows / 10)));
const run = (s: Section) => cfg.only.has(s);

const dataDir = o.dataDir ? path.resolve(o.dataDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-bench-'));
fs.mkdirSync(dataDir, { recursive: true });
const stateFile = path.join(dataDir, 'bench-state.json');
const startedAt = new Date();
const nowMs = Date.now();
const figures: Figure[] = [];
const log = (m: string) => console.error(m);

/** Runs one section; a failure is reported as a failed figure (over budget) and the suite goes on. */
async function section(name: Section, fn: () => Promise<void>): Promise<void> {
  if (!run(name)) return;
  try {
    await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`\nsection ${name} failed: ${msg}`);
    figures.push({ ...fig(name, `${name}.failed`, `section ${name} failed`, 1, '', msg.split('\n')[0]!.slice(0, 200)) });
  }
}

log(`tallyhouse bench: ${cfg.events.toLocaleString('en')} events, ${cfg.tenants} tenants, ${cfg.days} days; export ${cfg.exportRows.toLocaleString('en')} rows; data dir ${dataDir}`);
log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${round(os.totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}, load avg ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// 1. prepare
let prep: PrepareResult;
if (fs.existsSync(stateFile)) {
  prep = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as PrepareResult;
  log(`reusing the prepared dataset in ${dataDir}`);
} else {
  const b = bar('prepare', cfg.events + cfg.exportRows);
  const args: PrepareArgs = { events: cfg.events, tenants: cfg.tenants, days: cfg.days, exportRows: cfg.exportRows, ingestEvents: cfg.ingestEvents, ingestSeed: 9001, nowMs };
  prep = await runEnginePhase<PrepareResult>('prepare', args, dataDir, (done, _total, note) => {
    if (note === 'events') b.update(done, { extra: 'events' });
    else if (note === 'export-rows') b.update(cfg.events + done, { extra: 'export tenant' });
    else b.update(0, { extra: note });
  });
  b.stop();
  fs.writeFileSync(stateFile, JSON.stringify(prep));
}
const g = prep.generate;
figures.push(
  fig('data', 'data.generate.events_per_s', `in-engine generation (${g.events.toLocaleString('en')} events, ${cfg.tenants} Zipf tenants, all views fed)`, round(g.events / g.seconds, 0), 'events/s', `${round(g.seconds)} s`),
  fig('data', 'data.largest_tenant.events', 'largest tenant: events (all / last 30 d)', prep.largestTenant.events, 'events', `${prep.largestTenant.last30d.toLocaleString('en')} in 30 d; ${prep.largestTenant.users30d} users, ${prep.largestTenant.agents30d} agents`),
  fig('data', 'data.rollup_hourly.rows', 'rows: events / rollup_hourly / rollup_daily', prep.tables.events ?? 0, 'rows', `hourly ${prep.tables.rollup_hourly ?? 0}, daily ${prep.tables.rollup_daily ?? 0}, scope_hourly ${prep.tables.scope_hourly ?? 0}, totals_hourly ${prep.tables.totals_hourly ?? 0}, actor_days ${prep.tables.actor_days ?? 0}`),
);

// 2. the server sections
const httpSections = SECTIONS.filter((s) => s !== 'jobs' && run(s));
if (httpSections.length) {
  log('starting the server (tallyhouse serve) …');
  const server = await startServerProcess(dataDir);
  try {
    log(`server ${server.url} pid ${server.pid}, RSS ${round(server.rssMb(), 0)} MB; waiting for its startup jobs (reconciliation, detection) …`);
    const t0 = performance.now();
    await waitForStartupJobs(server.url, prep.keys.admin);
    log(`startup jobs done in ${round((performance.now() - t0) / 1000)} s`);

    await section('ingest', async () => {
      const runs: IngestRun[] = [];
      for (const via of ['fetch', 'sdk'] as const) {
        for (const [i, c] of INGEST_CONFIGS.entries()) {
          const b = bar(`ingest ${via} ${c.batch}×${c.producers}`, Math.ceil(cfg.ingestEvents / c.batch));
          let n = 0;
          const f = via === 'sdk' ? sdkIngest : httpIngest;
          // Seeds from the clock: a re-run on a kept --data-dir sends new event_ids, not duplicates.
          const seed = (Math.floor(nowMs / 1000) % 1_000_000) * 20 + i + (via === 'sdk' ? 10 : 0);
          runs.push(await f(server.url, prep.keys.ingest, c, cfg.ingestEvents, seed, nowMs, () => b.update(++n)));
          b.stop();
        }
      }
      figures.push(...ingestFigures(runs, prep.fileBaseline));
    });
    await section('single-event', async () => {
      const b = bar('single-event POST', cfg.singleEventRuns + 20);
      let n = 0;
      figures.push(...(await singleEvent(server.url, prep.keys.usageUser, cfg.singleEventRuns, () => b.update(++n))));
      b.stop();
    });
    await section('queries', async () => {
      const b = bar('dashboard queries', queryRunsPerItem(dashboardSet(nowMs), cfg.runs));
      let n = 0;
      figures.push(...(await dashboardQueries(server.url, prep.keys.read, nowMs, cfg.runs, () => b.update(++n))));
      b.stop();
    });
    await section('concurrency', async () => {
      const rounds = q ? 3 : 10;
      const b = bar('8 concurrent vs sequential', rounds * 2);
      let n = 0;
      figures.push(...(await concurrency(server.url, prep.keys.read, nowMs, rounds, () => b.update(++n))));
      b.stop();
    });
    await section('exports', async () => {
      const sizes = [...new Set([smallExport, cfg.exportRows])];
      const b = bar('exports (csv, parquet)', sizes.length * 2);
      let n = 0;
      figures.push(...(await exports(server, prep.keys.exportRead, prep.exportTenant, sizes, () => b.update(++n))));
      b.stop();
    });
    await section('load', async () => {
      log(`mixed load for ${cfg.loadSeconds} s (autocannon) …`);
      figures.push(...(await mixedLoad(server.url, { read: prep.keys.read, ingest: prep.keys.ingest }, nowMs, cfg.loadSeconds)));
    });
    figures.push(fig('server', 'server.rss_end_mb', 'server RSS at the end of the HTTP sections', round(server.rssMb(), 0), 'MB'));
  } finally {
    await server.stop();
  }
}

// 3. jobs
await section('jobs', async () => {
  const b = bar('jobs (budgets, detection, recon.)', cfg.jobsTenants + 3);
  let phase = 0;
  const args: JobsArgs = { tenants: cfg.jobsTenants, budgetsPerTenant: 10 };
  const j = await runEnginePhase<JobsResult>('jobs', args, dataDir, (done, _t, note) => {
    if (note === 'tenants with budgets') b.update(done);
    else b.update(cfg.jobsTenants + phase++, { extra: note });
  });
  b.update(cfg.jobsTenants + 3);
  b.stop();
  figures.push(
    fig('jobs', 'jobs.detection_first_s', `budget detection, ${j.tenants} tenants × 10 budgets (${j.budgets}), first run`, round(j.detectionFirst.seconds, 2), 's', `${j.detectionFirst.anomalies} anomalies, ${j.detectionFirst.incidentsOpened} incidents opened, ${j.detectionFirst.failed} failed`),
    fig('jobs', 'jobs.detection_steady_s', 'budget detection, same budgets, second run (nothing new)', round(j.detectionSteady.seconds, 2), 's', `${j.detectionSteady.anomalies} anomalies, ${j.detectionSteady.failed} failed`),
    fig('jobs', 'jobs.reconciliation_s', 'reconciliation, last 48 h, all tenants', round(j.reconciliation.seconds, 2), 's', `${j.reconciliation.tenants} tenants, ${j.reconciliation.hoursChecked} tenant-hours checked, ${j.reconciliation.hoursRepaired} repaired`),
    fig('jobs', 'jobs.budget_create_s', `creating the ${j.budgets} budgets (PGlite)`, round(j.createSeconds, 1), 's'),
  );
});

// 4. report
const marked = applyBudgets(figures, loadBudgets());
const over = marked.filter((f) => f.status === 'over');
const scale = `${cfg.events.toLocaleString('en')} events / ${cfg.tenants} tenants / largest tenant ${prep.largestTenant.events.toLocaleString('en')}`;
console.log(`\n${textTable(marked)}\n`);
console.log(`scale: ${scale}; budgets are stated for 100M events / largest tenant 10M (the query budgets apply to the largest tenant of this run)`);
console.log(over.length ? `${over.length} figure(s) OVER budget: ${over.map((f) => f.id).join(', ')}` : 'all budgeted figures within budget');
const resultsDir = path.join(REPO, 'bench/results');
fs.mkdirSync(resultsDir, { recursive: true });
const report = {
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version },
  config: cfg.only ? { ...cfg, only: [...cfg.only] } : cfg,
  scale,
  figures: marked,
  markdown: markdownTable(marked),
  summaryMarkdown: summaryMarkdown(marked),
};
const file = path.join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}${q ? '-quick' : ''}.json`);
fs.writeFileSync(file, JSON.stringify(report, null, 2));
fs.writeFileSync(path.join(resultsDir, 'latest.json'), JSON.stringify(report, null, 2));
console.log(`results: ${path.relative(REPO, file)}`);
if (!o.dataDir && !o.keep) fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(over.length ? 1 : 0);
