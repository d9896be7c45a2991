/**
 * Dashboard query latency on a large dataset: p50/p95/p99 over N runs of each question, answered
 * by the planner from the rollups (auto) and forced raw, in the same run.
 * Usage: npx tsx bench/queries.ts [--events 10000000] [--tenants 20] [--runs 30] [--data-dir DIR]
 * With --data-dir an existing bench dataset is reused (generated on first use).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { answer } from '../src/query/execute.js';
import type { Question } from '../src/query/planner.js';
import { buildServices } from '../src/services.js';
import { generateInEngine, tenantIdOf } from './engine-datagen.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    tenants: { type: 'string', default: '20' },
    runs: { type: 'string', default: '30' },
    'data-dir': { type: 'string' },
  },
});
const events = Number(values.events);
const runs = Number(values.runs);
const dataDir = values['data-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-bench-q-'));
const services = await buildServices(loadConfig({ TALLYHOUSE_DATA_DIR: dataDir, TALLYHOUSE_BOOTSTRAP: 'false' }));
const nowMs = Date.now();

const n = (await services.ch.query<{ n: string }>('SELECT count() AS n FROM events'))[0]!.n;
if (Number(n) < events) {
  const t0 = performance.now();
  await generateInEngine(services.ch, {
    events,
    tenants: Number(values.tenants),
    days: 90,
    nowMs,
    onProgress: (d) => process.stdout.write(`\rgenerating ${d}/${events}`),
  });
  console.log(`\ngenerated ${events} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const sizes = await services.ch.query<{ table: string; rows: string }>(
  "SELECT table, sum(rows) AS rows FROM system.parts WHERE active AND database = currentDatabase() AND table IN ('events','rollup_hourly','rollup_daily','actors_daily') GROUP BY table ORDER BY table",
);
const largest = tenantIdOf(0);
const c = (await services.ch.query<{ c: string }>(
  'SELECT count() AS c FROM events WHERE tenant_id = {t:String} AND ts >= now() - INTERVAL 30 DAY',
  { t: largest },
))[0]!.c;
console.log('table rows:', sizes.map((s) => `${s.table}=${s.rows}`).join(' '), `| largest tenant, last 30 days: ${c} events`);

const hour = 3_600_000;
const to = Math.floor(nowMs / hour) * hour;
const base = (days: number): Omit<Question, 'metrics'> => ({
  tenantId: largest,
  dimensions: [],
  tz: 'UTC',
  fromMs: to - days * 86_400_000,
  toMs: to,
  filters: [],
  metadata: [],
});
const questions: Record<string, Question> = {
  'usage 30d hourly series': { ...base(30), metrics: ['requests', 'compute_units', 'total_tokens'], granularity: 'hour' },
  'usage 30d totals + uniques + p95': { ...base(30), metrics: ['requests', 'compute_units', 'total_tokens', 'unique_users', 'unique_agents', 'latency_p95'] },
  'cost 30d hourly series': { ...base(30), metrics: ['cost', 'requests', 'input_tokens', 'output_tokens'], granularity: 'hour' },
  'cost 30d by model': { ...base(30), metrics: ['cost', 'requests'], dimensions: ['model'] },
  'cost 30d by user (top 20)': { ...base(30), metrics: ['cost', 'requests'], dimensions: ['user_id'] },
  'usage 90d daily series': { ...base(90), metrics: ['requests', 'total_tokens', 'cost'], granularity: 'day' },
};

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;
const rows: Record<string, string | number>[] = [];
for (const [name, q] of Object.entries(questions)) {
  const result: Record<string, string | number> = { question: name };
  for (const source of ['auto', 'raw'] as const) {
    const times: number[] = [];
    let sources = '';
    for (let i = 0; i < runs + 2; i++) {
      const t0 = performance.now();
      const a = await answer(services.ch, q, { source, limit: name.includes('top 20') ? 20 : undefined });
      if (i >= 2) times.push(performance.now() - t0); // two warm-up runs
      sources = a.sources.join('+');
    }
    times.sort((x, y) => x - y);
    result[`${source} p50`] = pct(times, 0.5).toFixed(1);
    result[`${source} p95`] = pct(times, 0.95).toFixed(1);
    if (source === 'auto') result.tables = sources;
  }
  result['raw/auto p95'] = (Number(result['raw p95']) / Number(result['auto p95'])).toFixed(2);
  rows.push(result);
}
console.table(rows);
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/queries.json', JSON.stringify({ at: new Date().toISOString(), events, sizes, largestTenant30d: c, rows }, null, 2));
await services.close();
if (!values['data-dir']) fs.rmSync(dataDir, { recursive: true, force: true });
