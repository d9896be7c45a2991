import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';
import { pgModes } from '../../../helpers/pg-modes.js';
import { DAY, DAY_GRID_TABLE, dstEvents, expectError, getJson, HOUR, HOUR_GRID_TABLE, ingest, mainEvents, windowOf } from './dataset.js';

const PATH = '/api/v1/analytics/statistics/usage';

interface Usage {
  window: { from: string; to: string; resolution: string };
  totals: Record<string, number | null>;
  series: { ts: string; requests: number; compute_units: number; tokens: number }[];
  signals: { sources: string[]; freshness_sec: number | null };
}

const zeroPoint = { requests: 0, compute_units: 0, tokens: 0 };

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`GET ${PATH} (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    let empty: TestTenant;
    let dst: TestTenant;
    const { D, from, to } = windowOf();
    const { recent, events } = mainEvents(D);
    const W = { from, to };

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
      empty = await engine.newTenant();
      dst = await engine.newTenant();
      await ingest(engine, a, events);
      // Tenant b: the same ids and times, other numbers.
      await ingest(engine, b, events.map((e) => ({ ...e, requests: 1000, compute_units: 0, project: 'p1' })));
      await ingest(engine, dst, dstEvents);
    });
    afterAll(() => engine?.close());

    const usage = (key: string, query: Record<string, string>) => getJson<Usage>(engine, key, PATH, query).then((r) => r.body);
    const utcDay = (i: number) => new Date(D + i * DAY).toISOString().replace('.000Z', 'Z');

    it('answers the seed shape with exact totals and a gap-filled daily series from the rollups', async () => {
      const body = await usage(a.read, W);
      expect(Object.keys(body)).toEqual(['window', 'totals', 'series', 'signals']);
      expect(body.window).toEqual({ from: utcDay(0), to: utcDay(3), resolution: 'day' });
      expect(body.totals).toEqual({
        requests: 8,
        compute_units: 21,
        tokens: 1465,
        input_tokens: 1310,
        output_tokens: 155,
        events: 5,
        unique_users: 3,
        unique_agents: 2,
        // 200 ms is the 4th of 4 latencies (nearest rank); its histogram bucket starts at 199 ms.
        latency_p95: 199,
        success_rate: 0.8,
      });
      expect(body.series).toEqual([
        { ts: utcDay(0), requests: 4, compute_units: 10, tokens: 465 },
        { ts: utcDay(1), requests: 4, compute_units: 11, tokens: 1000 },
        { ts: utcDay(2), ...zeroPoint },
      ]);
      // Day-aligned window: every number from tables on the day grid (sums from a daily rollup,
      // distinct users/agents from a per-actor-day table), nothing from raw events.
      expect(body.signals.sources.length).toBeGreaterThan(0);
      for (const t of body.signals.sources) expect(t).toMatch(DAY_GRID_TABLE);
      // The newest event is e8, two hours old.
      const age = Math.floor((Date.now() - recent) / 1000);
      expect(body.signals.freshness_sec).toBeGreaterThanOrEqual(2 * 3600);
      expect(body.signals.freshness_sec).toBeLessThanOrEqual(age);
    });

    it('gives identical numbers from raw events (source=raw), naming that table', async () => {
      for (const resolution of ['hour', 'day', 'week', 'month']) {
        const auto = await usage(a.read, { ...W, resolution });
        const raw = await usage(a.read, { ...W, resolution, source: 'raw' });
        expect(raw.totals).toEqual(auto.totals);
        expect(raw.series).toEqual(auto.series);
        expect(raw.signals.sources).toEqual(['events']);
      }
    });

    it('buckets by hour: 72 buckets, four with events', async () => {
      const body = await usage(a.read, { ...W, resolution: 'hour' });
      expect(body.window.resolution).toBe('hour');
      expect(body.series).toHaveLength(72);
      expect(body.series.map((p) => p.ts)).toEqual(Array.from({ length: 72 }, (_, i) => new Date(D + i * HOUR).toISOString().replace('.000Z', 'Z')));
      const nonZero = body.series.map((p, i) => [i, p] as const).filter(([, p]) => p.requests > 0);
      expect(nonZero).toEqual([
        [1, { ts: expect.any(String), requests: 3, compute_units: 3, tokens: 450 }],
        [13, { ts: expect.any(String), requests: 1, compute_units: 7, tokens: 15 }],
        [24, { ts: expect.any(String), requests: 3, compute_units: 1, tokens: 1000 }],
        [47, { ts: expect.any(String), requests: 1, compute_units: 10, tokens: 0 }],
      ]);
      expect(body.signals.sources.some((t) => HOUR_GRID_TABLE.test(t))).toBe(true);
      expect(body.signals.sources).not.toContain('events');
    });

    it('buckets by week and month at their calendar starts (the first may start before `from`)', async () => {
      const week = await usage(a.read, { ...W, resolution: 'week' });
      const weekStarts = [...new Set([0, 1, 2].map((i) => DateTime.fromMillis(D + i * DAY, { zone: 'UTC' }).startOf('week').toMillis()))];
      expect(week.series.map((p) => p.ts)).toEqual(weekStarts.map((ms) => new Date(ms).toISOString().replace('.000Z', 'Z')));
      expect(week.series.reduce((s, p) => s + p.requests, 0)).toBe(8);
      const month = await usage(a.read, { ...W, resolution: 'month' });
      const monthStarts = [...new Set([0, 1, 2].map((i) => DateTime.fromMillis(D + i * DAY, { zone: 'UTC' }).startOf('month').toMillis()))];
      expect(month.series.map((p) => p.ts)).toEqual(monthStarts.map((ms) => new Date(ms).toISOString().replace('.000Z', 'Z')));
      expect(month.series.reduce((s, p) => s + p.tokens, 0)).toBe(1465);
    });

    it('scopes to a project, an environment, or both', async () => {
      const p1 = await usage(a.read, { ...W, scope: 'project', project: 'p1' });
      expect(p1.totals).toMatchObject({ requests: 6, compute_units: 4, tokens: 1450, input_tokens: 1300, output_tokens: 150, events: 3, unique_users: 2, unique_agents: 2, success_rate: 1 });
      expect(p1.series.map((p) => p.requests)).toEqual([3, 3, 0]);
      const prod = await usage(a.read, { ...W, scope: 'env', env: 'prod' });
      expect(prod.totals).toMatchObject({ requests: 4, compute_units: 13, tokens: 450, events: 3, unique_users: 3, unique_agents: 1 });
      const both = await usage(a.read, { ...W, scope: 'env', env: 'staging', project: 'p1' });
      expect(both.totals).toMatchObject({ requests: 3, compute_units: 1, tokens: 1000, events: 1, unique_users: 0, unique_agents: 1, latency_p95: 199 });
      // The scope follows from the parameters when not given.
      expect((await usage(a.read, { ...W, project: 'p1' })).totals).toEqual(p1.totals);
      const none = await usage(a.read, { ...W, project: 'nope' });
      expect(none.totals).toMatchObject({ requests: 0, events: 0, unique_users: 0, latency_p95: null, success_rate: null });
      expect(none.series).toEqual([0, 1, 2].map((i) => ({ ts: utcDay(i), ...zeroPoint })));
    });

    it('defaults to the last 7 days ending now', async () => {
      const before = Date.now();
      const body = await usage(a.read, {});
      const toMs = Date.parse(body.window.to);
      expect(toMs).toBeGreaterThanOrEqual(before - 1000);
      expect(toMs).toBeLessThanOrEqual(Date.now());
      expect(Date.parse(body.window.from)).toBe(toMs - 7 * DAY);
      expect(body.window.resolution).toBe('day');
      // Only e8 (two hours ago) is in the last 7 days; W ended at least 7 days ago.
      expect(body.totals).toMatchObject({ requests: 5, events: 1 });
      expect(body.series.length).toBeGreaterThanOrEqual(7);
    });

    it('buckets hours in Europe/Berlin across the 2026-10-25 DST change: 25 hourly buckets that day', async () => {
      const q = { from: '2026-10-25T00:00:00+02:00', to: '2026-10-26T00:00:00+01:00', resolution: 'hour', tz: 'Europe/Berlin' };
      const body = await usage(dst.read, q);
      expect(body.window).toEqual({ from: '2026-10-24T22:00:00Z', to: '2026-10-25T23:00:00Z', resolution: 'hour' });
      expect(body.series).toHaveLength(25);
      expect(body.series.slice(0, 5).map((p) => p.ts)).toEqual([
        '2026-10-25T00:00:00+02:00',
        '2026-10-25T01:00:00+02:00',
        '2026-10-25T02:00:00+02:00',
        '2026-10-25T02:00:00+01:00',
        '2026-10-25T03:00:00+01:00',
      ]);
      expect(body.series.at(-1)!.ts).toBe('2026-10-25T23:00:00+01:00');
      expect(body.series.map((p) => p.requests)).toEqual([2, 0, 4, 8, ...Array(21).fill(0)]);
      expect(body.totals).toMatchObject({ requests: 14, compute_units: 14, tokens: 14, events: 3 });
      const raw = await usage(dst.read, { ...q, source: 'raw' });
      expect(raw.series).toEqual(body.series);
      expect(raw.totals).toEqual(body.totals);
    });

    it('buckets days in Europe/Berlin at local midnight (23/25-hour days included)', async () => {
      const q = { from: '2026-10-24T00:00:00+02:00', to: '2026-10-27T00:00:00+01:00', tz: 'Europe/Berlin' };
      const body = await usage(dst.read, q);
      // c2 is 10-24 in UTC but 10-25 in Berlin; c5 is 10-25 in UTC but 10-26 in Berlin.
      expect(body.series).toEqual([
        { ts: '2026-10-24T00:00:00+02:00', requests: 1, compute_units: 1, tokens: 1 },
        { ts: '2026-10-25T00:00:00+02:00', requests: 14, compute_units: 14, tokens: 14 },
        { ts: '2026-10-26T00:00:00+01:00', requests: 16, compute_units: 16, tokens: 16 },
      ]);
      // Berlin days are not UTC days: the series comes from an hourly rollup (the totals, which
      // have no buckets, may still take whole UTC days from a daily one).
      expect(body.signals.sources.some((t) => HOUR_GRID_TABLE.test(t))).toBe(true);
      const raw = await usage(dst.read, { ...q, source: 'raw' });
      expect(raw.series).toEqual(body.series);
      const utc = await usage(dst.read, { from: '2026-10-24T00:00:00Z', to: '2026-10-27T00:00:00Z' });
      expect(utc.series.map((p) => p.requests)).toEqual([3, 28, 0]);
    });

    it('buckets days of the main dataset at Berlin midnight, the last one partial', async () => {
      const body = await usage(a.read, { ...W, tz: 'Europe/Berlin' });
      const localDate = DateTime.fromMillis(D, { zone: 'UTC' }).toISODate()!;
      const midnight = (i: number) => DateTime.fromISO(localDate, { zone: 'Europe/Berlin' }).plus({ days: i }).toISO({ suppressMilliseconds: true });
      expect(body.series).toEqual([
        { ts: midnight(0), requests: 4, compute_units: 10, tokens: 465 },
        { ts: midnight(1), requests: 3, compute_units: 1, tokens: 1000 },
        { ts: midnight(2), requests: 1, compute_units: 10, tokens: 0 },
        { ts: midnight(3), ...zeroPoint },
      ]);
    });

    it('accepts a time zone in any letter case and answers in its canonical name', async () => {
      const body = await usage(dst.read, { from: '2026-10-24T00:00:00+02:00', to: '2026-10-27T00:00:00+01:00', tz: 'europe/berlin' });
      expect(body.series.map((p) => p.ts)).toEqual(['2026-10-24T00:00:00+02:00', '2026-10-25T00:00:00+02:00', '2026-10-26T00:00:00+01:00']);
    });

    it('serves a second identical request from the cache without touching ClickHouse', async () => {
      const q = `${PATH}?${new URLSearchParams({ ...W, resolution: 'week', scope: 'env', env: 'prod' })}`;
      const first = await engine.request('GET', q, { key: a.read });
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cache')).toBe('MISS');
      const firstBody = await first.text();
      const before = engine.services.ch.stats.queries;
      const second = await engine.request('GET', q, { key: a.read });
      expect(second.status).toBe(200);
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(await second.text()).toBe(firstBody);
      expect(engine.services.ch.stats.queries).toBe(before);
      // Another tenant's identical request is its own entry.
      const other = await engine.request('GET', q, { key: b.read });
      expect(other.headers.get('x-cache')).toBe('MISS');
      expect(engine.services.ch.stats.queries).toBeGreaterThan(before);
    });

    it("never shows another tenant's data", async () => {
      const none = await usage(empty.read, W);
      expect(none.totals).toEqual({
        requests: 0,
        compute_units: 0,
        tokens: 0,
        input_tokens: 0,
        output_tokens: 0,
        events: 0,
        unique_users: 0,
        unique_agents: 0,
        latency_p95: null,
        success_rate: null,
      });
      expect(none.series).toEqual([0, 1, 2].map((i) => ({ ts: utcDay(i), ...zeroPoint })));
      expect(none.signals.freshness_sec).toBeNull();
      // b's own events only: 5 in W with 1000 requests each.
      const other = await usage(b.read, W);
      expect(other.totals).toMatchObject({ requests: 5000, compute_units: 0, events: 5 });
    });

    it('refuses an ingest-only key, a missing key and a free-plan tenant', async () => {
      await expectError(await engine.request('GET', PATH, { key: a.ingest }), 403, 'FORBIDDEN');
      await expectError(await engine.request('GET', PATH), 401, 'UNAUTHORIZED');
      const free = await engine.newTenant(undefined, 'free');
      await expectError(await engine.request('GET', PATH, { key: free.read }), 403, 'ANALYTICS_NOT_AVAILABLE');
    });

    it('answers 400 with the seed codes and the field for bad parameters', async () => {
      const cases: [Record<string, string>, string, string][] = [
        [{ from: to, to: from }, 'INVALID_DATE_RANGE', 'from'],
        [{ from, to: from }, 'INVALID_DATE_RANGE', 'from'],
        [{ from: '2025-01-01T00:00:00Z', to: '2026-02-05T00:00:01Z' }, 'INVALID_DATE_RANGE', 'to'],
        [{ ...W, resolution: 'minute' }, 'INVALID_GRANULARITY', 'resolution'],
        [{ ...W, resolution: 'DAY' }, 'INVALID_GRANULARITY', 'resolution'],
        [{ ...W, scope: 'team' }, 'INVALID_REQUEST', 'scope'],
        [{ ...W, scope: 'project' }, 'INVALID_REQUEST', 'project'],
        [{ ...W, scope: 'env', project: 'p1' }, 'INVALID_REQUEST', 'env'],
        [{ ...W, scope: 'org', project: 'p1' }, 'INVALID_REQUEST', 'project'],
        [{ ...W, scope: 'project', project: 'p1', env: 'prod' }, 'INVALID_REQUEST', 'env'],
        [{ ...W, tz: 'Mars/Olympus' }, 'INVALID_TIMEZONE', 'tz'],
      ];
      for (const [query, code, field] of cases) {
        const err = await expectError(await engine.request('GET', `${PATH}?${new URLSearchParams(query)}`, { key: a.read }), 400, code);
        expect(err.details, JSON.stringify(query)).toMatchObject({ field });
      }
      // Exactly 400 days is allowed.
      await usage(a.read, { from: '2025-10-01T00:00:00Z', to: '2026-11-05T00:00:00Z', resolution: 'month' });
      for (const [query, field] of [
        [{ from: 'yesterday' }, 'from'],
        [{ to: '2026-01-01' }, 'to'],
        [{ source: 'hourly' }, 'source'],
        [{ project: '' }, 'project'],
      ] as const) {
        const err = await expectError(await engine.request('GET', `${PATH}?${new URLSearchParams(query)}`, { key: a.read }), 400, 'INVALID_REQUEST');
        expect(err.message).toContain(field);
      }
    });
  });
}
