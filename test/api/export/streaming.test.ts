import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { usdToNano } from '../../../src/ingest/money.js';
import { startServer, type RunningServer } from '../../../src/server.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { exportTempFiles, readParquet } from './exports.js';

const ROWS = 200_000; // a little over three engine blocks (65,409 rows each): several chunks
const HOUR = 3_600_000;
const START = Math.floor((Date.now() - 72 * HOUR) / HOUR) * HOUR;
const STEP_MS = 50;
const WINDOW = { from: new Date(START).toISOString(), to: new Date(START + ROWS * STEP_MS).toISOString() };
const expectedInputTokens = (() => {
  let s = 0;
  for (let i = 0; i < ROWS; i++) s += i % 1000;
  return s;
})();

/** Export queries the engine is running right now (their SQL names their parameter table). */
const RUNNING_EXPORTS = `SELECT toUInt32(count()) AS n, groupArray(substring(query, 1, 40)) AS q FROM system.processes
  WHERE position(query, {marker:String}) > 0 AND position(query, 'system.processes') = 0`;

describe('streamed exports of many rows', () => {
  let engine: TestEngine;
  let tenant: TestTenant;
  let server: RunningServer;

  const url = (format: string) => `${server.url}/api/v1/export/events?${new URLSearchParams({ ...WINDOW, format })}`;
  const running = async () => (await engine.services.ch.query<{ n: number; q: string[] }>(RUNNING_EXPORTS, { marker: 'export_params_' }))[0]!;
  const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 10_000) => {
    const until = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  beforeAll(async () => {
    engine = await startTestEngine();
    tenant = await engine.newTenant();
    // Synthetic rows made by the engine (INSERT … SELECT FROM numbers()): this file is about volume.
    await engine.services.ch.command(
      `INSERT INTO events (tenant_id, event_id, ts, ingested_at, event_type, model, success, requests, input_tokens, output_tokens, latency_ms, cost_nano, cost_unpriced, metadata)
       SELECT {tenant:String}, concat('syn-', leftPad(toString(number), 7, '0')), fromUnixTimestamp64Milli(toInt64({start:Int64} + number * {step:Int64}), 'UTC'), now64(3),
              ['llm.call', 'api.call', 'workflow.run'][number % 3 + 1], ['gpt-4o', 'claude-3', ''][number % 3 + 1], number % 10 != 0, 1,
              number % 1000, number % 500, toUInt32(number % 2000), toInt64(number % 7) * 1500, 0, map('i', toString(number))
       FROM numbers({rows:UInt64})`,
      { tenant: tenant.id, start: START, step: STEP_MS, rows: ROWS },
    );
    server = await startServer(engine.services, 0);
  });
  afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  const download = async (format: string) => {
    const r = await fetch(url(format), { headers: { authorization: `Bearer ${tenant.read}` } });
    expect(r.status).toBe(200);
    return Buffer.from(await r.arrayBuffer());
  };

  it('csv over HTTP: one header, every row once, the numbers add up', async () => {
    const lines = (await download('csv')).toString('utf8').trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('"event_id"'))).toHaveLength(1);
    expect(lines).toHaveLength(ROWS + 1);
    const header = lines[0]!.split(',').map((h) => JSON.parse(h) as string);
    const col = header.indexOf('input_tokens');
    let sum = 0;
    for (const line of lines.slice(1)) sum += Number(line.split(',')[col]);
    expect(sum).toBe(expectedInputTokens);
    expect(lines[1]!.startsWith('"syn-0000000",')).toBe(true);
    expect(lines[ROWS]!.startsWith(`"syn-${String(ROWS - 1).padStart(7, '0')}",`)).toBe(true);
  });

  it('json over HTTP is one array of every row; ndjson one line per row', async () => {
    const arr = JSON.parse((await download('json')).toString('utf8')) as { event_id: string; input_tokens: string }[];
    expect(arr).toHaveLength(ROWS);
    expect(arr.reduce((s, e) => s + Number(e.input_tokens), 0)).toBe(expectedInputTokens);
    expect(new Set(arr.map((e) => e.event_id)).size).toBe(ROWS);
    const lines = (await download('ndjson')).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(ROWS);
    // The last row: number 199,999 → cost (199,999 % 7) × 1500 nano-USD = 0.000003 USD.
    expect(JSON.parse(lines[ROWS - 1]!)).toMatchObject({ event_id: `syn-${String(ROWS - 1).padStart(7, '0')}`, cost_usd: '0.000003', success: true });
  });

  it('parquet over HTTP is ONE file holding every row', async () => {
    const bytes = await download('parquet');
    const [r] = await readParquet<{ n: string; tokens: string; cost: string; ids: string }>(
      engine,
      bytes,
      'SELECT toString(count()) AS n, toString(sum(input_tokens)) AS tokens, toString(sum(cost_usd)) AS cost, toString(uniqExact(event_id)) AS ids FROM $FILE',
    );
    // cost: (number % 7) * 1500 nano-USD over 200,000 rows.
    let costNano = 0;
    for (let i = 0; i < ROWS; i++) costNano += (i % 7) * 1500;
    expect(r).toMatchObject({ n: String(ROWS), tokens: String(expectedInputTokens), ids: String(ROWS) });
    expect(usdToNano(r!.cost)).toBe(BigInt(costNano));
    expect(exportTempFiles(engine)).toEqual([]);
  });

  it('a paused csv download holds no lock: other queries answer; disconnecting cancels the engine query', async () => {
    const ac = new AbortController();
    const r = await fetch(url('csv'), { headers: { authorization: `Bearer ${tenant.read}` }, signal: ac.signal });
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    // The client stops reading: the export query stays open on its own session…
    expect((await running()).n).toBe(1);
    // …and the store (its own connection, bound parameters) answers meanwhile.
    const t0 = performance.now();
    const page = await fetch(`${server.url}/api/v1/events?${new URLSearchParams({ ...WINDOW, limit: '5' })}`, { headers: { authorization: `Bearer ${tenant.read}` } });
    expect(page.status).toBe(200);
    expect(((await page.json()) as { events: unknown[] }).events).toHaveLength(5);
    expect(performance.now() - t0).toBeLessThan(2000);

    ac.abort();
    await reader.cancel().catch(() => {});
    await waitFor('the export query to end', async () => (await running()).n === 0);
  });

  it('disconnecting during the Parquet write kills the write and leaves no file', async () => {
    const calls: { sql: string; result: Promise<unknown> }[] = [];
    const original = Session.prototype.queryAsync;
    const spy = vi.spyOn(Session.prototype, 'queryAsync').mockImplementation(function (this: Session, sql, opts) {
      const result = original.call(this, sql, opts);
      calls.push({ sql, result: result.then((x) => x.text(), (e: Error) => e) });
      return result;
    });
    try {
      const ac = new AbortController();
      const pending = fetch(url('parquet'), { headers: { authorization: `Bearer ${tenant.read}` }, signal: ac.signal }).catch((e: Error) => e);
      // Abort while the engine is writing (watched through the store, which the write does not block).
      await waitFor('the Parquet write to start', async () => (await running()).q.some((q) => q.startsWith('INSERT INTO FUNCTION file(')));
      ac.abort();
      expect(await pending).toBeInstanceOf(Error);
      await waitFor('the write to end', async () => (await running()).n === 0);
      await waitFor('the kill to be sent', async () => calls.some((c) => c.sql.startsWith('KILL QUERY')));
      const kill = calls.find((c) => c.sql.startsWith('KILL QUERY'))!;
      expect(await kill.result).not.toBe(''); // it found the write
      const write = calls.find((c) => c.sql.startsWith('INSERT INTO FUNCTION file('))!;
      expect(String(await write.result)).toMatch(/cancelled/i);
    } finally {
      spy.mockRestore();
    }
    await waitFor('the temp file to go', async () => exportTempFiles(engine).length === 0);
    const t0 = performance.now();
    expect(await engine.services.ch.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
