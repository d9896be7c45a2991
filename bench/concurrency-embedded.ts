/**
 * Concurrency of dashboard reads in embedded mode (issue 6 budget: 8 concurrent dashboard
 * queries ≥ 1.6× the throughput of the same queries run one after another).
 *
 * In one process, on one engine-generated data dir, it compares:
 *  - before: one chDB connection behind a FIFO lock, native {name:Type} parameters (the store
 *    as it was, rebuilt here so both run in the same process on the same data);
 *  - the store with CLICKHOUSE_EMBEDDED_CONNECTIONS = 1 and 4 (literal-bound reads).
 * For each, 8 planner questions (the largest tenant's dashboard, different windows) run one
 * after another, then all 8 at once; rounds interleave the variants so machine load hits all
 * alike. Throughput ratio = sequential time / concurrent time (medians).
 * Usage: npx tsx bench/concurrency-embedded.ts [--data-dir DIR] [--events 1500000] [--rounds 5] [--passes 3] [--source auto|raw]
 */
import '../src/cli/threadpool.js';
import { createClient } from '@clickhouse/client';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { answer } from '../src/query/execute.js';
import { windowQuestion, type Question } from '../src/query/planner.js';
import { migrateClickHouse } from '../src/stores/clickhouse/migrate.js';
import { createClickHouseStore, type ClickHouseStore } from '../src/stores/clickhouse/store.js';
import { Mutex } from '../src/util/mutex.js';
import { generateInEngine, tenantIdOf } from './engine-datagen.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '/tmp/th-bench-concurrency' },
    events: { type: 'string', default: '1500000' },
    rounds: { type: 'string', default: '5' },
    // Each measurement runs the 8 questions this many times (sequentially, or 8 at a time).
    passes: { type: 'string', default: '3' },
    // 'raw' forces raw-event scans (CPU-bound queries); 'auto' lets the planner pick rollups.
    source: { type: 'string', default: 'auto' },
  },
});
const dir = values['data-dir'];
const events = Number(values.events);
const rounds = Number(values.rounds);
const passes = Number(values.passes);
const opts = { source: values.source as 'auto' | 'raw' };
fs.mkdirSync(dir, { recursive: true });

const store4 = await createClickHouseStore({ mode: 'embedded', path: dir, database: 'default', connections: 4 });
await migrateClickHouse(store4, { retentionDays: 18000, rollupRetentionDays: 18000 });
const have = Number((await store4.query<{ n: string }>('SELECT count() AS n FROM events'))[0]!.n);
if (have < events) {
  const t0 = performance.now();
  await generateInEngine(store4, { events: events - have, tenants: 4, days: 90, nowMs: Date.now(), onProgress: (d) => process.stdout.write(`\rgenerating ${d}`) });
  console.log(`\ngenerated ${events - have} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const store1 = await createClickHouseStore({ mode: 'embedded', path: dir, database: 'default', connections: 1 });

/** The store before the pool: one connection, one FIFO lock, native parameters. */
async function legacyStore(): Promise<ClickHouseStore> {
  const { createChdbConnection } = await import('chdb/connection');
  const client = createClient({ connection: createChdbConnection({ path: dir }) } as Parameters<typeof createClient>[0]);
  const lock = new Mutex();
  await lock.run(() => client.command({ query: 'SET output_format_json_quote_64bit_integers = 1' }));
  const unsupported = () => Promise.reject(new Error('not in this bench'));
  return {
    mode: 'embedded',
    stats: { queries: 0, inserts: 0 },
    query: <T>(sql: string, params?: Record<string, unknown>) =>
      lock.run(async () => (await (await client.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json()) as T[]),
    command: (sql: string, params?: Record<string, unknown>) => lock.run(async () => void (await client.command({ query: sql, query_params: params }))),
    insertRows: unsupported,
    stream: unsupported,
    ping: async () => true,
    close: () => lock.run(() => client.close()),
  };
}
const legacy = await legacyStore();

const tenantId = tenantIdOf(0);
const n30 = (await store4.query<{ n: string }>('SELECT count() AS n FROM events WHERE tenant_id = {t:String} AND ts >= now() - INTERVAL 30 DAY', { t: tenantId }))[0]!.n;
console.log(`largest tenant ${tenantId}: ${n30} events in the last 30 days`);

const HOUR = 3_600_000;
const now = Math.floor(Date.now() / HOUR) * HOUR;
const w = (days: number) => ({ tenantId, fromMs: now - days * 24 * HOUR, toMs: now });
const QUESTIONS: Question[] = [
  windowQuestion(w(30), { metrics: ['cost', 'events', 'requests'] }),
  windowQuestion(w(30), { metrics: ['cost', 'total_tokens'], dimensions: ['model'] }),
  windowQuestion(w(30), { metrics: ['events', 'cost'], granularity: 'day' }),
  windowQuestion(w(7), { metrics: ['requests', 'failures'], dimensions: ['feature'] }),
  windowQuestion(w(7), { metrics: ['latency_p95', 'latency_avg'], dimensions: ['endpoint'] }),
  windowQuestion(w(30), { metrics: ['unique_users'] }),
  windowQuestion(w(90), { metrics: ['cost'], dimensions: ['project'], granularity: 'week' }),
  windowQuestion(w(1), { metrics: ['events', 'success_rate'], dimensions: ['event_type'], granularity: 'hour' }),
];

const variants: [string, ClickHouseStore][] = [
  ['before: 1 connection, native params', legacy],
  ['pool=1, literals', store1],
  ['pool=4, literals', store4],
];

// Warm up (page cache, marks) and check every variant answers the same.
const reference = JSON.stringify(await Promise.all(QUESTIONS.map((q) => answer(legacy, q, opts).then((a) => a.rows))), (_, v) => (typeof v === 'bigint' ? v.toString() : v));
for (const [name, ch] of variants) {
  const got = JSON.stringify(await Promise.all(QUESTIONS.map((q) => answer(ch, q, opts).then((a) => a.rows))), (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  if (got !== reference) throw new Error(`${name}: answers differ from the native-parameter store`);
}
console.log('answers identical across variants');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = new Map(variants.map(([name]) => [name, { seq: [] as number[], conc: [] as number[] }]));
for (let r = 0; r < rounds; r++) {
  for (const [name, ch] of variants) {
    let t0 = performance.now();
    for (let p = 0; p < passes; p++) for (const q of QUESTIONS) await answer(ch, q, opts);
    const seq = performance.now() - t0;
    t0 = performance.now();
    for (let p = 0; p < passes; p++) await Promise.all(QUESTIONS.map((q) => answer(ch, q, opts)));
    const conc = performance.now() - t0;
    results.get(name)!.seq.push(seq);
    results.get(name)!.conc.push(conc);
  }
  process.stdout.write(`\rround ${r + 1}/${rounds}`);
}
console.log(`\nUV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE}, source=${opts.source}, ${QUESTIONS.length} questions × ${passes} passes, median of ${rounds} rounds`);
for (const [name, { seq, conc }] of results) {
  const s = median(seq);
  const c = median(conc);
  const ratios = seq.map((x, i) => (x / conc[i]!).toFixed(2)).join(' ');
  console.log(`${name.padEnd(38)} sequential ${s.toFixed(0).padStart(6)} ms  concurrent ${c.toFixed(0).padStart(6)} ms  throughput ${(s / c).toFixed(2)}×  (per round: ${ratios})`);
}
await Promise.all([legacy.close(), store1.close(), store4.close()]);
