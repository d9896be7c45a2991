import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';

const body = (over: Record<string, unknown> = {}) => ({
  metrics: ['events', 'requests', 'cost', 'total_tokens'],
  from: '2026-11-10T00:00:00Z',
  to: '2026-11-12T00:00:00Z',
  ...over,
});

describe('POST /api/v1/analytics/query', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine();
    a = await engine.newTenant();
    b = await engine.newTenant();
    const ev = (id: string, ts: string, model: string, input: number, output: number, extra: Record<string, unknown> = {}) => ({
      event_id: id, ts, event_type: 'llm.call', model, input_tokens: input, output_tokens: output, ...extra,
    });
    const r = await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: 'k' }, [
      ev('1', '2026-11-10T01:00:00Z', 'gpt-4o', 1000, 100, { user_id: 'alice', latency_ms: 100 }), // $0.0025 + $0.001
      ev('2', '2026-11-10T23:30:00Z', 'gpt-4o', 2000, 0, { user_id: 'bob', latency_ms: 300 }), // $0.005
      ev('3', '2026-11-11T05:00:00Z', 'gpt-4o-mini', 1000, 1000, { user_id: 'alice', success: false }), // $0.00015 + $0.0006
      ev('4', '2026-11-11T06:00:00Z', 'claude-sonnet-4-20250514', 100, 10, { requests: 3 }), // $0.0003 + $0.00015
    ], Date.parse('2026-11-20T00:00:00Z'));
    expect(r.accepted).toBe(4);
  });
  afterAll(() => engine.close());

  const post = (key: string, b: unknown) => engine.request('POST', '/api/v1/analytics/query', { key, body: b as object });

  it('answers totals exactly', async () => {
    const r = await post(a.read, body({ metrics: ['events', 'requests', 'cost', 'total_tokens', 'unique_users', 'success_rate', 'latency_p50', 'latency_avg'] }));
    expect(r.status).toBe(200);
    const j = (await r.json()) as { rows: Record<string, unknown>[]; sources: string[] };
    expect(j.rows).toEqual([
      { events: 4, requests: 6, cost: '0.0097', total_tokens: 5210, unique_users: 2, success_rate: 0.75, latency_p50: 100, latency_avg: 200 },
    ]);
    expect(j.sources.length).toBeGreaterThan(0);
  });

  it('buckets by local day in a time zone and fills gaps with zeros', async () => {
    const r = await post(a.read, body({ group_by: ['time'], granularity: 'day', tz: 'America/New_York', from: '2026-11-09T05:00:00Z', to: '2026-11-12T05:00:00Z', metrics: ['events'] }));
    const j = (await r.json()) as { rows: Record<string, unknown>[] };
    // 10 Nov 01:00Z is 9 Nov 20:00 in New York.
    expect(j.rows).toEqual([
      { time: '2026-11-09T05:00:00.000Z', events: 1 },
      { time: '2026-11-10T05:00:00.000Z', events: 1 },
      { time: '2026-11-11T05:00:00.000Z', events: 2 },
    ]);
  });

  it('gives the top N by a metric with an "other" row', async () => {
    const r = await post(a.read, body({ group_by: ['model'], metrics: ['cost', 'events'], limit: 1, other: true }));
    const j = (await r.json()) as { rows: Record<string, unknown>[] };
    expect(j.rows).toEqual([
      { model: 'gpt-4o', cost: '0.0085', events: 2 },
      { cost: '0.0012', events: 2, other: true },
    ]);
  });

  it('filters by dimension (in / not_in) the same from any forced source', async () => {
    const q = body({ group_by: ['model'], filters: [{ dimension: 'model', op: 'not_in', values: ['gpt-4o'] }], metrics: ['events', 'cost'] });
    const auto = (await (await post(a.read, q)).json()) as { rows: unknown[] };
    const raw = (await (await post(a.read, { ...q, source: 'raw' })).json()) as { rows: unknown[] };
    expect(auto.rows).toEqual(raw.rows);
    expect(auto.rows).toHaveLength(2);
  });

  it('refuses unknown metrics and dimensions, naming them and listing the valid ones', async () => {
    const m = await post(a.read, body({ metrics: ['revenue'] }));
    expect(m.status).toBe(400);
    const mj = (await m.json()) as { error: { code: string; message: string; details: { valid: string[] } } };
    expect(mj.error.code).toBe('UNKNOWN_METRIC');
    expect(mj.error.message).toContain('"revenue"');
    expect(mj.error.details.valid).toContain('latency_p95');
    const d = await post(a.read, body({ group_by: ['model) UNION ALL SELECT * FROM system.tables --'] }));
    expect(d.status).toBe(400);
    expect(((await d.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_DIMENSION');
  });

  it('binds filter values as data: an injection attempt matches nothing', async () => {
    const r = await post(a.read, body({ filters: [{ dimension: 'model', op: 'eq', values: ["gpt-4o' OR '1'='1"] }] }));
    expect(r.status).toBe(200);
    expect(((await r.json()) as { rows: Record<string, unknown>[] }).rows).toEqual([{ events: 0, requests: 0, cost: '0.00', total_tokens: 0 }]);
  });

  it('answers bad windows, zones and granularities with a 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ from: '2026-11-12T00:00:00Z', to: '2026-11-10T00:00:00Z' }, 'INVALID_DATE_RANGE'],
      [{ from: '2020-01-01T00:00:00Z', to: '2026-11-10T00:00:00Z' }, 'INVALID_DATE_RANGE'],
      [{ tz: 'Mars/Olympus' }, 'INVALID_TIMEZONE'],
      [{ group_by: ['time'] }, 'INVALID_GRANULARITY'],
      [{ group_by: ['time'], granularity: 'minute', from: '2026-01-01T00:00:00Z', to: '2026-11-10T00:00:00Z' }, 'TOO_MANY_BUCKETS'],
      [{ from: 'yesterday' }, 'INVALID_REQUEST'],
      [{ limit: 0 }, 'INVALID_REQUEST'],
      [{ other: true }, 'INVALID_REQUEST'],
      [{ extra: 1 }, 'INVALID_REQUEST'],
      [{ source: 'hourly', from: '2026-11-10T00:30:00Z' }, 'SOURCE_NOT_ELIGIBLE'],
    ];
    for (const [over, code] of cases) {
      const r = await post(a.read, body(over));
      expect(r.status, JSON.stringify(over)).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code, JSON.stringify(over)).toBe(code);
    }
  });

  it("shows another tenant none of the first tenant's data", async () => {
    const r = await post(b.read, body({ group_by: ['model'] }));
    expect(((await r.json()) as { rows: unknown[] }).rows).toEqual([]);
  });

  it('refuses an ingest-only key (403) and no key (401)', async () => {
    expect((await post(a.ingest, body())).status).toBe(403);
    expect((await engine.request('POST', '/api/v1/analytics/query', { body: body() })).status).toBe(401);
  });
});

describe('POST /api/v1/analytics/query: plans and flags', () => {
  it('is 404 when ANALYTICS_ENABLED=false and 403 ANALYTICS_NOT_AVAILABLE for a free tenant', async () => {
    const off = await startTestEngine({ env: { ANALYTICS_ENABLED: 'false' } });
    try {
      const t = await off.newTenant();
      expect((await off.request('POST', '/api/v1/analytics/query', { key: t.read, body: body() })).status).toBe(404);
    } finally {
      await off.close();
    }
    const on = await startTestEngine();
    try {
      const free = await on.newTenant(undefined, 'free');
      const r = await on.request('POST', '/api/v1/analytics/query', { key: free.read, body: body() });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('ANALYTICS_NOT_AVAILABLE');
    } finally {
      await on.close();
    }
  });
});
