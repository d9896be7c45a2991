/**
 * THE producer guarantee: a server stopped mid-stream, politely (SIGTERM) and not (SIGKILL),
 * and started again on the same data directory and port, while a producer keeps tracking.
 * Afterwards the engine holds every tracked event exactly once: checked over HTTP, then by
 * opening the data directory itself once the server is gone (chDB: one process per directory),
 * where the reconciliation job must leave the rollups agreeing with raw.
 */
import { afterAll, expect, it } from 'vitest';
import { TallyhouseClient, type TrackEvent } from 'tallyhouse/client';
import { loadConfig } from '../../src/config.js';
import { reconcile } from '../../src/jobs/reconciliation.js';
import { buildServices } from '../../src/services.js';
import { createKeys, freePort, spawnServe, startServe, tempDataDir, type ServeProcess, type SpawnedServe } from './serve-process.js';

const TOTAL = 20_000;
let serve: ServeProcess | undefined;

afterAll(async () => {
  await serve?.stop('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it(`loses and doubles none of ${TOTAL} events across two SIGKILL and a SIGTERM restart`, { timeout: 300_000 }, async () => {
  const dataDir = tempDataDir();
  const port = await freePort();
  serve = await startServe({ dataDir, port });
  const keys = await createKeys(serve.url, serve.bootstrapKey!);
  const project = `restart-${Date.now()}`;

  const client = new TallyhouseClient({
    baseUrl: serve.url,
    apiKey: keys.ingest,
    batchMaxEvents: 250,
    flushIntervalMs: 200,
    maxBufferEvents: 1000,
    requestTimeoutMs: 15_000,
    retry: { baseDelayMs: 50, maxDelayMs: 1000 },
    onError: (f) => console.error('batch failed', f.error),
    onRejected: (r) => console.error('rejected', r),
  });

  // The chaos, beside the producer: once the stream passes each mark and a batch is in flight
  // (sent, not yet answered), signal the server and start it again on the same directory and
  // port while the producer keeps tracking (and soon waits for room).
  // Marks count events the engine confirmed, so each stop lands while the stream is running,
  // however long the previous restart took; small batches keep the stream many round trips long.
  // SIGTERM last: a gracefully stopping server keeps answering on open keep-alive connections
  // until they go idle, so a busy producer can drain the rest of the stream into it.
  const marks = [[3000, 'SIGKILL'], [9000, 'SIGKILL'], [15000, 'SIGTERM']] as const;
  const restarts: { signal: 'SIGTERM' | 'SIGKILL'; atTracked: number; atAccepted: number; inFlight: number; acceptedAtExit: number; exit: unknown }[] = [];
  // The next server is spawned at once and stopped as soon as the stream passes the next mark,
  // whether or not it has printed its listening line yet (it accepts connections a little earlier).
  let current: SpawnedServe = { child: serve.child, stop: serve.stop, ready: Promise.resolve(serve) };
  const chaos = (async () => {
    for (const [mark, signal] of marks) {
      while (client.stats().accepted + client.stats().duplicates < mark) await sleep(1);
      const waitUntil = Date.now() + 5000;
      while (client.stats().inFlightBatches === 0 && Date.now() < waitUntil) await sleep(1);
      const { tracked, accepted, inFlightBatches } = client.stats();
      const exit = await current.stop(signal);
      restarts.push({ signal, atTracked: tracked, atAccepted: accepted, inFlight: inFlightBatches, acceptedAtExit: client.stats().accepted, exit });
      await sleep(300); // refused connections meanwhile: the producer retries
      current = spawnServe({ dataDir, port });
      current.ready.catch(() => {}); // awaited below; handled so an early stop is no unhandled rejection
    }
    serve = await current.ready;
  })();

  const ids = new Set<string>();
  const base = Date.now() - 3_600_000;
  for (let i = 0; i < TOTAL; i++) {
    const event: TrackEvent = { event_type: 'llm.call', project, ts: base + i, model: 'm', input_tokens: 1, cost: '0.000001' };
    ids.add(await client.track(event));
    // A producing application does other work too; this lets the chaos task's timers run.
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  await chaos;
  const result = await client.close();
  const stats = client.stats();
  console.log('restart test:', JSON.stringify({ restarts, result, stats }));

  expect(ids.size).toBe(TOTAL);
  expect(restarts.map((r) => r.exit)).toEqual([
    { code: null, signal: 'SIGKILL' },
    { code: null, signal: 'SIGKILL' },
    { code: 0, signal: null },
  ]);
  // Each stop came mid-stream, with a batch on the wire.
  for (const r of restarts) expect(r.atAccepted).toBeLessThan(TOTAL);
  expect(result).toEqual({ delivered: TOTAL, dropped: 0, rejected: 0, failed: 0 });
  expect(stats.retries).toBeGreaterThan(0);

  // Over HTTP: raw rows (a double would count twice).
  const reader = new TallyhouseClient({ baseUrl: serve.url, apiKey: keys.read });
  const usage = await reader.usageStatistics({ scope: 'project', project, source: 'raw', from: new Date(base - 60_000).toISOString() });
  expect(usage.totals.events).toBe(TOTAL);

  // In the data directory itself, the server gone: every tracked id once, nothing else.
  expect(await serve.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  serve = undefined;
  const services = await buildServices(loadConfig({ TALLYHOUSE_DATA_DIR: dataDir }));
  try {
    const [counts] = await services.ch.query<{ rows: string; ids: string }>(
      'SELECT toString(count()) AS rows, toString(uniqExact(event_id)) AS ids FROM events WHERE project = {p:String}',
      { p: project },
    );
    expect(counts).toEqual({ rows: String(TOTAL), ids: String(TOTAL) });
    const stored = await services.ch.query<{ event_id: string }>('SELECT event_id FROM events WHERE project = {p:String}', { p: project });
    const storedIds = new Set(stored.map((r) => r.event_id));
    expect([...ids].filter((id) => !storedIds.has(id))).toEqual([]);

    // The rollups agree with raw after the reconciliation job: a kill between an insert and its
    // views would show here as a repaired hour, and the totals must match either way.
    const rollupEvents = async () =>
      (await services.ch.query<{ n: string }>('SELECT toString(sum(events)) AS n FROM scope_hourly WHERE project = {p:String}', { p: project }))[0]?.n;
    const before = await rollupEvents();
    const run = await reconcile(services, { from: new Date(base - 3_600_000), to: new Date(Date.now() + 3_600_000) }, { now: new Date(Date.now() + 7_200_000) });
    console.log(`restart test: rollups held ${before} events before reconciliation; it checked ${run.hoursChecked} hours, repaired ${run.hoursRepaired}`);
    expect(await rollupEvents()).toBe(String(TOTAL));
  } finally {
    await services.close();
  }
});
