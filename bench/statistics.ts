/**
 * p50/p95 of the seed 000 endpoints over HTTP (statistics/usage and statistics/cost, 30-day
 * window, hour resolution) on a bench dataset, served from the rollups and forced raw
 * (`source=raw`) in the same run, the response cache off so every request reaches ClickHouse.
 * Usage: npx tsx bench/statistics.ts --data-dir DIR [--runs 30]   (DIR from bench/queries.ts)
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { buildServices } from '../src/services.js';
import { tenantIdOf } from './engine-datagen.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, runs: { type: 'string', default: '30' } } });
if (!values['data-dir']) throw new Error('--data-dir: a directory bench/queries.ts generated');
const runs = Number(values.runs);
const services = await buildServices(
  loadConfig({ TALLYHOUSE_DATA_DIR: values['data-dir'], TALLYHOUSE_BOOTSTRAP: 'false', CACHE_ENABLED: 'false', RATE_LIMIT_PER_MINUTE: '0' }),
);
const server = await startServer(services, 0);

// The bench tenants exist only in ClickHouse: give the largest one a Postgres row and a key.
const tenantId = tenantIdOf(0);
await services.pg.pool.query(
  "INSERT INTO tenants (id, name, plan) VALUES (md5($1)::uuid, $1, 'enterprise') ON CONFLICT (name) DO NOTHING",
  [tenantId],
);
const t = (await services.tenants.getTenant(tenantId))!;
// Events were generated under the bench name (no Postgres tenant); copy the largest tenant's
// rows once under the Postgres tenant's id (tenant_id is part of the sort key, so no UPDATE).
const copied = (await services.ch.query<{ n: string }>('SELECT count() AS n FROM events WHERE tenant_id = {id:String}', { id: t.id }))[0]!.n;
if (copied === '0') {
  const t0 = performance.now();
  // The filter sits in a subquery: ClickHouse would resolve tenant_id in an outer WHERE to the
  // REPLACE alias, and copy nothing.
  await services.ch.command(
    'INSERT INTO events SELECT * REPLACE ({id:String} AS tenant_id) FROM (SELECT * FROM events WHERE tenant_id = {name:String})',
    { id: t.id, name: tenantId },
  );
  console.log(`copied ${tenantId} to ${t.id} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const { key } = await services.tenants.createKey({ tenantId: t.id, scopes: ['read'] });

const hour = 3_600_000;
const to = new Date(Math.floor(Date.now() / hour) * hour).toISOString();
const from = new Date(Math.floor(Date.now() / hour) * hour - 30 * 86_400_000).toISOString();
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;
const rows: Record<string, string>[] = [];
for (const topic of ['usage', 'cost']) {
  const row: Record<string, string> = { endpoint: `statistics/${topic} 30d hour` };
  for (const source of ['auto', 'raw']) {
    const times: number[] = [];
    let sources = '';
    for (let i = 0; i < runs + 2; i++) {
      const t0 = performance.now();
      const r = await fetch(`${server.url}/api/v1/analytics/statistics/${topic}?from=${from}&to=${to}&resolution=hour&source=${source}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const j = (await r.json()) as { signals?: { sources: string[] }; series?: unknown[] };
      if (r.status !== 200) throw new Error(JSON.stringify(j));
      if (i >= 2) times.push(performance.now() - t0);
      sources = j.signals?.sources.join('+') ?? '';
    }
    times.sort((a, b) => a - b);
    row[`${source} p50 ms`] = pct(times, 0.5).toFixed(1);
    row[`${source} p95 ms`] = pct(times, 0.95).toFixed(1);
    row[`${source} tables`] = sources;
  }
  rows.push(row);
}
console.table(rows);
fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/statistics.json', JSON.stringify({ at: new Date().toISOString(), rows }, null, 2));
await server.close();
await services.close();
