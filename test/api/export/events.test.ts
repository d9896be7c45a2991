import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdToNano } from '../../../src/ingest/money.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { csvRecords, csvText, expectError, exportTempFiles, readParquet } from './exports.js';

const SECOND = 1000;
const HOUR = 3_600_000;
// Whole seconds two days back: the window [T0, T0 + 1 h) holds the dataset.
const T0 = Math.floor((Date.now() - 48 * HOUR) / SECOND) * SECOND;
const iso = (ms: number) => new Date(ms).toISOString();
const WINDOW = { from: iso(T0), to: iso(T0 + HOUR) };

/**
 * Tenant A: nine events in the window — explicit costs down to one nano-USD and up to 1e9 USD, one
 * priced from the price table (gpt-4o 1000 in / 500 out = 0.0075 USD), one unpriceable model,
 * metadata that CSV must quote (commas, quotes), two events at the same millisecond
 * (ordered by event_id) — and two just outside the half-open window.
 */
const datasetA = [
  { event_id: 'a-1', ts: iso(T0), event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, latency_ms: 42, user_id: 'u1' },
  { event_id: 'a-2', ts: iso(T0 + 1_001), event_type: 'api.call', cost: '1.5', requests: 3, endpoint: '/v1/x', metadata: { note: 'a,b', quote: 'say "hi"' } },
  { event_id: 'a-3', ts: iso(T0 + 2_002), event_type: 'api.call', cost: '0.000000001', success: false, status: '500', metadata: { multi: 'x,"y",z', uni: 'ünï €' } },
  { event_id: 'a-5', ts: iso(T0 + 3_003), event_type: 'workflow.run', cost: '0', run_id: 'run-1', project: 'p1', environment: 'prod' },
  { event_id: 'a-4', ts: iso(T0 + 3_003), event_type: 'workflow.run', cost: '123.456789', run_id: 'run-1', agent_id: 'agent-7' },
  { event_id: 'a-6', ts: iso(T0 + 4_004), event_type: 'llm.call', model: 'mystery', input_tokens: 9, provider: 'acme' },
  { event_id: 'a-7', ts: iso(T0 + 5_005), event_type: 'api.call', cost: 1000000000, compute_units: 77 },
  { event_id: 'a-8', ts: iso(T0 + 6_006), event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, feature: 'chat', policy_id: 'pol-1' },
  { event_id: 'a-9', ts: iso(T0 + HOUR - 1), event_type: 'api.call', cost: '2.25', source: 'gateway' },
  { event_id: 'a-before', ts: iso(T0 - 1), event_type: 'api.call', cost: '9' },
  { event_id: 'a-at-to', ts: iso(T0 + HOUR), event_type: 'api.call', cost: '9' },
];
const IN_WINDOW = ['a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6', 'a-7', 'a-8', 'a-9'];
const COST_USD: Record<string, string> = {
  'a-1': '0.0075',
  'a-2': '1.50',
  'a-3': '0.000000001',
  'a-4': '123.456789',
  'a-5': '0.00',
  'a-6': '0.00',
  'a-7': '1000000000.00',
  'a-8': '0.0075',
  'a-9': '2.25',
};
const COLUMNS = [
  'event_id', 'ts', 'ingested_at', 'event_type', 'project', 'environment', 'user_id', 'agent_id', 'api_key_id', 'feature', 'model', 'provider',
  'endpoint', 'run_id', 'policy_id', 'source', 'success', 'status', 'requests', 'input_tokens', 'output_tokens', 'compute_units', 'latency_ms',
  'cost_usd', 'cost_unpriced', 'metadata',
];

type StoredEvent = Record<string, unknown> & { event_id: string; ts: string; cost_usd: string; metadata: Record<string, string> };

