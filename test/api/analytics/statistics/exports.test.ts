import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';
import { pgModes } from '../../../helpers/pg-modes.js';
import { DAY, dstEvents, expectError, getJson, ingest, mainEvents, windowOf } from './dataset.js';

const BASE = '/api/v1/analytics/statistics';

interface Series {
  series: (Record<string, number> & { ts: string })[];
}
interface ExportJson {
  window: { from: string; to: string; resolution: string; tz: string };
  rows: (Record<string, number> & { timestamp: string })[];
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`statistics exports (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let empty: TestTenant;
    let dst: TestTenant;
    const { D, from, to } = windowOf();
    const { events } = mainEvents(D);
    const W = { from, to };
    const date = (i: number) => new Date(D + i * DAY).toISOString().slice(0, 10);

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      empty = await engine.newTenant();
      dst = await engine.newTenant();
      await ingest(engine, a, events);
      await ingest(engine, dst, dstEvents);
    });
    afterAll(() => engine?.close());

    const download = async (key: string, path: string, query: Record<string, string>) => {
      const res = await engine.request('GET', `${BASE}/${path}?${new URLSearchParams(query)}`, { key });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      return { res, text };
    };

    it('writes the usage CSV with the seed header, byte for byte', async () => {
      const { res, text } = await download(a.read, 'usage/export.csv', W);
      expect(res.headers.get('content-type')).toBe('text/csv');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="usage_${date(0)}_${date(3)}_day.csv"`);
      expect(text).toBe(['timestamp,requests,compute_units,tokens', `${date(0)},4,10,465`, `${date(1)},4,11,1000`, `${date(2)},0,0,0`].join('\n') + '\n');
    });

    it('writes the cost CSV with the seed header and exact cents, byte for byte', async () => {
      const { res, text } = await download(a.read, 'cost/export.csv', W);
      expect(res.headers.get('content-type')).toBe('text/csv');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="cost_${date(0)}_${date(3)}_day.csv"`);
      expect(text).toBe(
        ['timestamp,spend_cents,requests,input_tokens,output_tokens', `${date(0)},5.2345679,4,310,155`, `${date(1)},150,4,1000,0`, `${date(2)},0,0,0,0`].join('\n') + '\n',
      );
    });

    it('writes JSON siblings with the same rows', async () => {
      const usage = await download(a.read, 'usage/export.json', W);
      expect(usage.res.headers.get('content-type')).toBe('application/json');
      expect(usage.res.headers.get('content-disposition')).toBe(`attachment; filename="usage_${date(0)}_${date(3)}_day.json"`);
      expect(JSON.parse(usage.text)).toEqual({
        window: { from: W.from.replace('.000Z', 'Z'), to: W.to.replace('.000Z', 'Z'), resolution: 'day', tz: 'UTC' },
        rows: [
          { timestamp: date(0), requests: 4, compute_units: 10, tokens: 465 },
          { timestamp: date(1), requests: 4, compute_units: 11, tokens: 1000 },
          { timestamp: date(2), requests: 0, compute_units: 0, tokens: 0 },
        ],
      });
      const cost = await download(a.read, 'cost/export.json', W);
      expect(cost.res.headers.get('content-disposition')).toBe(`attachment; filename="cost_${date(0)}_${date(3)}_day.json"`);
      expect(cost.text).toContain(`{"timestamp":"${date(0)}","spend_cents":5.2345679,"requests":4,"input_tokens":310,"output_tokens":155}`);
      expect((JSON.parse(cost.text) as ExportJson).rows.map((r) => r.spend_cents)).toEqual([5.2345679, 150, 0]);
    });

    it('carries exactly the numbers of the statistics series, for every resolution and zone', async () => {
      const cases = [
        { ...W, resolution: 'hour' },
        { ...W, resolution: 'day', tz: 'Europe/Berlin' },
        { ...W, resolution: 'week', tz: 'America/New_York' },
        { ...W, resolution: 'month', scope: 'project', project: 'p1' },
        { ...W, resolution: 'hour', tz: 'Asia/Kolkata', source: 'raw' },
        { from: '2026-10-24T00:00:00+02:00', to: '2026-10-27T00:00:00+01:00', resolution: 'hour', tz: 'Europe/Berlin' },
      ];
      for (const q of cases) {
        const tenant = q.from.startsWith('2026-10-24') ? dst : a;
        for (const [topic, columns] of [
          ['usage', ['requests', 'compute_units', 'tokens']],
          ['cost', ['spend_cents', 'requests', 'input_tokens', 'output_tokens']],
        ] as const) {
          const stats = (await getJson<Series>(engine, tenant.read, `${BASE}/${topic}`, q)).body;
          const csv = (await download(tenant.read, `${topic}/export.csv`, q)).text.trimEnd().split('\n').slice(1);
          const json = JSON.parse((await download(tenant.read, `${topic}/export.json`, q)).text) as ExportJson;
          expect(csv).toHaveLength(stats.series.length);
          expect(json.rows).toHaveLength(stats.series.length);
          stats.series.forEach((point, i) => {
            // Hourly timestamps are the series' own; day/week/month ones its local date.
            const ts = q.resolution === 'hour' ? point.ts : point.ts.slice(0, 10);
            // Compared as numbers: the CSV prints 0.0000001 where String() would say 1e-7.
            const [csvTs, ...fields] = csv[i]!.split(',');
            expect(csvTs, JSON.stringify(q)).toBe(ts);
            for (const f of fields) expect(f).toMatch(/^\d+(\.\d+)?$/);
            expect(fields.map(Number)).toEqual(columns.map((c) => point[c]));
            expect(json.rows[i]).toEqual({ timestamp: ts, ...Object.fromEntries(columns.map((c) => [c, point[c]])) });
          });
        }
      }
    });

    it('writes the 25 hours of 2026-10-25 in Europe/Berlin with their offsets', async () => {
      const q = { from: '2026-10-25T00:00:00+02:00', to: '2026-10-26T00:00:00+01:00', resolution: 'hour', tz: 'Europe/Berlin' };
      const lines = (await download(dst.read, 'usage/export.csv', q)).text.trimEnd().split('\n');
      expect(lines).toHaveLength(26);
      expect(lines.slice(0, 6)).toEqual([
        'timestamp,requests,compute_units,tokens',
        '2026-10-25T00:00:00+02:00,2,2,2',
        '2026-10-25T01:00:00+02:00,0,0,0',
        '2026-10-25T02:00:00+02:00,4,4,4',
        '2026-10-25T02:00:00+01:00,8,8,8',
        '2026-10-25T03:00:00+01:00,0,0,0',
      ]);
      expect(lines.at(-1)).toBe('2026-10-25T23:00:00+01:00,0,0,0');
      const days = await download(dst.read, 'usage/export.csv', { from: '2026-10-24T00:00:00+02:00', to: '2026-10-27T00:00:00+01:00', tz: 'Europe/Berlin' });
      expect(days.text).toBe('timestamp,requests,compute_units,tokens\n2026-10-24,1,1,1\n2026-10-25,14,14,14\n2026-10-26,16,16,16\n');
      const cost = await download(dst.read, 'cost/export.csv', { from: '2026-10-24T00:00:00+02:00', to: '2026-10-27T00:00:00+01:00', tz: 'Europe/Berlin' });
      expect(cost.text).toBe('timestamp,spend_cents,requests,input_tokens,output_tokens\n2026-10-24,1,1,1,0\n2026-10-25,77,14,6,8\n2026-10-26,100,16,0,16\n');
    });

    it('is not cached: every download reads ClickHouse', async () => {
      await download(a.read, 'usage/export.csv', W);
      const before = engine.services.ch.stats.queries;
      const { res } = await download(a.read, 'usage/export.csv', W);
      expect(res.headers.get('x-cache')).toBeNull();
      expect(engine.services.ch.stats.queries).toBeGreaterThan(before);
    });

    it("shows another tenant none of the data, and refuses ingest-only keys and free plans", async () => {
      const { text } = await download(empty.read, 'cost/export.csv', W);
      expect(text).toBe(`timestamp,spend_cents,requests,input_tokens,output_tokens\n${date(0)},0,0,0,0\n${date(1)},0,0,0,0\n${date(2)},0,0,0,0\n`);
      const json = JSON.parse((await download(empty.read, 'usage/export.json', W)).text) as ExportJson;
      expect(json.rows.map((r) => r.requests)).toEqual([0, 0, 0]);
      const free = await engine.newTenant(undefined, 'free');
      for (const path of ['usage/export.csv', 'usage/export.json', 'cost/export.csv', 'cost/export.json']) {
        await expectError(await engine.request('GET', `${BASE}/${path}`, { key: a.ingest }), 403, 'FORBIDDEN');
        await expectError(await engine.request('GET', `${BASE}/${path}`, { key: free.read }), 403, 'ANALYTICS_NOT_AVAILABLE');
        await expectError(await engine.request('GET', `${BASE}/${path}?resolution=minute`, { key: a.read }), 400, 'INVALID_GRANULARITY');
        await expectError(await engine.request('GET', `${BASE}/${path}?${new URLSearchParams({ from: to, to: from })}`, { key: a.read }), 400, 'INVALID_DATE_RANGE');
      }
    });
  });
}
