/**
 * Streamed export throughput and server memory: GET /api/v1/export/events as CSV and as Parquet
 * over real HTTP (in-process server, embedded engine), for windows of 1M and N rows of one
 * tenant. The client consumes the stream counting rows and bytes (CSV: newlines; Parquet: written
 * to a temp file as it arrives, counted by the engine afterwards). Reported per export: rows/s,
 * MB/s, the process's RSS sampled every 100 ms (peak, and growth over the RSS before the export)
 * and the worst latency of a small bound query sent to the store every 250 ms meanwhile (is the
 * engine free for other work while an export runs?).
 *
 * The rows are SYNTHETIC, generated inside the engine (INSERT … SELECT FROM numbers()) with
 * realistic columns, not ingested through the API: this bench is about exports.
 *
 * Each export runs in a fresh server process (this script with --measure), so one export's
 * allocations do not count in the next one's baseline; the seeding process has exited by then.
 *
 * Usage: npx tsx bench/export.ts [--rows 10000000] [--small 1000000] [--data-dir DIR]
 * With --data-dir an existing dataset is reused (seeded on first use).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { buildServices } from '../src/services.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    small: { type: 'string', default: '1000000' },
    'data-dir': { type: 'string' },
    measure: { type: 'string' }, // internal: "<format>:<rows>", one export in this process
  },
});
const rows = Number(values.rows);
const sizes = [...new Set([Math.min(Number(values.small), rows), rows])];
const dataDir = values['data-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-bench-export-'));
const services = await buildServices(loadConfig({ TALLYHOUSE_DATA_DIR: dataDir, TALLYHOUSE_BOOTSTRAP: 'false', RATE_LIMIT_PER_MINUTE: '0' }));
const ch = services.ch;

const TENANT_NAME = 'bench-export';
const tenant = (await services.tenants.getTenant(TENANT_NAME)) ?? (await services.tenants.createTenant({ name: TENANT_NAME, plan: 'pro' }));
const { key } = await services.tenants.createKey({ tenantId: tenant.id, scopes: ['read'] });

// One tenant, one row every STEP_MS from START: a window of k rows is [START, START + k × STEP_MS).
const STEP_MS = 200;
const [seeded] = await ch.query<{ n: string; start: string }>(
  'SELECT count() AS n, toString(toUnixTimestamp64Milli(min(ts))) AS start FROM events WHERE tenant_id = {t:String}',
  { t: tenant.id },
);
const have = Number(seeded!.n);
const START = have ? Number(seeded!.start) : Math.floor((Date.now() - (rows * STEP_MS + 86_400_000)) / 86_400_000) * 86_400_000;
if (have < rows) {
  const t0 = performance.now();
  const chunk = 1_000_000;
  for (let from = have; from < rows; from += chunk) {
    const n = Math.min(chunk, rows - from);
    await ch.command(
      `INSERT INTO events (tenant_id, event_id, ts, ingested_at, event_type, project, environment, user_id, agent_id, api_key_id, feature,
                           model, provider, endpoint, run_id, policy_id, source, success, status, requests, input_tokens, output_tokens,
                           compute_units, latency_ms, cost_nano, cost_unpriced, metadata)
       SELECT {tenant:String}, concat('bench-', toString(number)), fromUnixTimestamp64Milli(toInt64({start:Int64} + number * {step:Int64}), 'UTC'),
              fromUnixTimestamp64Milli(toInt64({start:Int64} + number * {step:Int64} + 150), 'UTC'),
              ['llm.call', 'llm.call', 'api.call', 'workflow.run', 'token.issued'][number % 5 + 1],
              ['web', 'mobile', 'platform'][cityHash64(number, 1) % 3 + 1], ['production', 'staging'][cityHash64(number, 2) % 2 + 1],
              concat('user-', toString(cityHash64(number, 3) % 5000)), if(number % 3 = 0, concat('agent-', toString(number % 40)), ''),
              concat('key-', toString(number % 8)), ['chat', 'search', 'summarize', 'code-review'][cityHash64(number, 4) % 4 + 1],
              if(number % 5 < 2, ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-20250514'][cityHash64(number, 5) % 3 + 1], '') AS m,
              multiIf(startsWith(m, 'gpt'), 'openai', startsWith(m, 'claude'), 'anthropic', ''),
              if(m = '', ['/v1/chat', '/v1/search', '/v1/agents/run'][cityHash64(number, 6) % 3 + 1], ''),
              concat('run-', toString(intDiv(number, 7))), if(number % 11 = 0, 'policy-7', ''), 'bench',
              cityHash64(number, 7) % 40 != 0 AS ok, if(ok, '200', '500'), 1,
              if(m != '', 50 + cityHash64(number, 8) % 4000, 0) AS inp, if(m != '', 20 + cityHash64(number, 9) % 1200, 0) AS outp,
              if(number % 5 = 3, 1 + cityHash64(number, 10) % 20, 0), toUInt32(20 + cityHash64(number, 11) % 4000),
              toInt64(if(m != '', inp * 2500 + outp * 10000, cityHash64(number, 12) % 1000000)), 0,
              map('region', ['eu-west-1', 'us-east-1', 'ap-south-1'][number % 3 + 1], 'trace_id', hex(cityHash64(number, 13)))
       FROM numbers({from:UInt64}, {n:UInt64})`,
      { tenant: tenant.id, start: START, step: STEP_MS, from, n },
    );
    process.stdout.write(`\rseeded ${from + n}/${rows} synthetic rows (engine-side)`);
  }
  console.log(` in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const server = values.measure ? await startServer(services, 0) : { url: '', close: async () => {} };

interface Result {
  format: string;
  rows: number;
  mb: number;
  seconds: number;
  rows_per_s: number;
  mb_per_s: number;
  rss_before_mb: number;
  rss_peak_mb: number;
  rss_growth_mb: number;
  /** RSS at a quarter, half and three quarters of the export's duration: flat or climbing? */
  rss_at_25_50_75_pct_mb: number[];
  other_query_worst_ms: number;
}

