/**
 * Ingest through the API: POST /api/v1/events with NDJSON bodies, 1k- and 10k-event batches, 1
 * and 4 concurrent producers, each configuration with its own events (fresh event_ids, so none is
 * deduplicated away). Compared with the engine's own file() load of the same generator's NDJSON
 * (bench/suite/engine-phase.ts prepare), same run. And single-event POST /api/v1/usage/events
 * latency. Bodies are built before the clock starts: the figures are the server's.
 */
import { EventProducer } from '../../src/client/index.js';
import type { TrackEvent } from '../../src/client/index.js';
import { fig, round, summarize, type Figure } from './common.js';
import { ingestEvents } from './phases.js';

export interface IngestConfig {
  batch: number;
  producers: number;
}

export const INGEST_CONFIGS: IngestConfig[] = [
  { batch: 1000, producers: 1 },
  { batch: 1000, producers: 4 },
  { batch: 10_000, producers: 1 },
  { batch: 10_000, producers: 4 },
];

export interface IngestRun extends IngestConfig {
  /** fetch: NDJSON bodies built before the clock starts; sdk: EventProducer.track() per event, then close(). */
  via: 'fetch' | 'sdk';
  events: number;
  seconds: number;
  eventsPerS: number;
  mbPerS: number;
}

async function post(url: string, key: string, body: string, expected: number): Promise<void> {
  const r = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' }, body });
  const j = (await r.json()) as { accepted?: number };
  if (r.status !== 202 || j.accepted !== expected) throw new Error(`ingest: ${r.status} ${JSON.stringify(j).slice(0, 300)}`);
}

export async function httpIngest(url: string, key: string, cfg: IngestConfig, events: number, seed: number, nowMs: number, onBatch?: () => void): Promise<IngestRun> {
  const all = ingestEvents(events, seed, nowMs);
  const batches: { body: string; n: number }[] = [];
  for (let i = 0; i < all.length; i += cfg.batch) {
    const slice = all.slice(i, i + cfg.batch);
    batches.push({ body: slice.map((e) => JSON.stringify(e)).join('\n') + '\n', n: slice.length });
  }
  const bytes = batches.reduce((s, b) => s + Buffer.byteLength(b.body), 0);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: cfg.producers }, async () => {
      for (let i = next++; i < batches.length; i = next++) {
        await post(url, key, batches[i]!.body, batches[i]!.n);
        onBatch?.();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { ...cfg, via: 'fetch', events, seconds, eventsPerS: events / seconds, mbPerS: bytes / 1e6 / seconds };
}

/**
 * The producer SDK (src/client): track() every event (it serialises and batches them), close()
 * delivers the rest; batches of `batch` events, `producers` batches in flight at once.
 */
export async function sdkIngest(url: string, key: string, cfg: IngestConfig, events: number, seed: number, nowMs: number, onBatch?: () => void): Promise<IngestRun> {
  const all = ingestEvents(events, seed, nowMs) as TrackEvent[];
  const bytes = all.reduce((s, e) => s + Buffer.byteLength(JSON.stringify(e)) + 1, 0);
  const producer = new EventProducer(url, key, {
    batchMaxEvents: cfg.batch,
    batchMaxBytes: 64 * 2 ** 20,
    flushIntervalMs: 1000,
    maxBufferEvents: cfg.batch * cfg.producers * 2,
    maxBufferBytes: 512 * 2 ** 20,
    concurrency: cfg.producers,
  });
  let lastBatches = 0;
  const t0 = performance.now();
  for (const e of all) {
    await producer.track(e);
    const b = producer.stats().batches;
    if (b !== lastBatches) {
      lastBatches = b;
      onBatch?.();
    }
  }
  const res = await producer.close();
  const seconds = (performance.now() - t0) / 1000;
  if (res.delivered !== events) throw new Error(`sdk ingest: delivered ${res.delivered} of ${events} (${JSON.stringify(res)})`);
  return { ...cfg, via: 'sdk', events, seconds, eventsPerS: events / seconds, mbPerS: bytes / 1e6 / seconds };
}

export function ingestFigures(runs: IngestRun[], baseline: { events: number; seconds: number; ndjsonMb: number }): Figure[] {
  const fileRate = baseline.events / baseline.seconds;
  const figures: Figure[] = [
    fig('ingest', 'ingest.file_baseline.events_per_s', "engine file() load of the same NDJSON (rows pre-built), rollups on", round(fileRate, 0), 'events/s', `${baseline.events} events`),
  ];
  const name = (r: IngestRun) => `${r.via === 'sdk' ? 'SDK' : 'fetch'} ${r.batch / 1000}k batch × ${r.producers}`;
  for (const r of runs) {
    figures.push(fig('ingest', `ingest.${r.via}.${r.batch}x${r.producers}.events_per_s`, `HTTP NDJSON, ${name(r)} in flight`, round(r.eventsPerS, 0), 'events/s', `${round(r.mbPerS, 1)} MB/s, ${r.events} events`));
  }
  // The headline: the SDK's best configuration (the "through the HTTP API via the SDK").
  const pool = runs.some((r) => r.via === 'sdk') ? runs.filter((r) => r.via === 'sdk') : runs;
  const best = pool.reduce((a, b) => (b.eventsPerS > a.eventsPerS ? b : a));
  for (const r of runs) {
    figures.push(
      fig('ingest', r === best ? 'ingest.http_vs_file_ratio' : `ingest.ratio.${r.via}.${r.batch}x${r.producers}`, `${name(r)} ÷ engine file()${r === best ? ' (headline: best SDK config)' : ''}`, round(r.eventsPerS / fileRate, 2), 'ratio'),
    );
  }
  return figures;
}

/** Sequential single-event POSTs (after warm-up): the p50/p95/p99 a one-event producer sees. */
export async function singleEvent(url: string, key: string, runs: number, onRun?: () => void): Promise<Figure[]> {
  const times: number[] = [];
  for (let i = 0; i < runs + 20; i++) {
    const body = JSON.stringify({ event_type: 'dashboard_view', metadata: { page: `p${i % 7}` }, source: 'bench' });
    const t0 = performance.now();
    const r = await fetch(`${url}/api/v1/usage/events`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
    if (r.status !== 202) throw new Error(`usage event: ${r.status}`);
    if (i >= 20) times.push(performance.now() - t0);
    onRun?.();
  }
  const s = summarize(times);
  return [
    fig('single-event', 'single_event.p50_ms', 'POST /api/v1/usage/events p50', round(s.p50, 2), 'ms', `${s.n} sequential requests`),
    fig('single-event', 'single_event.p95_ms', 'POST /api/v1/usage/events p95', round(s.p95, 2), 'ms'),
    fig('single-event', 'single_event.p99_ms', 'POST /api/v1/usage/events p99', round(s.p99, 2), 'ms'),
  ];
}
