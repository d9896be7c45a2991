import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionJob } from '../../src/jobs/retention.js';
import { startTestEngine, type TestEngine } from '../helpers/engine.js';

const DAY = 86_400_000;
const month = (t: number) => new Date(t).toISOString().slice(0, 7).replace('-', '');

describe('retention job', () => {
  let engine: TestEngine;
  const now = Date.now();
  // Defaults: raw events 400 days, rollups 1830 days.
  const pastRaw = now - 500 * DAY; // raw expired, rollups kept
  const pastBoth = now - 2000 * DAY; // both expired
  const recent = now - 10 * DAY;

  beforeAll(async () => {
    engine = await startTestEngine();
    // The background TTL would drop expired parts on its own, at a time of its choosing; stopped
    // here so what the job drops is deterministic.
    await engine.services.ch.command('SYSTEM STOP TTL MERGES');
    for (const [t, n] of [
      [pastRaw, 5],
      [pastBoth, 3],
      [recent, 7],
    ] as const) {
      // Directly, not through ingest: ingest refuses events past retention.
      await engine.services.ch.command(
        `INSERT INTO events (tenant_id, event_id, ts, ingested_at, event_type, success, requests, cost_nano)
         SELECT 'retention-tenant', concat('e-', toString({t:Int64}), '-', toString(number)),
                fromUnixTimestamp64Milli({t:Int64}, 'UTC') + toIntervalSecond(number), now64(3), 'llm.call', true, 1, 100
         FROM numbers({n:UInt32})`,
        { t, n },
      );
    }
  });
  afterAll(() => engine?.close());

  const rows = async (table: string, column: string, t: number) =>
    Number(
      (
        await engine.services.ch.query<{ n: string }>(
          `SELECT count() AS n FROM ${table} WHERE toYYYYMM(${column}) = toYYYYMM(fromUnixTimestamp64Milli({t:Int64}, 'UTC'))`,
          { t },
        )
      )[0]!.n,
    );

  it('drops whole months past retention, keeps recent raw events and rollups younger than ROLLUP_RETENTION_DAYS', async () => {
    expect(await rows('events', 'ts', pastRaw)).toBe(5);
    expect(await rows('rollup_hourly', 'hour', pastRaw)).toBeGreaterThan(0);
    expect(await rows('rollup_hourly', 'hour', pastBoth)).toBeGreaterThan(0);
    const result = await retentionJob.handler({
      services: engine.services,
      windowStart: new Date(now),
      windowEnd: new Date(now + retentionJob.everyMs),
      signal: new AbortController().signal,
    });
    expect(result.rawCutoff).toBe(new Date(now - 400 * DAY).toISOString());
    expect(result.rollupCutoff).toBe(new Date(now - 1830 * DAY).toISOString());
    const raw = result.dropped.filter((d) => d.table === 'events');
    expect(raw).toEqual([
      { table: 'events', partition: month(pastBoth), rows: 3 },
      { table: 'events', partition: month(pastRaw), rows: 5 },
    ]);
    // Rollups: only the month past ROLLUP_RETENTION_DAYS, in every rollup table.
    const rollups = result.dropped.filter((d) => d.table !== 'events');
    expect(new Set(rollups.map((d) => d.partition))).toEqual(new Set([month(pastBoth)]));
    expect(rollups.map((d) => d.table)).toEqual(expect.arrayContaining(['rollup_hourly', 'rollup_daily', 'totals_hourly', 'totals_daily']));

    expect(await rows('events', 'ts', pastRaw)).toBe(0);
    expect(await rows('events', 'ts', pastBoth)).toBe(0);
    expect(await rows('events', 'ts', recent)).toBe(7);
    expect(await rows('rollup_hourly', 'hour', pastRaw)).toBeGreaterThan(0);
    expect(await rows('totals_daily', 'day', pastRaw)).toBeGreaterThan(0);
    expect(await rows('rollup_hourly', 'hour', pastBoth)).toBe(0);
    expect(await rows('rollup_hourly', 'hour', recent)).toBeGreaterThan(0);

    // A second run finds nothing more to drop.
    const again = await retentionJob.handler({
      services: engine.services,
      windowStart: new Date(now),
      windowEnd: new Date(now + retentionJob.everyMs),
      signal: new AbortController().signal,
    });
    expect(again.dropped).toEqual([]);
  });

  it('leaves a month that is only partly past retention to the TTL', async () => {
    // The month that contains the raw cutoff: some of its rows are younger than retention.
    const edge = now - 400 * DAY + 3600_000;
    await engine.services.ch.command(
      `INSERT INTO events (tenant_id, event_id, ts, ingested_at, event_type, success, requests, cost_nano)
       VALUES ('retention-tenant', 'edge-1', fromUnixTimestamp64Milli({t:Int64}, 'UTC'), now64(3), 'llm.call', true, 1, 100)`,
      { t: edge },
    );
    const result = await retentionJob.handler({
      services: engine.services,
      windowStart: new Date(now),
      windowEnd: new Date(now + retentionJob.everyMs),
      signal: new AbortController().signal,
    });
    expect(result.dropped).toEqual([]);
    expect(await rows('events', 'ts', edge)).toBe(1);
  });
});
