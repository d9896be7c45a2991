import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dimension, Granularity, Metric } from '../../src/query/catalog.js';
import { answer } from '../../src/query/execute.js';
import { PlanError, plan, type Question } from '../../src/query/planner.js';
import { bucketStarts } from '../../src/query/time-buckets.js';
import { startTestEngine, type TestEngine } from '../helpers/engine.js';

// Data around the 2026 DST changes (Europe: 29 Mar, 25 Oct; US: 8 Mar, 1 Nov; Lord Howe:
// half-hour DST) so day/week/month buckets in those zones cross 23- and 25-hour days.
const SPANS = [
  [Date.parse('2026-03-26T00:00:00Z'), Date.parse('2026-04-03T00:00:00Z')],
  [Date.parse('2026-10-22T00:00:00Z'), Date.parse('2026-11-04T00:00:00Z')],
] as const;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Asia/Kathmandu'];
const MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-x', 'unpriced-model', ''];
const FEATURES = ['chat', 'search', ''];
const TYPES = ['llm.call', 'api.call', 'token.issued'];
const USERS = ['u1', 'u2', 'u3', 'u4', ''];
const AGENTS = ['a1', 'a2', ''];

function dataset(seed: number, n: number) {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const [a, b] = SPANS[i % 2]!;
    const e: Record<string, unknown> = {
      event_id: `p-${i}`,
      ts: new Date(a + Math.floor(r() * (b - a))).toISOString(),
      event_type: pick(TYPES),
      model: pick(MODELS),
      feature: pick(FEATURES),
      project: pick(['web', 'api']),
      environment: pick(['prod', 'dev']),
      user_id: pick(USERS),
      agent_id: pick(AGENTS),
      endpoint: pick(['/a', '/b']),
      success: r() > 0.2,
      status: pick(['200', '500']),
      input_tokens: Math.floor(r() * 2000),
      output_tokens: Math.floor(r() * 500),
      compute_units: Math.floor(r() * 5),
      requests: 1 + Math.floor(r() * 3),
    };
    if (r() > 0.1) e.latency_ms = Math.floor(r() * 3000);
    for (const k of Object.keys(e)) if (e[k] === '') delete e[k];
    return e;
  });
}

const METRIC_POOL: Metric[] = [
  'events', 'requests', 'input_tokens', 'output_tokens', 'total_tokens', 'compute_units', 'cost', 'cost_unpriced',
  'failures', 'success_rate', 'latency_avg', 'latency_p50', 'latency_p95', 'latency_p99', 'cost_per_request',
  'unique_users', 'unique_agents',
];
const DIM_POOL: Dimension[] = ['event_type', 'model', 'feature', 'project', 'environment', 'success', 'status', 'endpoint', 'user_id', 'agent_id'];
const GRANS: (Granularity | undefined)[] = [undefined, 'hour', 'day', 'week', 'month'];

