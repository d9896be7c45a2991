/**
 * Ingest throughput: events/s through POST /api/v1/events (NDJSON, 10k-event batches, embedded
 * mode, real HTTP on loopback) next to the engine's own insert rate for the same rows in the
 * same run (the prepared JSONEachRow rows handed straight to chDB, and the engine reading the
 * same NDJSON with file()). Usage: npx tsx bench/ingest.ts [--events 200000] [--batch 10000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateEvents } from '../src/cli/seed-data.js';
import { loadConfig } from '../src/config.js';
import { EVENT_COLUMNS, buildEventRows } from '../src/ingest/event-rows.js';
import { isRejection, validateEvent, type ValidEvent } from '../src/ingest/validate-event.js';
import { startServer } from '../src/server.js';
import { buildServices } from '../src/services.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '200000' }, batch: { type: 'string', default: '10000' } },
});
const total = Number(values.events);
const batchSize = Number(values.batch);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-bench-'));
const services = await buildServices(loadConfig({ TALLYHOUSE_DATA_DIR: dataDir }));
const server = await startServer(services, 0);
const tenant = await services.tenants.createTenant({ name: 'bench-http' });
const { key } = await services.tenants.createKey({ tenantId: tenant.id, scopes: ['ingest'] });
const nowMs = Date.now();

// The same events for every path: seed-like, unique ids, 30 days.
const events = [...generateEvents(0, total, { events: total, days: 30, tenants: 1, seed: 7, nowMs })];
const batches: string[] = [];
for (let i = 0; i < events.length; i += batchSize) {
  batches.push(events.slice(i, i + batchSize).map((e) => JSON.stringify(e)).join('\n') + '\n');
}
const mb = batches.reduce((s, b) => s + Buffer.byteLength(b), 0) / 1e6;

async function http(): Promise<number> {
  const t0 = performance.now();
  for (const body of batches) {
    const r = await fetch(`${server.url}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    const j = (await r.json()) as { accepted: number };
    if (r.status !== 202 || j.accepted !== body.split('\n').length - 1) throw new Error(`ingest failed: ${r.status} ${JSON.stringify(j).slice(0, 300)}`);
  }
  return (performance.now() - t0) / 1000;
}

/** The rows the ingest path would insert, for another tenant, prepared outside the timing. */
function preparedRows(tenantId: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    const valid = events
      .slice(i, i + batchSize)
      .map((e, j) => validateEvent(e, j, { nowMs, maxFutureMs: 7 * 86_400_000, retentionMs: 400 * 86_400_000 }))
      .filter((v): v is ValidEvent => !isRejection(v));
    out.push(buildEventRows({ tenantId, apiKeyId: 'bench' }, valid, services.prices, nowMs));
  }
  return out;
}

async function engineInsert(): Promise<number> {
  const rows = preparedRows('bench-engine');
  const t0 = performance.now();
  for (const b of rows) await services.ch.insertRows('events', EVENT_COLUMNS, b);
  return (performance.now() - t0) / 1000;
}

/** The same insert into a copy of events with no materialized views: what the rollups cost. */
async function engineInsertNoViews(): Promise<number> {
  await services.ch.command('CREATE TABLE IF NOT EXISTS bench_events_no_views AS events');
  const rows = preparedRows('bench-no-views');
  const t0 = performance.now();
  for (const b of rows) await services.ch.insertRows('bench_events_no_views', EVENT_COLUMNS, b);
  return (performance.now() - t0) / 1000;
}

async function engineFile(): Promise<number> {
  const rows = preparedRows('bench-file');
  const file = path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `tallyhouse-bench-${process.pid}.jsonl`);
  fs.writeFileSync(file, Buffer.concat(rows));
  // file() needs the compact rows' structure: the events columns, in EVENT_COLUMNS order.
  const types = new Map(
    (await services.ch.query<{ name: string; type: string }>("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'events'")).map((c) => [c.name, c.type]),
  );
  const structure = EVENT_COLUMNS.map((c) => `${c} ${types.get(c)}`).join(', ').replace(/'/g, "\\'");
  const t0 = performance.now();
  await services.ch.command(`INSERT INTO events (${EVENT_COLUMNS.join(', ')}) SELECT * FROM file('${file}', 'JSONCompactEachRow', '${structure}')`);
  const s = (performance.now() - t0) / 1000;
  fs.rmSync(file, { force: true });
  return s;
}

const httpS = await http();
const insertS = await engineInsert();
const fileS = await engineFile();
const noViewsS = await engineInsertNoViews();
const count = await services.ch.query<{ t: string; n: string }>('SELECT tenant_id AS t, count() AS n FROM events GROUP BY t ORDER BY t');

const rate = (s: number) => Math.round(total / s);
const table = [
  { path: 'POST /api/v1/events (NDJSON, HTTP)', seconds: httpS, events_per_s: rate(httpS) },
  { path: 'engine: raw insert of the same rows (JSONCompactEachRow)', seconds: insertS, events_per_s: rate(insertS) },
  { path: "engine: INSERT … SELECT FROM file() of the same rows", seconds: fileS, events_per_s: rate(fileS) },
  { path: 'engine: raw insert, same rows, table without the views', seconds: noViewsS, events_per_s: rate(noViewsS) },
];
console.log(`\n${total} events, ${batches.length} batches of ${batchSize}, ${mb.toFixed(1)} MB NDJSON; raw table + 4 materialized views (event_ids, hourly, daily-from-hourly, actors_daily)\n`);
console.table(table.map((r) => ({ ...r, seconds: r.seconds.toFixed(2) })));
console.log(`HTTP / engine insert: ${(httpS ? insertS / httpS : 0).toFixed(2)}   HTTP / engine file(): ${(fileS / httpS).toFixed(2)}`);
console.log('rows per tenant:', count.map((c) => `${c.t}=${c.n}`).join(' '));

fs.mkdirSync('bench/results', { recursive: true });
fs.writeFileSync('bench/results/ingest.json', JSON.stringify({ at: new Date().toISOString(), total, batchSize, mb, table }, null, 2));
await server.close();
await services.close();
fs.rmSync(dataDir, { recursive: true, force: true });