const mb = (bytes: number) => Math.round((bytes / 1e6) * 10) / 10;

async function exportOnce(format: 'csv' | 'parquet', n: number): Promise<Result> {
  global.gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const samples: [number, number][] = [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    samples.push([performance.now(), rss]);
  }, 100);
  let worst = 0;
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t = performance.now();
      await ch.query('SELECT count() AS n FROM events WHERE tenant_id = {t:String} AND ts < {to:DateTime64(3)}', { t: tenant.id, to: '2000-01-01 00:00:00' });
      worst = Math.max(worst, performance.now() - t);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const q = new URLSearchParams({ from: new Date(START).toISOString(), to: new Date(START + n * STEP_MS).toISOString(), format });
  const file = format === 'parquet' ? path.join(dataDir, `bench-${crypto.randomUUID()}.parquet`) : undefined;
  const out = file ? fs.openSync(file, 'w') : undefined;
  const t0 = performance.now();
  const r = await fetch(`${server.url}/api/v1/export/events?${q}`, { headers: { authorization: `Bearer ${key}` } });
  if (r.status !== 200) throw new Error(`export failed: ${r.status} ${await r.text()}`);
  let bytes = 0;
  let newlines = 0;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (out !== undefined) fs.writeSync(out, chunk);
    else for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const rssAt = (f: number) => mb((samples.find(([t]) => t >= t0 + f * seconds * 1000) ?? samples.at(-1) ?? [0, rssBefore])[1]);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  probing = false;
  await probe;

  let got = newlines - 1; // CSV: a header, then one line per row (no newline inside these values)
  if (file) {
    fs.closeSync(out!);
    got = Number((await ch.query<{ n: string }>('SELECT count() AS n FROM file({f:String}, Parquet)', { f: file }))[0]!.n);
    fs.rmSync(file);
  }
  if (got !== n) throw new Error(`${format}: expected ${n} rows, got ${got}`);
  return {
    format,
    rows: n,
    mb: mb(bytes),
    seconds: Math.round(seconds * 100) / 100,
    rows_per_s: Math.round(n / seconds),
    mb_per_s: Math.round((bytes / 1e6 / seconds) * 10) / 10,
    rss_before_mb: mb(rssBefore),
    rss_peak_mb: mb(peak),
    rss_growth_mb: mb(peak - rssBefore),
    rss_at_25_50_75_pct_mb: [rssAt(0.25), rssAt(0.5), rssAt(0.75)],
    other_query_worst_ms: Math.round(worst),
  };
}

if (values.measure) {
  const [format, n] = values.measure.split(':') as ['csv' | 'parquet', string];
  console.log(`RESULT ${JSON.stringify(await exportOnce(format, Number(n)))}`);
  await server.close();
  await services.close();
  process.exit(0);
}

await server.close();
await services.close();
const results: Result[] = [];
for (const n of sizes) {
  for (const format of ['csv', 'parquet'] as const) {
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!, '--rows', String(rows), '--data-dir', dataDir, '--measure', `${format}:${n}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    });
    const res = JSON.parse(out.split('\n').find((l) => l.startsWith('RESULT '))!.slice('RESULT '.length)) as Result;
    results.push(res);
    console.log(`${format} ${n} rows: ${res.rows_per_s} rows/s, peak RSS ${res.rss_peak_mb} MB (+${res.rss_growth_mb} MB over ${res.rss_before_mb} MB)`);
  }
}
console.log(`\none tenant, ${rows} synthetic rows; each export in a fresh server process (client in the same process); Node ${process.version}, ${os.cpus().length} cores\n`);
console.table(results);

fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/export.json', JSON.stringify({ at: new Date().toISOString(), rows, results }, null, 2));
if (!values['data-dir']) fs.rmSync(dataDir, { recursive: true, force: true });
