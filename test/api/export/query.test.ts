import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdToNano } from '../../../src/ingest/money.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { csvRecords, csvText, expectError, exportTempFiles, readParquet } from './exports.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
// Two whole UTC days a few days back.
const D0 = Math.floor(Date.now() / DAY) * DAY - 4 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
const WINDOW = { from: iso(D0), to: iso(D0 + 2 * DAY) };

/**
 * gpt-4o: three calls priced from the price table (1000 in / 500 out = 0.0075 USD each), one
 * failed, users u1, u2, u1, latencies 10/20/30 ms (exact below 100 ms); m-b: two calls at 0.25 USD (user u3), one on day 2; one api call
 * without a model: 10 requests, 1 USD, day 2.
 */
const dataset = [
  { event_id: 'g1', ts: iso(D0 + 1 * HOUR), event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, user_id: 'u1', latency_ms: 10 },
  { event_id: 'g2', ts: iso(D0 + 2 * HOUR), event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, user_id: 'u2', latency_ms: 20, success: false },
  { event_id: 'g3', ts: iso(D0 + 3 * HOUR), event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, user_id: 'u1', latency_ms: 30 },
  { event_id: 'b1', ts: iso(D0 + 4 * HOUR), event_type: 'llm.call', model: 'm-b', cost: '0.25', user_id: 'u3', latency_ms: 50 },
  { event_id: 'b2', ts: iso(D0 + DAY + 4 * HOUR), event_type: 'llm.call', model: 'm-b', cost: '0.25', user_id: 'u3', latency_ms: 50 },
  { event_id: 'x1', ts: iso(D0 + DAY + 5 * HOUR), event_type: 'api.call', requests: 10, cost: '1' },
];

type Row = Record<string, string | number | boolean | null>;

const BY_MODEL = { ...WINDOW, metrics: ['events', 'requests', 'cost', 'success_rate', 'unique_users', 'latency_p95'], group_by: ['model'] };
const BY_DAY_AND_MODEL = { ...WINDOW, metrics: ['cost', 'requests'], group_by: ['time', 'model'], granularity: 'day' };
const TOP_1_WITH_OTHER = { ...WINDOW, metrics: ['cost', 'unique_users'], group_by: ['model'], order_by: { field: 'cost', direction: 'desc' }, limit: 1, other: true };

