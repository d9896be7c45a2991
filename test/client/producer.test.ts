/**
 * The producer SDK against the real engine (a `tallyhouse serve` child process), with a fault
 * proxy in front where a test needs an answer the engine would not give on cue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TallyhouseClient, type BatchFailure, type ClientOptions, type RejectedEvent, type TrackEvent } from 'tallyhouse/client';
import { FaultProxy } from './fault-proxy.js';
import { createKeys, freePort, startServe, tempDataDir, type ServeProcess } from './serve-process.js';

let serve: ServeProcess;
let keys: { ingest: string; read: string };
const clients: TallyhouseClient[] = [];
const proxies: FaultProxy[] = [];
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200 };

beforeAll(async () => {
  serve = await startServe({ dataDir: tempDataDir(), port: await freePort() });
  keys = await createKeys(serve.url, serve.bootstrapKey!);
});

afterAll(async () => {
  for (const c of clients) await c.close({ timeoutMs: 1000 }).catch(() => {});
  for (const p of proxies) await p.close();
  await serve?.stop('SIGTERM');
});

async function proxy() {
  const p = await new FaultProxy(serve.url).listen();
  proxies.push(p);
  return p;
}

function client(opts: Partial<ClientOptions> & { baseUrl?: string } = {}) {
  const c = new TallyhouseClient({ baseUrl: serve.url, apiKey: keys.ingest, retry: FAST_RETRY, ...opts });
  clients.push(c);
  return c;
}

let projectCounter = 0;
/** Events of a project of their own, so each test counts only its own rows. */
function events(n: number, extra: Partial<TrackEvent> = {}) {
  const project = `p${++projectCounter}-${Date.now()}`;
  const base = Date.now() - 60_000;
  const list: TrackEvent[] = Array.from({ length: n }, (_, i) => ({
    event_type: 'llm.call',
    project,
    ts: base + i,
    model: 'gpt-4o',
    input_tokens: 10,
    output_tokens: 5,
    cost: '0.001',
    ...extra,
  }));
  return { project, list };
}

/** Raw rows stored for a project (duplicates would count twice), through the SDK's own typed read. */
async function storedCount(project: string): Promise<number> {
  const reader = new TallyhouseClient({ baseUrl: serve.url, apiKey: keys.read });
  const s = await reader.usageStatistics({ scope: 'project', project, source: 'raw' });
  return s.totals.events;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('batching', () => {
  it('sends full batches at batchMaxEvents at once and the remainder when its oldest event is flushIntervalMs old', async () => {
    const p = await proxy();
    // Three in flight at once, so the proxy sees both full batches without waiting on the engine.
    const c = client({ baseUrl: p.url, batchMaxEvents: 100, flushIntervalMs: 400, concurrency: 3 });
    const { project, list } = events(250);
    const trackedAt = Date.now();
    for (const e of list) await c.track(e);
    await sleep(200);
    expect(p.ingests().map((r) => r.lines)).toEqual([100, 100]);
    await sleep(600);
    const batches = p.ingests();
    expect(batches.map((r) => r.lines)).toEqual([100, 100, 50]);
    expect(batches[2]!.at - trackedAt).toBeGreaterThanOrEqual(390);
    await c.flush();
    expect(await storedCount(project)).toBe(250);
  });

  it('cuts batches at batchMaxBytes', async () => {
    const p = await proxy();
    const c = client({ baseUrl: p.url, batchMaxBytes: 4096, flushIntervalMs: 60_000 });
    const { project, list } = events(100, { metadata: { note: 'x'.repeat(200) } });
    for (const e of list) await c.track(e);
    await c.flush();
    const batches = p.ingests();
    expect(batches.length).toBeGreaterThan(5);
    for (const b of batches) expect(b.bytes).toBeLessThanOrEqual(4096);
    expect(batches.reduce((s, b) => s + b.lines, 0)).toBe(100);
    expect(await storedCount(project)).toBe(100);
  });

  it('flush() sends a partial batch at once; close() reports everything delivered', async () => {
    const c = client({ flushIntervalMs: 60_000 });
    const { project, list } = events(7);
    for (const e of list) await c.track(e);
    const t0 = Date.now();
    await c.flush();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await storedCount(project)).toBe(7);
    for (const e of events(3).list) await c.track(e);
    expect(await c.close()).toEqual({ delivered: 10, dropped: 0, rejected: 0, failed: 0 });
    await expect(c.track(list[0]!)).rejects.toThrow(/after close/);
  });
});

