import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BindError } from '../../../src/stores/clickhouse/bind-literals.js';
import { createClickHouseStore, type ClickHouseStore } from '../../../src/stores/clickhouse/store.js';
import { StoreUnavailableError } from '../../../src/stores/unavailable.js';

// The embedded store as a pool of chDB connections on one data dir: reads run in parallel on
// the lanes, writes on the primary, and a read after a completed write sees it on any lane.
let dir: string;
let store: ClickHouseStore;
const LANES = 4;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-pool-'));
  store = await createClickHouseStore({ mode: 'embedded', path: dir, database: 'default', connections: LANES });
  await store.command('CREATE TABLE ids (tenant_id String, event_id String, n UInt64) ENGINE = MergeTree ORDER BY (tenant_id, event_id)');
});
afterAll(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('embedded connection pool', () => {
  it('runs reads on several connections at once', async () => {
    // sleep() holds its connection without using CPU, so this holds on a loaded machine: one
    // connection would take LANES × 0.6 s.
    const t0 = performance.now();
    await Promise.all(Array.from({ length: LANES }, () => store.query('SELECT sleep(0.6) AS s')));
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(LANES * 600 * 0.6);
  });

  it('gives every connection the session defaults (64-bit integers as JSON strings)', async () => {
    const rows = await Promise.all(Array.from({ length: LANES * 3 }, (_, i) => store.query<{ n: unknown }>('SELECT toUInt64({i:UInt32}) AS n', { i })));
    expect(rows.map((r) => r[0]!.n)).toEqual(Array.from({ length: LANES * 3 }, (_, i) => String(i)));
  });

  it('a read after a completed insert sees it, whichever connection reads (the dedup lookup)', async () => {
    // Readers keep the lanes busy so the lookups land on every connection in turn.
    let stop = false;
    const noise = Promise.all(
      Array.from({ length: 2 }, async () => {
        while (!stop) await store.query('SELECT count() FROM ids WHERE tenant_id = {t:String}', { t: 'other' });
      }),
    );
    try {
      for (let i = 0; i < 60; i++) {
        const id = `e${i}`;
        const before = await store.query('SELECT event_id FROM ids WHERE tenant_id = {t:String} AND event_id IN {ids:Array(String)}', { t: 'a', ids: [id] });
        expect(before).toEqual([]);
        await store.insertRows('ids', ['tenant_id', 'event_id', 'n'], Buffer.from(JSON.stringify(['a', id, i]) + '\n'));
        const after = await Promise.all(
          Array.from({ length: LANES }, () => store.query<{ event_id: string }>('SELECT event_id FROM ids WHERE tenant_id = {t:String} AND event_id IN {ids:Array(String)}', { t: 'a', ids: [id] })),
        );
        for (const r of after) expect(r).toEqual([{ event_id: id }]);
      }
    } finally {
      stop = true;
      await noise;
    }
    const [total] = await store.query<{ c: string }>("SELECT count() AS c FROM ids WHERE tenant_id = 'a'");
    expect(total).toEqual({ c: '60' });
  });

  it('commands keep native parameters and reads see their effect', async () => {
    await store.command('INSERT INTO ids SELECT {t:String}, toString(number), number FROM numbers(10)', { t: 'cmd' });
    expect(await store.query('SELECT toString(sum(n)) AS s FROM ids WHERE tenant_id = {t:String}', { t: 'cmd' })).toEqual([{ s: '45' }]);
  });

  it('a value the literal rules refuse goes to the engine natively: its answer, never a store error', async () => {
    // The engine's own parser decides, exactly as before the pool (a refusal is its error, not "unavailable").
    const outOfRange = await store.query('SELECT {n:UInt8} AS n', { n: 256 }).then((r) => r, (e: unknown) => e);
    expect(outOfRange).not.toBeInstanceOf(BindError);
    expect(outOfRange).not.toBeInstanceOf(StoreUnavailableError);
    expect(await store.query('SELECT {n:UInt8} AS n').then(() => null, (e: unknown) => e)).not.toBeInstanceOf(StoreUnavailableError);
    // A window reaching past Date's range, as hostile input sends: answered, as natively.
    expect(await store.query('SELECT {d:DateTime64(3, \'UTC\')} > toDateTime64(0, 3, \'UTC\') AS later', { d: '9999-12-31 00:00:00.000' })).toEqual([{ later: 1 }]);
    // As native binding does: one params object serves several related statements.
    expect(await store.query('SELECT {n:UInt8} AS n', { n: 1, unused: 2 })).toEqual([{ n: 1 }]);
    expect(await store.query('SELECT {n:UInt8} AS n', { n: 255 })).toEqual([{ n: 255 }]);
  });
});

describe('literal-bound reads of a whole ingest batch', () => {
  it('a lookup of 50,000 event ids (several MB as literals) runs, bound natively past the literal size limit', async () => {
    const ids = Array.from({ length: 50_000 }, (_, i) => `big-event-id-${i}-${'x'.repeat(40)}`);
    const runs = await Promise.all(
      Array.from({ length: LANES }, () =>
        store.query<{ n: string }>('SELECT toString(count()) AS n FROM ids WHERE tenant_id = {t:String} AND event_id IN {ids:Array(String)}', { t: 'a', ids: [...ids, 'e1'] }),
      ),
    );
    for (const r of runs) expect(r).toEqual([{ n: '1' }]);
  });
});
