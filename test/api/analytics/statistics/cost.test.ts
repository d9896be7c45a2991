import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';
import { pgModes } from '../../../helpers/pg-modes.js';
import { DAY, dstEvents, expectError, getJson, HOUR_GRID_TABLE, ingest, ingestKey, mainEvents, windowOf } from './dataset.js';

const PATH = '/api/v1/analytics/statistics/cost';

type Row = Record<string, unknown>;
interface Cost {
  window: { from: string; to: string; resolution: string };
  totals: Row;
  series: Row[];
  by_model: Row[];
  by_feature: Row[];
  by_user: Row[];
  by_api_key: Row[];
  by_project: Row[];
  signals: { sources: string[]; freshness_sec: number | null };
}

/** Spend of W in nano-USD: 12345678 + 40000000 + 1 + 1500000000 (e5 has none). */
const money = (usd: number | string, cents: number | string) => ({ spend_usd: usd, spend_cents: cents });

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`GET ${PATH} (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    let empty: TestTenant;
    let dst: TestTenant;
    let keyId: string;
    let keyPrefix: string;
    const { D, from, to } = windowOf();
    const { events } = mainEvents(D);
    const W = { from, to };

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
      empty = await engine.newTenant();
      dst = await engine.newTenant();
      await ingest(engine, a, events);
      await ingest(engine, b, events.map((e) => ({ ...e, cost: '7', model: 'b-model' })));
      await ingest(engine, dst, dstEvents);
      const k = await ingestKey(engine, a);
      keyId = k.id;
      keyPrefix = k.prefix;
    });
    afterAll(() => engine?.close());

    const cost = (key: string, query: Record<string, string>) => getJson<Cost>(engine, key, PATH, query);
    const raw = async (key: string, query: Record<string, string>) => {
      const res = await engine.request('GET', `${PATH}?${new URLSearchParams(query)}`, { key });
      expect(res.status).toBe(200);
      return res.text();
    };
    const utcDay = (i: number) => new Date(D + i * DAY).toISOString().replace('.000Z', 'Z');

    it('answers the seed shape with exact money, a gap-filled series and breakdowns sorted by spend', async () => {
      const { body } = await cost(a.read, W);
      expect(Object.keys(body)).toEqual(['window', 'totals', 'series', 'by_model', 'by_feature', 'by_user', 'by_api_key', 'by_project', 'signals']);
      expect(body.window).toEqual({ from: utcDay(0), to: utcDay(3), resolution: 'day' });
      expect(body.totals).toEqual({ ...money(1.552345679, 155.2345679), requests: 8, input_tokens: 1310, output_tokens: 155 });
      expect(body.series).toEqual([
        { ts: utcDay(0), spend_cents: 5.2345679, requests: 4, input_tokens: 310, output_tokens: 155 },
        { ts: utcDay(1), spend_cents: 150, requests: 4, input_tokens: 1000, output_tokens: 0 },
        { ts: utcDay(2), spend_cents: 0, requests: 0, input_tokens: 0, output_tokens: 0 },
      ]);
      expect(body.by_model).toEqual([
        { model: 'm-small', ...money(1.500000001, 150.0000001), requests: 4, input_tokens: 1010, output_tokens: 5, pct_of_total: 96.63 },
        { model: 'm-big', ...money(0.052345678, 5.2345678), requests: 3, input_tokens: 300, output_tokens: 150, pct_of_total: 3.37 },
        { model: null, ...money(0, 0), requests: 1, input_tokens: 0, output_tokens: 0, pct_of_total: 0 },
      ]);
      // Seed 000: a feature-less event is "untagged".
      expect(body.by_feature).toEqual([
        { feature_tag: 'chat', ...money(1.512345678, 151.2345678), requests: 4, input_tokens: 1100, output_tokens: 50, pct_of_total: 97.42 },
        { feature_tag: 'untagged', ...money(0.04, 4), requests: 3, input_tokens: 200, output_tokens: 100, pct_of_total: 2.58 },
        { feature_tag: 'search', ...money(0.000000001, 0.0000001), requests: 1, input_tokens: 10, output_tokens: 5, pct_of_total: 0 },
      ]);
      // e4 names no user: its spend is the row without one, so the rows sum to the total.
      expect(body.by_user).toEqual([
        { user_id: null, ...money(1.5, 150), requests: 3, input_tokens: 1000, output_tokens: 0, pct_of_total: 96.63 },
        { user_id: 'u2', ...money(0.04, 4), requests: 2, input_tokens: 200, output_tokens: 100, pct_of_total: 2.58 },
        { user_id: 'u1', ...money(0.012345679, 1.2345679), requests: 2, input_tokens: 110, output_tokens: 55, pct_of_total: 0.8 },
        { user_id: 'u3', ...money(0, 0), requests: 1, input_tokens: 0, output_tokens: 0, pct_of_total: 0 },
      ]);
      // Events without api_key_id are attributed to the key that sent them.
      expect(body.by_api_key).toEqual([
        { api_key_id: keyId, key_name: null, key_prefix: keyPrefix, ...money(1.500000001, 150.0000001), requests: 5, input_tokens: 1010, output_tokens: 5, pct_of_total: 96.63 },
        { api_key_id: 'key-x', key_name: null, key_prefix: null, ...money(0.052345678, 5.2345678), requests: 3, input_tokens: 300, output_tokens: 150, pct_of_total: 3.37 },
      ]);
      expect(body.by_project).toEqual([
        { project: 'p1', ...money(1.552345678, 155.2345678), requests: 6, input_tokens: 1300, output_tokens: 150, pct_of_total: 100 },
        { project: 'p2', ...money(0.000000001, 0.0000001), requests: 2, input_tokens: 10, output_tokens: 5, pct_of_total: 0 },
      ]);
      expect(body.signals.sources.length).toBeGreaterThan(0);
      expect(body.signals.sources).not.toContain('events');
      expect(body.signals.freshness_sec).toBeGreaterThanOrEqual(2 * 3600);
    });

    it('prints money as the exact decimal text, never through a float', async () => {
      const text = await raw(a.read, W);
      expect(text).toContain('"totals":{"spend_cents":155.2345679,"spend_usd":1.552345679,"requests":8');
      expect(text).toContain('"feature_tag":"untagged","spend_cents":4,"spend_usd":0.04,');
      expect(text).toContain('"feature_tag":"search","spend_cents":0.0000001,"spend_usd":0.000000001,');
      expect(text).not.toMatch(/:-?\d+(\.\d+)?e/i); // no number in exponent notation (a float would print 1e-7)
    });

    it('gives identical numbers from raw events (source=raw)', async () => {
      for (const resolution of ['hour', 'day', 'week', 'month']) {
        const auto = (await cost(a.read, { ...W, resolution })).body;
        const forced = (await cost(a.read, { ...W, resolution, source: 'raw' })).body;
        expect({ ...forced, signals: null }).toEqual({ ...auto, signals: null });
        expect(forced.signals.sources).toEqual(['events']);
      }
    });

    it('buckets spend by hour, in a time zone across DST', async () => {
      const { body } = await cost(a.read, { ...W, resolution: 'hour' });
      expect(body.series).toHaveLength(72);
      expect(body.series[1]).toMatchObject({ spend_cents: 5.2345678, requests: 3 });
      expect(body.series[13]).toMatchObject({ spend_cents: 0.0000001, requests: 1 });
      expect(body.series[24]).toMatchObject({ spend_cents: 150, requests: 3 });
      expect(body.signals.sources.some((t) => HOUR_GRID_TABLE.test(t))).toBe(true);

      const q = { from: '2026-10-25T00:00:00+02:00', to: '2026-10-26T00:00:00+01:00', resolution: 'hour', tz: 'Europe/Berlin' };
      const berlin = (await cost(dst.read, q)).body;
      expect(berlin.series).toHaveLength(25);
      expect(berlin.series.slice(0, 4)).toEqual([
        { ts: '2026-10-25T00:00:00+02:00', spend_cents: 2, requests: 2, input_tokens: 2, output_tokens: 0 },
        { ts: '2026-10-25T01:00:00+02:00', spend_cents: 0, requests: 0, input_tokens: 0, output_tokens: 0 },
        { ts: '2026-10-25T02:00:00+02:00', spend_cents: 50, requests: 4, input_tokens: 4, output_tokens: 0 },
        { ts: '2026-10-25T02:00:00+01:00', spend_cents: 25, requests: 8, input_tokens: 0, output_tokens: 8 },
      ]);
      expect(berlin.totals).toEqual({ ...money(0.77, 77), requests: 14, input_tokens: 6, output_tokens: 8 });
      const days = (await cost(dst.read, { from: '2026-10-24T00:00:00+02:00', to: '2026-10-27T00:00:00+01:00', tz: 'Europe/Berlin' })).body;
      expect(days.series.map((p) => [p.ts, p.spend_cents])).toEqual([
        ['2026-10-24T00:00:00+02:00', 1],
        ['2026-10-25T00:00:00+02:00', 77],
        ['2026-10-26T00:00:00+01:00', 100],
      ]);
    });

    it('scopes spend to a project or an environment', async () => {
      const p2 = (await cost(a.read, { ...W, scope: 'project', project: 'p2' })).body;
      expect(p2.totals).toEqual({ ...money(0.000000001, 0.0000001), requests: 2, input_tokens: 10, output_tokens: 5 });
      expect(p2.by_project).toEqual([{ project: 'p2', ...money(0.000000001, 0.0000001), requests: 2, input_tokens: 10, output_tokens: 5, pct_of_total: 100 }]);
      const staging = (await cost(a.read, { ...W, scope: 'env', env: 'staging' })).body;
      expect(staging.totals).toEqual({ ...money(1.500000001, 150.0000001), requests: 4, input_tokens: 1010, output_tokens: 5 });
      expect(staging.by_model.map((r) => [r.model, r.pct_of_total])).toEqual([['m-small', 100]]);
    });

    it('cuts each breakdown at `limit` and sums the rest into one `other` row', async () => {
      const { body } = await cost(a.read, { ...W, limit: '1' });
      expect(body.by_model).toEqual([
        { model: 'm-small', ...money(1.500000001, 150.0000001), requests: 4, input_tokens: 1010, output_tokens: 5, pct_of_total: 96.63 },
        { model: null, other: true, ...money(0.052345678, 5.2345678), requests: 4, input_tokens: 300, output_tokens: 150, pct_of_total: 3.37 },
      ]);
      expect(body.by_api_key).toHaveLength(2);
      expect(body.by_api_key[1]).toMatchObject({ api_key_id: null, key_prefix: null, other: true, requests: 3 });
      expect(body.totals).toMatchObject({ spend_usd: 1.552345679, requests: 8 });
    });

    it('caches the answer per tenant and query', async () => {
      const q = `${PATH}?${new URLSearchParams({ ...W, resolution: 'week', scope: 'env', env: 'prod', limit: '7' })}`;
      const first = await engine.request('GET', q, { key: a.read });
      expect(first.headers.get('x-cache')).toBe('MISS');
      const text = await first.text();
      const before = engine.services.ch.stats.queries;
      const second = await engine.request('GET', q, { key: a.read });
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(second.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await second.text()).toBe(text);
      expect(engine.services.ch.stats.queries).toBe(before);
    });

    it("never shows another tenant's spend", async () => {
      const none = (await cost(empty.read, W)).body;
      expect(none.totals).toEqual({ ...money(0, 0), requests: 0, input_tokens: 0, output_tokens: 0 });
      expect(none.series.map((p) => p.spend_cents)).toEqual([0, 0, 0]);
      for (const k of ['by_model', 'by_feature', 'by_user', 'by_api_key', 'by_project'] as const) expect(none[k]).toEqual([]);
      expect(none.signals.freshness_sec).toBeNull();
      const other = (await cost(b.read, W)).body;
      expect(other.totals).toMatchObject({ ...money(35, 3500), requests: 8 });
      expect(other.by_model.map((r) => r.model)).toEqual(['b-model']);
    });

    it('refuses an ingest-only key and a free-plan tenant; answers 400 for bad parameters', async () => {
      await expectError(await engine.request('GET', PATH, { key: a.ingest }), 403, 'FORBIDDEN');
      const free = await engine.newTenant(undefined, 'free');
      await expectError(await engine.request('GET', PATH, { key: free.read }), 403, 'ANALYTICS_NOT_AVAILABLE');
      const bad: [Record<string, string>, string, string][] = [
        [{ from: to, to: from }, 'INVALID_DATE_RANGE', 'from'],
        [{ ...W, resolution: 'quarter' }, 'INVALID_GRANULARITY', 'resolution'],
        [{ ...W, scope: 'env' }, 'INVALID_REQUEST', 'env'],
        [{ ...W, tz: 'Nowhere/City' }, 'INVALID_TIMEZONE', 'tz'],
      ];
      for (const [query, code, field] of bad) {
        const err = await expectError(await engine.request('GET', `${PATH}?${new URLSearchParams(query)}`, { key: a.read }), 400, code);
        expect(err.details).toMatchObject({ field });
      }
      for (const limit of ['0', '1001', 'x']) {
        const err = await expectError(await engine.request('GET', `${PATH}?${new URLSearchParams({ ...W, limit })}`, { key: a.read }), 400, 'INVALID_REQUEST');
        expect(err.message).toContain('limit');
      }
    });
  });
}