describe('event ids', () => {
  it('assigns an event_id at track() time, keeps a producer-given one, and the engine stores exactly those', async () => {
    const c = client();
    const { list } = events(5, { event_type: `ids.${Date.now()}` });
    list[0]!.event_id = 'given-id-1';
    const ids = await Promise.all(list.map((e) => c.track(e)));
    expect(ids[0]).toBe('given-id-1');
    for (const id of ids.slice(1)) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(5);
    expect(list[1]!.event_id).toBeUndefined(); // the caller's object is not modified
    await c.flush();
    const reader = new TallyhouseClient({ baseUrl: serve.url, apiKey: keys.read });
    const page = await reader.events({ event_type: list[0]!.event_type, limit: 100 });
    expect(page.events.map((e) => e.event_id).sort()).toEqual([...ids].sort());
  });
});

describe('refusals are reported, never retried', () => {
  it('per-event rejections in a 202 reach onRejected and the counters; the rest of the batch is stored', async () => {
    const rejected: RejectedEvent[] = [];
    const p = await proxy();
    const c = client({ baseUrl: p.url, onRejected: (r) => rejected.push(...r) });
    const { project, list } = events(10);
    list[3] = { ...list[3]!, input_tokens: -1 };
    list[7] = { ...list[7]!, ts: 'yesterday' };
    for (const e of list) await c.track(e);
    await c.flush();
    expect(p.ingests()).toHaveLength(1);
    expect(rejected.map((r) => [r.event.ts, r.path])).toEqual([
      [list[3]!.ts, 'input_tokens'],
      [list[7]!.ts, 'ts'],
    ]);
    expect(rejected[0]!.code).toBeTruthy();
    expect(c.stats()).toMatchObject({ accepted: 8, rejected: 2, failed: 0, retries: 0 });
    expect(await storedCount(project)).toBe(8);
  });

  it('a whole-batch 400 goes to onError once with its events and is not retried', async () => {
    const failures: BatchFailure[] = [];
    const p = await proxy();
    p.inject({ kind: 'status', status: 400 });
    const c = client({ baseUrl: p.url, onError: (f) => failures.push(f) });
    const { project, list } = events(4);
    for (const e of list) await c.track(e);
    await c.flush();
    await sleep(300);
    expect(p.ingests()).toHaveLength(1);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error).toMatchObject({ status: 400, code: 'INJECTED_400' });
    expect(failures[0]!.events.map((e) => e.ts)).toEqual(list.map((e) => e.ts));
    expect(c.stats()).toMatchObject({ failed: 4, accepted: 0, retries: 0 });
    expect(await c.close()).toMatchObject({ delivered: 0, failed: 4, dropped: 0 });
    expect(await storedCount(project)).toBe(0);
  });

  it("the engine's own 401 (a wrong key) is reported and not retried", async () => {
    const failures: BatchFailure[] = [];
    const p = await proxy();
    const c = client({ baseUrl: p.url, apiKey: 'th_nonsense', onError: (f) => failures.push(f) });
    for (const e of events(2).list) await c.track(e);
    await c.flush();
    expect(p.ingests()).toHaveLength(1);
    expect(failures[0]!.error).toMatchObject({ status: 401 });
    expect(c.stats().failed).toBe(2);
  });
});

