import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS } from '../../src/ingest/event-rows.js';
import { nanoToUsd } from '../../src/ingest/money.js';
import { reconcile, reconcileRecent, type ReconcileResult } from '../../src/jobs/reconciliation.js';
import { ROLLUP_TABLES } from '../../src/jobs/reconciliation-sql.js';
import { answer } from '../../src/query/execute.js';
import { windowQuestion } from '../../src/query/planner.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../helpers/engine.js';
import { pgModes } from '../helpers/pg-modes.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Four UTC days, starting at midnight twelve days ago: every hour in it is closed. */
const D = Math.floor(Date.now() / DAY) * DAY - 12 * DAY;
const WINDOW = { from: new Date(D), to: new Date(D + 4 * DAY) };
const iso = (ms: number) => new Date(ms).toISOString();

interface Ev {
  event_id: string;
  ts: string;
  event_type: string;
  project: string;
  environment: string;
  model: string;
  user_id?: string;
  agent_id?: string;
  success: boolean;
  latency_ms?: number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  compute_units: number;
  cost: string;
  metadata?: Record<string, string>;
}

/** A deterministic dataset over the four days: varied dimensions, actors, failures, latencies. */
function dataset(prefix: string, n: number, stride: number): Ev[] {
  const out: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const nano = i * 12_345 + 1;
    out.push({
      event_id: `${prefix}-${i}`,
      ts: iso(D + ((i * stride) % 96) * HOUR + ((i * 13) % 60) * 60_000 + i),
      event_type: i % 4 === 0 ? 'api.call' : 'llm.call',
      project: i % 3 === 0 ? 'p2' : 'p1',
      environment: i % 2 === 0 ? 'prod' : 'staging',
      model: i % 5 < 2 ? 'm-a' : 'm-b',
      ...(i % 5 === 0 ? {} : { user_id: `u${i % 4}` }),
      ...(i % 2 === 0 ? { agent_id: `a${i % 3}` } : {}),
      success: i % 6 !== 0,
      ...(i % 7 === 0 ? {} : { latency_ms: (i * 37) % 400 }),
      requests: 1 + (i % 3),
      input_tokens: 10 * i,
      output_tokens: 3 * i,
      compute_units: i % 5,
      cost: `0.${String(nano).padStart(9, '0')}`,
      ...(i % 4 === 1 ? { metadata: { team: `t${i % 3}` } } : {}),
    });
  }
  return out;
}

const hourOf = (ts: string) => Math.floor(Date.parse(ts) / HOUR) * HOUR;
const dayOf = (ms: number) => iso(ms).slice(0, 10);

/** What the planner must answer for a tenant's events (each event once) over the window. */
function model(events: Ev[]) {
  const ids = new Set(events.map((e) => e.event_id));
  expect(ids.size).toBe(events.length);
  let costNano = 0n;
  for (const e of events) costNano += BigInt(e.cost.replace('0.', ''));
  return {
    events: events.length,
    requests: events.reduce((s, e) => s + e.requests, 0),
    input_tokens: events.reduce((s, e) => s + e.input_tokens, 0),
    output_tokens: events.reduce((s, e) => s + e.output_tokens, 0),
    compute_units: events.reduce((s, e) => s + e.compute_units, 0),
    failures: events.filter((e) => !e.success).length,
    cost: nanoToUsd(costNano),
    unique_users: new Set(events.flatMap((e) => (e.user_id ? [e.user_id] : []))).size,
    unique_agents: new Set(events.flatMap((e) => (e.agent_id ? [e.agent_id] : []))).size,
  };
}