describe('planner: the same answer from every eligible source', () => {
  let engine: TestEngine;
  let tenantId: string;
  beforeAll(async () => {
    engine = await startTestEngine();
    tenantId = (await engine.newTenant()).id;
    const events = dataset(42, 6000);
    // Today is inside retention for these dates only if they are within 400 days: they are.
    const r = await engine.services.ingest.ingest({ tenantId, apiKeyId: 'k' }, events, Date.parse('2026-11-20T00:00:00Z'));
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toBe(6000);
  });
  afterAll(() => engine.close());

  const question = fc
    .record({
      metrics: fc.subarray(METRIC_POOL, { minLength: 1, maxLength: 6 }),
      dims: fc.subarray(DIM_POOL, { minLength: 0, maxLength: 2 }),
      gran: fc.constantFrom(...GRANS),
      tz: fc.constantFrom(...ZONES),
      span: fc.constantFrom(0, 1),
      // window edges: whole days, whole hours or arbitrary minutes, to hit every planner split
      startOffsetMin: fc.integer({ min: 0, max: 3 * 24 * 60 }),
      lengthMin: fc.integer({ min: 30, max: 9 * 24 * 60 }),
      align: fc.constantFrom(86_400_000, 3_600_000, 60_000),
      filter: fc.option(fc.record({ dim: fc.constantFrom<Dimension>('model', 'feature', 'event_type', 'user_id', 'success'), op: fc.constantFrom('eq', 'in', 'not_in') as fc.Arbitrary<'eq' | 'in' | 'not_in'> }), { nil: undefined }),
    })
    .map((x): Question => {
      const [a] = SPANS[x.span]!;
      const from = Math.floor((a + x.startOffsetMin * 60_000) / x.align) * x.align;
      const to = Math.max(from + x.align, Math.floor((from + x.lengthMin * 60_000) / x.align) * x.align);
      const values = x.filter?.dim === 'success' ? ['true'] : x.filter?.dim === 'model' ? ['gpt-4o', 'unpriced-model'] : x.filter?.dim === 'user_id' ? ['u1', 'u2'] : x.filter?.dim === 'feature' ? ['chat'] : ['llm.call'];
      return {
        tenantId,
        metrics: x.metrics,
        dimensions: x.dims,
        granularity: x.gran,
        tz: x.tz,
        fromMs: from,
        toMs: to,
        filters: x.filter ? [{ dimension: x.filter.dim, op: x.filter.op, values: x.filter.op === 'eq' ? values.slice(0, 1) : values }] : [],
        metadata: [],
      };
    });

  it('auto and every forced rollup (hourly, daily, scope_*, totals_*, breakdown_*, actors_daily, actor_days) equal the raw answer exactly', async () => {
    let compared = 0;
    const used = new Set<string>();
    await fc.assert(
      fc.asyncProperty(question, async (q) => {
        const raw = await answer(engine.services.ch, { ...q, tenantId }, { source: 'raw' });
        const auto = await answer(engine.services.ch, { ...q, tenantId });
        auto.sources.forEach((s) => used.add(s));
        expect(auto.rows).toEqual(raw.rows);
        for (const source of ['hourly', 'daily', 'scope_hourly', 'scope_daily', 'totals_hourly', 'totals_daily', 'breakdown_hourly', 'breakdown_daily', 'actors_daily', 'actor_days', 'actor_hours'] as const) {
          let forced;
          try {
            forced = await answer(engine.services.ch, { ...q, tenantId }, { source });
          } catch (e) {
            if (e instanceof PlanError) continue;
            throw e;
          }
          compared++;
          expect(forced.rows).toEqual(raw.rows);
        }
        if (q.granularity) {
          // gap filling: every bucket of every group is present
          const buckets = bucketStarts(q.fromMs, q.toMs, q.granularity, q.tz);
          const groups = new Set(raw.rows.map((r) => JSON.stringify(r.dims)));
          expect(raw.rows.length).toBe(Math.max(1, groups.size) * buckets.length);
        }
      }),
      { numRuns: 60, seed: 20261122 },
    );
    // The property must actually have exercised the rollups, not only raw.
    expect(compared).toBeGreaterThan(30);
    expect([...used]).toEqual(expect.arrayContaining(['raw', 'hourly', 'daily', 'scope_hourly', 'scope_daily', 'breakdown_hourly', 'breakdown_daily', 'actor_days', 'actor_hours']));
  }, 240_000);

  it('counts events per local day exactly as a TypeScript model does, across the DST change', async () => {
    const events = dataset(42, 6000);
    const tz = 'Europe/Berlin';
    const from = Date.parse('2026-10-22T22:00:00Z'); // 23 Oct 00:00 Berlin (CEST)
    const to = Date.parse('2026-10-28T23:00:00Z'); // 29 Oct 00:00 Berlin (CET)
    const model = new Map<number, number>();
    for (const e of events) {
      const t = Date.parse(e.ts as string);
      if (t < from || t >= to) continue;
      const day = DateTime.fromMillis(t, { zone: tz }).startOf('day').toMillis();
      model.set(day, (model.get(day) ?? 0) + 1);
    }
    const q: Question = { tenantId, metrics: ['events'], dimensions: [], granularity: 'day', tz, fromMs: from, toMs: to, filters: [], metadata: [] };
    const a = await answer(engine.services.ch, q);
    expect(a.rows.map((r) => [r.bucket, r.values.events])).toEqual([...model.entries()].sort((x, y) => x[0] - y[0]));
    // 25 Oct in Berlin is 25 hours long; the hourly rollup answers it, the UTC-day rollup cannot.
    expect(a.sources).toEqual(['totals_hourly']);
    expect(plan({ ...q, tz: 'Asia/Kolkata', fromMs: from + 1_800_000, toMs: to + 1_800_000 }).additive!.segments.map((s) => s.source)).toEqual(['raw']);
  });
});