describe('retries', () => {
  it('waits at least Retry-After on a 429, then delivers', async () => {
    const p = await proxy();
    p.inject({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const c = client({ baseUrl: p.url });
    const { project, list } = events(20);
    for (const e of list) await c.track(e);
    await c.flush();
    const [first, second] = p.ingests();
    expect(first!.status).toBe(429);
    expect(second!.status).toBe(202);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
    expect(c.stats().retries).toBe(1);
    expect(await storedCount(project)).toBe(20);
  });

  it('retries 5xx and lost connections (before and after the engine stored the batch) and stores each event once', async () => {
    const p = await proxy();
    p.inject({ kind: 'status', status: 503 }, { kind: 'reset-before' }, { kind: 'status', status: 500 }, { kind: 'reset-after' });
    const c = client({ baseUrl: p.url });
    const { project, list } = events(30);
    for (const e of list) await c.track(e);
    await c.flush();
    expect(p.ingests().length).toBe(5);
    // The reset-after attempt was stored; its retry is answered as duplicates.
    expect(c.stats()).toMatchObject({ retries: 4, accepted: 0, duplicates: 30, failed: 0 });
    expect(await storedCount(project)).toBe(30);
  });

  it('splits a batch the engine finds too large (413) and stores every event', async () => {
    const p = await proxy();
    p.inject({ kind: 'status', status: 413 });
    const c = client({ baseUrl: p.url });
    const { project, list } = events(9);
    for (const e of list) await c.track(e);
    await c.flush();
    expect(p.ingests().map((r) => r.lines)).toEqual([9, 5, 4]);
    expect(await storedCount(project)).toBe(9);
  });

  it('gives up after retry.maxAttempts and reports the batch through onError', async () => {
    const failures: BatchFailure[] = [];
    const p = await proxy();
    p.inject(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
    const c = client({ baseUrl: p.url, retry: { ...FAST_RETRY, maxAttempts: 3 }, onError: (f) => failures.push(f) });
    for (const e of events(2).list) await c.track(e);
    await c.flush();
    expect(p.ingests()).toHaveLength(3);
    expect(failures[0]!.error).toMatchObject({ status: 503 });
    expect(c.stats()).toMatchObject({ failed: 2, retries: 2 });
  });
});

describe('bounded memory', () => {
  it('holds track() when the buffer is full and lets it go as batches are answered; nothing dropped', async () => {
    const p = await proxy();
    p.pause();
    const c = client({ baseUrl: p.url, maxBufferEvents: 50, batchMaxEvents: 10, flushIntervalMs: 50 });
    const { project, list } = events(200);
    let resolved = 0;
    const pending = list.map((e) => c.track(e).then(() => resolved++));
    await sleep(300);
    expect(resolved).toBe(50);
    expect(c.stats()).toMatchObject({ bufferedEvents: 50, waiting: 150 });
    p.resume();
    await Promise.all(pending);
    await c.flush();
    expect(await c.close()).toEqual({ delivered: 200, dropped: 0, rejected: 0, failed: 0 });
    expect(await storedCount(project)).toBe(200);
    expect(Math.max(...p.ingests().map((r) => r.lines))).toBeLessThanOrEqual(10);
  });

  it('close({timeoutMs}) against a stalled engine reports what it gave up, and waiting track() calls reject', async () => {
    const p = await proxy();
    p.pause();
    const c = client({ baseUrl: p.url, maxBufferEvents: 20, batchMaxEvents: 10, flushIntervalMs: 50 });
    const outcomes = events(30).list.map((e) => c.track(e).then(() => 'buffered', () => 'rejected'));
    await sleep(200);
    const t0 = Date.now();
    const result = await c.close({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(result).toEqual({ delivered: 0, dropped: 30, rejected: 0, failed: 0 });
    const counts = (await Promise.all(outcomes)).reduce<Record<string, number>>((m, o) => ({ ...m, [o]: (m[o] ?? 0) + 1 }), {});
    expect(counts).toEqual({ buffered: 20, rejected: 10 });
  });
});

describe('typed query helpers', () => {
  it('return the same numbers as the raw HTTP endpoints', async () => {
    const c = client();
    const { project, list } = events(40, { user_id: 'u1', agent_id: 'agent-1' });
    for (const e of list) await c.track(e);
    await c.flush();
    const reader = new TallyhouseClient({ baseUrl: serve.url, apiKey: keys.read });
    const raw = async (path: string) => {
      const res = await fetch(serve.url + path, { headers: { authorization: `Bearer ${keys.read}` } });
      expect(res.status).toBe(200);
      return res.json();
    };
    const usage = await reader.usageStatistics({ scope: 'project', project, resolution: 'hour' });
    expect(usage.totals.events).toBe(40);
    expect(usage.totals.input_tokens).toBe(400);
    expect(usage).toEqual(await raw(`/api/v1/analytics/statistics/usage?scope=project&project=${project}&resolution=hour`));
    const cost = await reader.costStatistics({ scope: 'project', project });
    expect(cost).toEqual(await raw(`/api/v1/analytics/statistics/cost?scope=project&project=${project}`));
    const summary = await reader.usageSummary();
    expect(summary).toEqual(await raw('/api/v1/analytics/usage-summary'));
    const costs = await reader.costs({ group_by: 'project' });
    expect(costs).toEqual(await raw('/api/v1/analytics/costs?group_by=project'));
    const row = (costs.rows as Record<string, unknown>[]).find((r) => r.project === project);
    expect(row).toBeDefined();
  });

  it('a refused query throws TallyhouseApiError with the envelope code', async () => {
    const reader = new TallyhouseClient({ baseUrl: serve.url, apiKey: keys.read });
    await expect(reader.usageStatistics({ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' })).rejects.toMatchObject({
      name: 'TallyhouseApiError',
      status: 400,
      code: 'INVALID_DATE_RANGE',
    });
  });
});