describe('POST /api/v1/analytics/query/export', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;

  const rowsOf = async (body: object, key = a.read): Promise<Row[]> => {
    const r = await engine.request('POST', '/api/v1/analytics/query', { key, body });
    const j = (await r.json()) as { rows: Row[] };
    expect(r.status, JSON.stringify(j)).toBe(200);
    return j.rows;
  };
  const exportOf = (body: object, format?: string, key = a.read) =>
    engine.request('POST', `/api/v1/analytics/query/export${format ? `?format=${format}` : ''}`, { key, body });

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await engine.newTenant();
    b = await engine.newTenant();
    const r = await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: 'key-a' }, dataset);
    expect(r.rejected).toEqual([]);
  });
  afterAll(() => engine?.close());

  it('the query route answers the dataset (the rows every export must carry)', async () => {
    expect(await rowsOf(BY_MODEL)).toEqual([
      { model: 'gpt-4o', events: 3, requests: 3, cost: '0.0225', success_rate: 0.666667, unique_users: 2, latency_p95: 30 },
      { model: 'm-b', events: 2, requests: 2, cost: '0.50', success_rate: 1, unique_users: 1, latency_p95: 50 },
      { model: '', events: 1, requests: 10, cost: '1.00', success_rate: 1, unique_users: 0, latency_p95: null },
    ]);
    expect(await rowsOf(TOP_1_WITH_OTHER)).toEqual([
      { model: '', cost: '1.00', unique_users: 0 },
      { cost: '0.5225', unique_users: 3, other: true },
    ]);
  });

  for (const [name, body, columns] of [
    ['by model', BY_MODEL, ['model', 'events', 'requests', 'cost', 'success_rate', 'unique_users', 'latency_p95']],
    ['by day and model (gaps filled)', BY_DAY_AND_MODEL, ['time', 'model', 'cost', 'requests']],
    ['top 1 with other', TOP_1_WITH_OTHER, ['model', 'cost', 'unique_users', 'other']],
  ] as const) {
    it(`${name}: csv, json and ndjson carry exactly the query's rows`, async () => {
      const want = await rowsOf(body);
      expect(want.length).toBeGreaterThan(1);

      const csv = await exportOf(body, 'csv');
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).toBe('attachment; filename="query.csv"');
      const { header, records } = csvRecords(await csv.text());
      expect(header).toEqual(columns);
      expect(records).toEqual(want.map((row) => Object.fromEntries(columns.map((c) => [c, csvText(row[c])]))));

      const json = await exportOf(body, 'json');
      expect(json.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(await json.text())).toEqual(want);

      const nd = await exportOf(body, 'ndjson');
      expect(nd.headers.get('content-type')).toBe('application/x-ndjson');
      expect((await nd.text()).trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(want);
    });

    it(`${name}: parquet is one file with the same rows, typed`, async () => {
      const want = await rowsOf(body);
      const r = await exportOf(body, 'parquet');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/vnd.apache.parquet');
      expect(r.headers.get('content-disposition')).toBe('attachment; filename="query.parquet"');
      const bytes = Buffer.from(await r.arrayBuffer());
      // Each column as text (time as epoch ms), NULL as null, in file order.
      const select = columns.map((c) => (c === 'time' ? 'toString(toUnixTimestamp64Milli(time)) AS time' : `if(isNull(\`${c}\`), NULL, toString(\`${c}\`)) AS \`${c}\``)).join(', ');
      const got = await readParquet<Record<string, string | null>>(engine, bytes, `SELECT ${select} FROM $FILE`);
      expect(got).toHaveLength(want.length);
      got.forEach((row, i) => {
        for (const c of columns) {
          const w = want[i]![c];
          if (c === 'time') expect(row.time).toBe(String(Date.parse(w as string)));
          else if (c === 'cost') expect(usdToNano(row.cost!)).toBe(usdToNano(w as string));
          else if (c === 'other') expect(row.other).toBe(w === true ? 'true' : 'false');
          else if (w === null || w === undefined) expect(row[c], c).toBeNull();
          else expect(row[c], c).toBe(typeof w === 'number' ? String(w) : w);
        }
      });
      expect(exportTempFiles(engine)).toEqual([]);
    });
  }

  it("csv is the default format; another tenant's export has no rows", async () => {
    const r = await exportOf(BY_MODEL);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csvRecords(await r.text()).records).toHaveLength(3);

    const csv = await (await exportOf(BY_MODEL, 'csv', b.read)).text();
    expect(csv).toBe('model,events,requests,cost,success_rate,unique_users,latency_p95\n');
    expect(JSON.parse(await (await exportOf(BY_MODEL, 'json', b.read)).text())).toEqual([]);
    expect(await (await exportOf(BY_MODEL, 'ndjson', b.read)).text()).toBe('');
    const bytes = Buffer.from(await (await exportOf(BY_MODEL, 'parquet', b.read)).arrayBuffer());
    expect(await readParquet(engine, bytes, 'SELECT toString(count()) AS n FROM $FILE')).toEqual([{ n: '0' }]);
  });

  it('refuses what the query route refuses, a bad format, and keys without read or plan', async () => {
    await expectError(await exportOf(BY_MODEL, 'xml'), 400, 'INVALID_REQUEST', 'format');
    await expectError(await exportOf({ ...BY_MODEL, metrics: ['bogus'] }, 'csv'), 400, 'UNKNOWN_METRIC', 'metrics');
    await expectError(await exportOf({ ...BY_MODEL, group_by: ['model; DROP TABLE events'] }, 'csv'), 400, 'UNKNOWN_DIMENSION', 'group_by');
    await expectError(await exportOf({ ...BY_MODEL, from: WINDOW.to, to: WINDOW.from }, 'csv'), 400, 'INVALID_DATE_RANGE', 'from');
    await expectError(await exportOf(BY_MODEL, 'csv', a.ingest), 403, 'FORBIDDEN');
    const free = await engine.newTenant(undefined, 'free');
    await expectError(await exportOf(BY_MODEL, 'csv', free.read), 403, 'ANALYTICS_NOT_AVAILABLE');
  });
});
