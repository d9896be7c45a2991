/**
 * Per-statement profile of the dashboard statistics endpoints: every SQL statement each request
 * runs (they run one after another on chDB's single connection), its time and the rows/bytes it
 * read, plus the request's wall time. On an engine-generated dataset (bench/engine-datagen.ts).
 * Usage: npx tsx bench/profile-statistics.ts --data-dir DIR [--events 4000000] [--tenants 4] [--runs 10]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { buildServices } from '../src/services.js';
import { generateInEngine, tenantIdOf } from './engine-datagen.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    events: { type: 'string', default: '4000000' },
    tenants: { type: 'string', default: '4' },
    runs: { type: 'string', default: '10' },
    'gen-only': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
if (!values['data-dir']) throw new Error('--data-dir DIR (generated on first use)');
const runs = Number(values.runs);
const services = await buildServices(
  loadConfig({ TALLYHOUSE_DATA_DIR: values['data-dir'], TALLYHOUSE_BOOTSTRAP: 'false', CACHE_ENABLED: 'false', RATE_LIMIT_PER_MINUTE: '0' }),
);
const ch = services.ch;
const events = Number(values.events);
const have = Number((await ch.query<{ n: string }>('SELECT count() AS n FROM events'))[0]!.n);
if (have < events) {
  const t0 = performance.now();
  await generateInEngine(ch, { events, tenants: Number(values.tenants), days: 90, nowMs: Date.now(), onProgress: (d) => process.stdout.write(`\rgenerating ${d}/${events}`) });
  console.log(`\ngenerated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const sizes = await ch.query<{ table: string; rows: string }>(
  'SELECT table, sum(rows) AS rows FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY table',
);
console.log('table rows:', sizes.map((s) => `${s.table}=${s.rows}`).join(' '));
if (values['gen-only']) {
  await services.close();
  process.exit(0);
}

const tenantId = tenantIdOf(0);
await services.pg.pool.query("INSERT INTO tenants (id, name, plan) VALUES (md5($1)::uuid, $1, 'enterprise') ON CONFLICT (name) DO NOTHING", [tenantId]);
const t = (await services.tenants.getTenant(tenantId))!;
const copied = (await ch.query<{ n: string }>('SELECT count() AS n FROM events WHERE tenant_id = {id:String}', { id: t.id }))[0]!.n;
if (copied === '0') {
  await ch.command('INSERT INTO events SELECT * REPLACE ({id:String} AS tenant_id) FROM (SELECT * FROM events WHERE tenant_id = {name:String})', { id: t.id, name: tenantId });
}
const n30 = (await ch.query<{ n: string }>('SELECT count() AS n FROM events WHERE tenant_id = {id:String} AND ts >= now() - INTERVAL 30 DAY', { id: t.id }))[0]!.n;
console.log(`largest tenant: ${n30} events in the last 30 days`);
const { key } = await services.tenants.createKey({ tenantId: t.id, scopes: ['read'] });

// Log every statement: time inside the (serial) store call.
interface Logged {
  sql: string;
  params?: Record<string, unknown>;
  ms: number;
}
let log: Logged[] | null = null;
const origQuery = ch.query.bind(ch);
(ch as { query: typeof ch.query }).query = async <T,>(sql: string, params?: Record<string, unknown>): Promise<T[]> => {
  const t0 = performance.now();
  const r = await origQuery<T>(sql, params);
  log?.push({ sql, params, ms: performance.now() - t0 });
  return r;
};
// Rows read: re-run the statement with FORMAT JSON, whose statistics carry rows_read/bytes_read.
const client = (ch as unknown as { client: { query: (o: object) => Promise<{ json: () => Promise<{ statistics?: { rows_read: number; bytes_read: number } }> }> } }).client;
// The logged time includes waiting for the connection (statements of one request queue behind
// each other), so each statement is also timed alone: median of 5 isolated runs.
async function readStats(l: Logged) {
  const rs = await client.query({ query: l.sql, query_params: l.params, format: 'JSON' });
  const stats = (await rs.json()).statistics;
  const xs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await origQuery(l.sql, l.params);
    xs.push(performance.now() - t0);
  }
  xs.sort((a, b) => a - b);
  return { ...stats, alone: xs[2]! };
}

const server = await startServer(services, 0);
const hour = 3_600_000;
const toH = Math.floor(Date.now() / hour) * hour;
const to = new Date(toH).toISOString();
const from = new Date(toH - 30 * 86_400_000).toISOString();
const endpoints: Record<string, string> = {
  usage: `/api/v1/analytics/statistics/usage?from=${from}&to=${to}&resolution=hour`,
  cost: `/api/v1/analytics/statistics/cost?from=${from}&to=${to}&resolution=hour`,
  summary: `/api/v1/analytics/usage-summary`,
};
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;
const out: Record<string, unknown> = {};
for (const [name, url] of Object.entries(endpoints)) {
  if (values.only && !values.only.split(',').includes(name)) continue;
  const times: number[] = [];
  const perStmt: number[][] = [];
  let last: Logged[] = [];
  for (let i = 0; i < runs + 2; i++) {
    log = [];
    const t0 = performance.now();
    const r = await fetch(server.url + url, { headers: { authorization: `Bearer ${key}` } });
    const body = await r.text();
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${name}: ${r.status} ${body}`);
    if (i >= 2) {
      times.push(ms);
      log.forEach((l, j) => (perStmt[j] ??= []).push(l.ms));
    }
    last = log;
    log = null;
  }
  times.sort((a, b) => a - b);
  console.log(`\n== ${name}: ${last.length} statements; request p50 ${pct(times, 0.5).toFixed(1)} ms p95 ${pct(times, 0.95).toFixed(1)} ms`);
  const stmts = [];
  for (const [j, l] of last.entries()) {
    const s = await readStats(l);
    const xs = (perStmt[j] ?? []).sort((a, b) => a - b);
    const row = { p50: +pct(xs, 0.5).toFixed(1), alone: +(s?.alone ?? 0).toFixed(1), rows_read: s?.rows_read, mb_read: s?.bytes_read !== undefined ? +(s.bytes_read / 1e6).toFixed(1) : undefined, sql: l.sql.replace(/\s+/g, ' ') };
    stmts.push(row);
    console.log(`  [${j}] in-request ${row.p50} ms, alone ${row.alone} ms, ${row.rows_read} rows, ${row.mb_read} MB :: ${row.sql.slice(0, Number(process.env.SQL_CHARS ?? 300))}`);
  }
  out[name] = { p50: pct(times, 0.5), p95: pct(times, 0.95), statements: stmts };
}
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync(`bench/results/profile-statistics-${Date.now()}.json`, JSON.stringify({ at: new Date().toISOString(), sizes, n30, out }, null, 2));
await server.close();
await services.close();