describe('GET /api/v1/export/events', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  let empty: TestTenant;
  /** Tenant A's window as GET /api/v1/events shows it, oldest first: the export must match it field for field. */
  let expected: StoredEvent[];

  const exportOf = (key: string, q: Record<string, string>) => engine.request('GET', `/api/v1/export/events?${new URLSearchParams(q)}`, { key });

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await engine.newTenant();
    b = await engine.newTenant();
    empty = await engine.newTenant();
    const ra = await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: 'key-a' }, datasetA);
    expect(ra.rejected).toEqual([]);
    const rb = await engine.services.ingest.ingest({ tenantId: b.id, apiKeyId: 'key-b' }, [
      { event_id: 'b-1', ts: iso(T0 + 10), event_type: 'b.secret', cost: '5' },
    ]);
    expect(rb.rejected).toEqual([]);
    const r = await engine.request('GET', `/api/v1/events?${new URLSearchParams({ ...WINDOW, limit: '1000' })}`, { key: a.read });
    expected = ((await r.json()) as { events: StoredEvent[] }).events.reverse();
  });
  afterAll(() => engine?.close());

  it('the read-back is the dataset (the reference the exports are held to)', () => {
    expect(expected.map((e) => e.event_id)).toEqual(IN_WINDOW);
    expect(Object.fromEntries(expected.map((e) => [e.event_id, e.cost_usd]))).toEqual(COST_USD);
    for (const e of expected) expect(e.ts).toBe(datasetA.find((d) => d.event_id === e.event_id)!.ts);
  });

  it('csv: a header, then exactly the window\'s rows, oldest first, every field as the API shows it', async () => {
    const r = await exportOf(a.read, { ...WINDOW, format: 'csv' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="events.csv"');
    const text = await r.text();
    const { header, records } = csvRecords(text);
    expect(header).toEqual(COLUMNS);
    expect(records).toHaveLength(IN_WINDOW.length);
    records.forEach((rec, i) => {
      const want = expected[i]!;
      for (const col of COLUMNS) {
        if (col === 'metadata') expect(JSON.parse(rec.metadata!)).toEqual(want.metadata);
        else expect(rec[col], `${want.event_id}.${col}`).toBe(csvText(want[col]));
      }
    });
    // Spot checks against the dataset itself.
    const byId = Object.fromEntries(records.map((rec) => [rec.event_id, rec]));
    expect(byId['a-2']).toMatchObject({ cost_usd: '1.50', requests: '3', ts: iso(T0 + 1_001) });
    expect(JSON.parse(byId['a-3']!.metadata!)).toEqual({ multi: 'x,"y",z', uni: 'ünï €' });
    expect(byId['a-6']).toMatchObject({ cost_unpriced: 'true', latency_ms: '', input_tokens: '9' });
  });

  it('ndjson: one object per line, identical to GET /api/v1/events', async () => {
    const r = await exportOf(a.read, { ...WINDOW, format: 'ndjson' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-ndjson');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="events.ndjson"');
    const text = await r.text();
    expect(text.endsWith('\n')).toBe(true);
    const rows = text.trimEnd().split('\n').map((l) => JSON.parse(l) as StoredEvent);
    expect(rows).toEqual(expected);
  });

  it('json: one valid array, identical to GET /api/v1/events', async () => {
    const r = await exportOf(a.read, { ...WINDOW, format: 'json' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="events.json"');
    expect(JSON.parse(await r.text())).toEqual(expected);
  });

  it('parquet: one file with the rows, exact decimal USD and millisecond timestamps; no temp file left', async () => {
    const r = await exportOf(a.read, { ...WINDOW, format: 'parquet' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="events.parquet"');
    const bytes = Buffer.from(await r.arrayBuffer());
    const rows = await readParquet<{ event_id: string; ts_ms: string; cost: string; cost_type: string; input_tokens: string; success: boolean; cost_unpriced: boolean; metadata: Record<string, string> }>(
      engine,
      bytes,
      `SELECT event_id, toString(toUnixTimestamp64Milli(ts)) AS ts_ms, toString(cost_usd) AS cost, toTypeName(cost_usd) AS cost_type,
              toString(input_tokens) AS input_tokens, success, cost_unpriced, metadata FROM $FILE`,
    );
    expect(rows.map((x) => x.event_id)).toEqual(IN_WINDOW);
    rows.forEach((row, i) => {
      const want = expected[i]!;
      expect(row.ts_ms).toBe(String(Date.parse(want.ts)));
      expect(usdToNano(row.cost)).toBe(usdToNano(want.cost_usd));
      expect(row.cost_type).toBe('Decimal(38, 9)');
      expect(row.input_tokens).toBe(want.input_tokens);
      expect(row.success).toBe(want.success);
      expect(row.cost_unpriced).toBe(want.cost_unpriced);
      expect(row.metadata).toEqual(want.metadata);
    });
    const [sum] = await readParquet<{ n: string; total: string }>(engine, bytes, 'SELECT toString(count()) AS n, toString(sum(cost_usd)) AS total FROM $FILE');
    expect(sum).toEqual({ n: '9', total: '1000000127.221789001' });
    expect(exportTempFiles(engine)).toEqual([]);
  });

  it('event_type narrows the rows', async () => {
    const r = await exportOf(a.read, { ...WINDOW, format: 'ndjson', event_type: 'llm.call' });
    const rows = (await r.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as StoredEvent);
    expect(rows.map((x) => x.event_id)).toEqual(['a-1', 'a-6', 'a-8']);
  });

  it("another tenant's export holds none of A's rows; a tenant without events gets an empty file", async () => {
    const rb = await exportOf(b.read, { ...WINDOW, format: 'ndjson' });
    const bRows = (await rb.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as StoredEvent);
    expect(bRows.map((x) => x.event_id)).toEqual(['b-1']);

    const csv = await (await exportOf(empty.read, { ...WINDOW, format: 'csv' })).text();
    expect(csv).toBe(COLUMNS.map((c) => `"${c}"`).join(',') + '\n');
    expect(await (await exportOf(empty.read, { ...WINDOW, format: 'ndjson' })).text()).toBe('');
    expect(JSON.parse(await (await exportOf(empty.read, { ...WINDOW, format: 'json' })).text())).toEqual([]);
    const bytes = Buffer.from(await (await exportOf(empty.read, { ...WINDOW, format: 'parquet' })).arrayBuffer());
    expect(await readParquet(engine, bytes, 'SELECT toString(count()) AS n FROM $FILE')).toEqual([{ n: '0' }]);
  });

  it('is not cached: the same export twice queries the engine twice', async () => {
    const before = engine.services.ch.stats.queries;
    for (let i = 0; i < 2; i++) {
      const r = await exportOf(a.read, { ...WINDOW, format: 'csv' });
      expect(r.status).toBe(200);
      expect(csvRecords(await r.text()).records).toHaveLength(IN_WINDOW.length);
    }
    expect(engine.services.ch.stats.queries - before).toBe(2);
  });

  it('refuses a bad format, window or key', async () => {
    await expectError(await exportOf(a.read, { ...WINDOW, format: 'xlsx' }), 400, 'INVALID_REQUEST', 'format');
    await expectError(await exportOf(a.read, { from: WINDOW.to, to: WINDOW.from }), 400, 'INVALID_DATE_RANGE', 'from');
    await expectError(await exportOf(a.read, { from: WINDOW.from, to: WINDOW.from }), 400, 'INVALID_DATE_RANGE', 'from');
    await expectError(await exportOf(a.read, { from: iso(T0 - 401 * 24 * HOUR), to: WINDOW.to }), 400, 'INVALID_DATE_RANGE', 'to');
    await expectError(await exportOf(a.read, { from: 'yesterday', to: WINDOW.to }), 400, 'INVALID_REQUEST', 'from');
    await expectError(await exportOf(a.read, { to: WINDOW.to }), 400, 'INVALID_REQUEST', 'from');
    await expectError(await exportOf(a.ingest, WINDOW), 403, 'FORBIDDEN');
    await expectError(await engine.request('GET', `/api/v1/export/events?${new URLSearchParams(WINDOW)}`), 401, 'UNAUTHORIZED');
    const free = await engine.newTenant(undefined, 'free');
    await expectError(await exportOf(free.read, WINDOW), 403, 'ANALYTICS_NOT_AVAILABLE');
  });
});