type Snapshot = Record<string, unknown[]>;

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`reconcile (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    const eventsA = dataset('a', 80, 7);
    const eventsB = dataset('b', 25, 5);
    const late: Ev = { ...dataset('late', 1, 1)[0]!, event_id: 'late-1', ts: iso(D + DAY + 17 * HOUR + 5 * 60_000), requests: 9, cost: '0.700000000' };
    let clean: ReconcileResult;

    /** Every table's rows for the two tenants, merged (FINAL) and in a fixed order. */
    async function snapshot(): Promise<Snapshot> {
      const ch = engine.services.ch;
      const tenants = { ids: [a.id, b.id] };
      const out: Snapshot = {};
      for (const { table } of ROLLUP_TABLES) {
        out[table] = await ch.query(`SELECT * FROM ${table} FINAL WHERE tenant_id IN {ids:Array(String)} ORDER BY ALL`, tenants);
      }
      out.events = await ch.query(`SELECT ${EVENT_COLUMNS.join(', ')}, latency_bucket FROM events WHERE tenant_id IN {ids:Array(String)} ORDER BY tenant_id, event_id`, tenants);
      out.event_ids = await ch.query('SELECT * FROM event_ids FINAL WHERE tenant_id IN {ids:Array(String)} ORDER BY ALL', tenants);
      return out;
    }

    const run = () => reconcile(engine.services, WINDOW);

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
      for (const [t, evs] of [[a, eventsA], [b, eventsB]] as const) {
        const r = await engine.services.ingest.ingest({ tenantId: t.id, apiKeyId: 'key-t' }, evs);
        expect(r).toEqual({ accepted: evs.length, duplicates: 0, rejected: [] });
      }
    }, 120_000);
    afterAll(() => engine?.close());

    it('checks every tenant-hour with events of a clean dataset and repairs none', async () => {
      clean = await run();
      const hoursA = new Set(eventsA.map((e) => hourOf(e.ts))).size;
      const hoursB = new Set(eventsB.map((e) => hourOf(e.ts))).size;
      expect(clean.hoursChecked).toBe(hoursA + hoursB);
      expect(clean.tenantStats).toEqual({ [a.id]: { hours_checked: hoursA, hours_repaired: 0 }, [b.id]: { hours_checked: hoursB, hours_repaired: 0 } });
      expect(clean).toMatchObject({ hoursRepaired: 0, daysRebuilt: 0, duplicatesRemoved: 0, tenants: 2, rebuilt: [] });
      expect(clean.from.getTime()).toBe(D);
      expect(clean.to.getTime()).toBe(D + 4 * DAY);
      expect(clean.lagSec).toBeGreaterThanOrEqual(8 * 86_400);
    });

    it('only counts closed hours: the current hour and later are left for a later run', async () => {
      const now = new Date(D + 2 * DAY + 30 * 60_000);
      const r = await reconcile(engine.services, { ...WINDOW, tenantId: b.id }, { now });
      expect(r.to.getTime()).toBe(D + 2 * DAY);
      expect(r.hoursChecked).toBe(new Set(eventsB.filter((e) => Date.parse(e.ts) < D + 2 * DAY).map((e) => hourOf(e.ts))).size);
      expect(Object.keys(r.tenantStats)).toEqual([b.id]);
      expect(r.lagSec).toBe(30 * 60);
    });

    it('runs on the last closed hours by default (the scheduled job)', async () => {
      const now = new Date(D + 3 * DAY + 20 * 60_000);
      const r = await reconcileRecent(engine.services, { lookbackHours: 24, now });
      expect(r.from.getTime()).toBe(D + 2 * DAY);
      expect(r.to.getTime()).toBe(D + 3 * DAY);
      const inDay = (e: Ev) => Date.parse(e.ts) >= D + 2 * DAY && Date.parse(e.ts) < D + 3 * DAY;
      expect(r.hoursChecked).toBe(new Set([...eventsA, ...eventsB].filter(inDay).map((e) => `${e.event_id[0]}${hourOf(e.ts)}`)).size);
      expect(r.hoursRepaired).toBe(0);
    });

    it('records a failed run with its error, rethrows it and leaves the success gauge alone', async () => {
      const before = (await engine.services.metrics.reconciliationLastSuccess.get()).values[0]?.value;
      const broken = { ...engine.services.ch, query: () => Promise.reject(new Error('engine unavailable')) } as typeof engine.services.ch;
      await expect(reconcile({ ...engine.services, ch: broken }, WINDOW)).rejects.toThrow('engine unavailable');
      const { rows } = await engine.services.pg.pool.query<{ error: string; finished_at: Date | null }>(
        "SELECT error, finished_at FROM reconciliation_runs WHERE error IS NOT NULL",
      );
      expect(rows).toEqual([{ error: 'engine unavailable', finished_at: expect.any(Date) }]);
      expect((await engine.services.metrics.reconciliationLastSuccess.get()).values[0]?.value).toBe(before);
    });

    describe('after duplicates, drifted rollups and a late event', () => {
      let expected: Snapshot;
      let drifted: ReconcileResult;
      const dupIds = eventsA.filter((e) => Date.parse(e.ts) < D + DAY).slice(0, 3);
      const strayHour = D + 2 * DAY + 3 * HOUR;
      const actorDay = D + 3 * DAY;

      beforeAll(async () => {
        const ch = engine.services.ch;
        // A late event for an old hour arrives through the ingest path: the views count it.
        const r = await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: 'key-t' }, [late]);
        expect(r.accepted).toBe(1);
        expected = await snapshot();

        const cols = EVENT_COLUMNS.join(', ');
        const ids = { tenant: a.id, ids: dupIds.map((e) => e.event_id) };
        // (a) Duplicates past dedup (two API processes): identical copies of three ids, a later
        // copy of one with another price, and a copy of one stamped a day later. The views count
        // every copy.
        await ch.command(`INSERT INTO events (${cols}) SELECT ${cols} FROM events WHERE tenant_id = {tenant:String} AND event_id IN {ids:Array(String)}`, ids);
        const shifted = (changes: Record<string, string>) => EVENT_COLUMNS.map((c) => changes[c] ?? c).join(', ');
        await ch.command(
          `INSERT INTO events (${cols}) SELECT ${shifted({ ingested_at: 'ingested_at + toIntervalSecond(1)', cost_nano: 'cost_nano * 2' })}
           FROM events WHERE tenant_id = {tenant:String} AND event_id = {id:String} LIMIT 1`,
          { tenant: a.id, id: dupIds[0]!.event_id },
        );
        await ch.command(
          `INSERT INTO events (${cols}) SELECT ${shifted({ ingested_at: 'ingested_at + toIntervalSecond(2)', ts: 'ts + toIntervalDay(1)' })}
           FROM events WHERE tenant_id = {tenant:String} AND event_id = {id:String} LIMIT 1`,
          { tenant: a.id, id: dupIds[1]!.event_id },
        );
        // (b) Rows in rollup_hourly that no event backs (its views carry them on).
        await ch.command(
          `INSERT INTO rollup_hourly (tenant_id, hour, event_type, project, environment, model, provider, feature, api_key_id, endpoint, status, success,
             events, requests, input_tokens, output_tokens, compute_units, cost_nano, cost_unpriced, failures, latency_count, latency_sum, latency_hist)
           VALUES ({tenant:String}, {hour:DateTime}, 'llm.call', 'p1', 'prod', 'm-a', '', '', 'key-t', '', '', true, 2, 2, 10, 10, 0, 5000, 0, 0, 1, 50, map(50, 1))`,
          { tenant: a.id, hour: strayHour / 1000 },
        );
        // … and in actors_daily alone, on a day nothing else touches.
        await ch.command(
          `INSERT INTO actors_daily (tenant_id, day, actor_kind, actor_id, event_type, project, environment, success, events, requests, input_tokens, output_tokens, compute_units, cost_nano)
           VALUES ({tenant:String}, {day:Date}, 'user', 'ghost', 'llm.call', 'p1', 'prod', true, 1, 1, 0, 0, 0, 7)`,
          { tenant: a.id, day: dayOf(actorDay) },
        );
        // (c) The late event's hour lost from rollup_hourly.
        await ch.command('DELETE FROM rollup_hourly WHERE tenant_id = {tenant:String} AND hour = {hour:DateTime} SETTINGS mutations_sync = 2', {
          tenant: a.id,
          hour: hourOf(late.ts) / 1000,
        });
        expect(await snapshot()).not.toEqual(expected);
        drifted = await run();
      }, 120_000);

      it('repairs exactly the drifted hours and their days, and removes the extra raw copies', () => {
        const hours = new Set([...dupIds.map((e) => hourOf(e.ts)), hourOf(dupIds[1]!.ts) + DAY, hourOf(late.ts), strayHour]);
        const days = new Set([...hours].map(dayOf).concat(dayOf(actorDay)));
        expect(drifted.hoursRepaired).toBe(hours.size);
        expect(drifted.tenantStats[a.id]!.hours_repaired).toBe(hours.size);
        expect(drifted.tenantStats[b.id]).toEqual({ hours_checked: clean.tenantStats[b.id]!.hours_checked, hours_repaired: 0 });
        expect(drifted.daysRebuilt).toBe(days.size);
        expect(drifted.rebuilt).toEqual([...days].sort().map((day) => ({ tenantId: a.id, day })));
        expect(drifted.duplicatesRemoved).toBe(5);
      });

      it('leaves every rollup table, the raw events and their markers as a fresh computation from deduplicated raw gives them', async () => {
        const now = await snapshot();
        for (const key of Object.keys(expected)) expect(now[key], key).toEqual(expected[key]);
      });

      it('makes the planner give the same answers from rollups and from raw, equal to the model of the deduplicated data', async () => {
        for (const [t, evs] of [[a, [...eventsA, late]], [b, eventsB]] as [TestTenant, Ev[]][]) {
          const want = model(evs);
          const metrics = Object.keys(want) as (keyof typeof want)[];
          for (const [fromMs, toMs] of [[D, D + 4 * DAY], [D + 90 * 60_000, D + 4 * DAY - 30 * 60_000]] as const) {
            const q = windowQuestion({ tenantId: t.id, fromMs, toMs }, { metrics });
            const auto = await answer(engine.services.ch, q, { source: 'auto' });
            const raw = await answer(engine.services.ch, q, { source: 'raw' });
            expect(raw.rows).toEqual(auto.rows);
            if (fromMs === D) {
              expect(auto.sources).not.toContain('raw');
              expect(auto.rows[0]!.values).toEqual(want);
            }
          }
          const byDay = windowQuestion({ tenantId: t.id, fromMs: D, toMs: D + 4 * DAY }, { metrics: ['events', 'cost', 'latency_p95', 'unique_users'], granularity: 'day' });
          expect((await answer(engine.services.ch, byDay, { source: 'raw' })).rows).toEqual((await answer(engine.services.ch, byDay)).rows);
          const byModel = windowQuestion({ tenantId: t.id, fromMs: D, toMs: D + 4 * DAY }, { metrics: ['events', 'cost', 'latency_p50'], dimensions: ['model', 'project'], granularity: 'hour' });
          expect((await answer(engine.services.ch, byModel, { source: 'raw' })).rows).toEqual((await answer(engine.services.ch, byModel)).rows);
        }
      });

      it('repairs nothing on a second run and changes nothing (idempotent)', async () => {
        const again = await run();
        expect(again).toMatchObject({ hoursRepaired: 0, daysRebuilt: 0, duplicatesRemoved: 0, rebuilt: [] });
        expect(again.hoursChecked).toBe(clean.hoursChecked + (new Set(eventsA.map((e) => hourOf(e.ts))).has(hourOf(late.ts)) ? 0 : 1));
        expect(await snapshot()).toEqual(expected);
      });

      it('records runs for _status, per tenant, and as Prometheus gauges', async () => {
        const status = async (t: TestTenant) => {
          const r = await engine.request('GET', '/api/v1/analytics/_status', { key: t.read });
          expect(r.status).toBe(200);
          return ((await r.json()) as { reconciliation: unknown; freshness_sec: number }).reconciliation;
        };
        const { rows } = await engine.services.pg.pool.query<{ finished_at: Date; tenant_stats: Record<string, unknown> }>(
          'SELECT finished_at, tenant_stats FROM reconciliation_runs WHERE error IS NULL AND tenant_id IS NULL ORDER BY finished_at DESC LIMIT 1',
        );
        const last = rows[0]!;
        expect(await status(a)).toEqual({ last_run_at: last.finished_at.toISOString(), ...(last.tenant_stats[a.id] as object), lag_sec: expect.any(Number) });
        expect(await status(b)).toEqual({ last_run_at: expect.any(String), ...clean.tenantStats[b.id], lag_sec: expect.any(Number) });
        const runs = await engine.services.pg.pool.query<{ n: string; repaired: string }>(
          'SELECT count(*) AS n, sum(hours_repaired) AS repaired FROM reconciliation_runs WHERE error IS NULL AND finished_at IS NOT NULL',
        );
        expect(runs.rows[0]).toEqual({ n: '5', repaired: String(drifted.hoursRepaired) });
        const text = await engine.services.metrics.registry.metrics();
        expect(text).toMatch(/^reconciliation_last_hours_repaired 0$/m);
        const ts = Number(/^reconciliation_last_success_timestamp_seconds (\d+)$/m.exec(text)?.[1]);
        expect(Math.abs(ts - last.finished_at.getTime() / 1000)).toBeLessThan(2);
        expect(text).toMatch(/^reconciliation_last_duration_seconds [\d.e-]+$/m);
      });

      it('reports the time it takes per checked hour', () => {
        console.log(
          `reconciliation: clean run ${clean.hoursChecked} hours in ${clean.durationMs} ms (${(clean.durationMs / clean.hoursChecked).toFixed(1)} ms/hour); ` +
            `repair run ${drifted.hoursChecked} hours, ${drifted.daysRebuilt} days rebuilt in ${drifted.durationMs} ms`,
        );
        expect(clean.durationMs).toBeGreaterThan(0);
      });
    });
  });
}
