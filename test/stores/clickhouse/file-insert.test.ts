import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../../helpers/engine.js';

// Embedded inserts of 256 KiB and more go through a spool file the engine reads with file();
// smaller ones through chDB's raw insert. Both must store exactly the bytes' rows.
describe('EmbeddedStore.insertRows: spooled and inline inserts store the same rows', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
    await engine.services.ch.command(
      'CREATE TABLE spool_t (id UInt32, s String, ts DateTime64(3, \'UTC\'), m Map(LowCardinality(String), String), d Decimal(38, 9)) ENGINE = MergeTree ORDER BY id',
    );
  });
  afterAll(() => engine?.close());

  const nasty = ['plain', "quote ' and \" and \\ backslash", 'line\nbreak\ttab', '😀 e\u0301 \u2028', '{p:String}', "'); DROP TABLE spool_t; --"];
  const rows = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => [from + i, `${nasty[i % nasty.length]}-${i}-${'x'.repeat(40)}`, '2026-11-01 10:00:00.123', { k: nasty[(i + 1) % nasty.length] }, '0.000000001']);
  const body = (rs: unknown[][]) => Buffer.from(rs.map((r) => JSON.stringify(r)).join('\n') + '\n');

  it('a large body (spooled) and a small one (inline) read back exactly, and the spool is left empty', async () => {
    const big = rows(5000);
    const small = rows(10, 10_000);
    expect(body(big).length).toBeGreaterThan(256 * 1024);
    expect(body(small).length).toBeLessThan(256 * 1024);
    await engine.services.ch.insertRows('spool_t', ['id', 's', 'ts', 'm', 'd'], body(big));
    await engine.services.ch.insertRows('spool_t', ['id', 's', 'ts', 'm', 'd'], body(small));
    const back = await engine.services.ch.query<{ id: number; s: string; ts: string; m: Record<string, string>; d: string }>(
      "SELECT id, s, toString(ts) AS ts, m, toString(d) AS d FROM spool_t ORDER BY id",
    );
    expect(back).toHaveLength(5010);
    for (const [i, r] of [...big, ...small].entries()) {
      expect(back[i]).toEqual({ id: r[0], s: r[1], ts: r[2], m: r[3], d: '0.000000001' });
    }
    const fs = await import('node:fs');
    expect(fs.readdirSync(`${engine.dataDir}/clickhouse/insert-spool`)).toEqual([]);
  });

  it('a body the engine refuses fails the insert, stores nothing of it, and removes its file', async () => {
    const bad = Buffer.concat([body(rows(5000, 20_000)), Buffer.from('[1, "x", "not a time", {}, "1"]\n')]);
    await expect(engine.services.ch.insertRows('spool_t', ['id', 's', 'ts', 'm', 'd'], bad)).rejects.toThrow();
    const n = await engine.services.ch.query<{ n: string }>('SELECT count() AS n FROM spool_t WHERE id >= 20000');
    expect(n[0]!.n).toBe('0');
    const fs = await import('node:fs');
    expect(fs.readdirSync(`${engine.dataDir}/clickhouse/insert-spool`)).toEqual([]);
  });
});
