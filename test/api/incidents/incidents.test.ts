import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionIncident } from '../../../src/control/incidents/record.js';
import { WebhookStore } from '../../../src/control/notifications/store.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';
import { DAY, HOUR, dayD, deps, getJson, ingest, money, post, record, runEvents, spike } from './dataset.js';

type Row = Record<string, unknown>;
interface Err {
  error: { code: string; message: string; details?: Row };
}

const RUN_A = { ...money(0.750000001, 75.0000001), requests: 4, input_tokens: 301, output_tokens: 31, events: 3 };

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`anomalies, incidents, runs and the timeline (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    let budgetId: string;
    let adminKeyId: string;
    const D = dayD();
    const ids: { spike?: string; budget?: string; a1?: string; a2?: string; low?: string; reopened?: string; breach?: string } = {};

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
      await ingest(engine, a, runEvents(D));
      // Tenant b reuses the run id: none of it may show in a's answers.
      await ingest(engine, b, [{ event_id: 'b1', ts: new Date(D + HOUR).toISOString(), event_type: 'llm.call', model: 'gpt-4o', requests: 9, cost: '9', run_id: 'run-a', policy_id: 'pol-9' }]);
      const r = await post<{ id: string }>(engine, a.admin, '/api/v1/budgets', { name: 'alpha', scope_type: 'project', scope_value: 'alpha', period: 'month', metric: 'cost', limit: '1' });
      expect(r.status).toBe(201);
      budgetId = r.body.id;
      adminKeyId = (await engine.services.tenants.authenticate(a.admin))!.key.id;
      // An endpoint (never reached: nothing listens on port 9) so enqueued notifications are countable.
      await new WebhookStore(engine.services.pg.pool).createEndpoint(a.id, {
        url: 'http://127.0.0.1:9/hook',
        eventTypes: ['anomaly.detected', 'incident.opened', 'incident.acknowledged', 'incident.resolved'],
        enabled: true,
        secret: 'test-secret',
      });
    });
    afterAll(() => engine?.close());

    const deliveries = async () =>
      (await engine.services.pg.pool.query('SELECT event_type, count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 GROUP BY 1 ORDER BY 1', [a.id])).rows;
    const count = async (table: string) => (await engine.services.pg.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [a.id])).rows[0].n;

    it('recordAnomaly: a CRITICAL spike opens an incident, the same dedup_key again changes nothing, a HIGH one attaches', async () => {
      const first = await record(engine, spike(a.id, D));
      expect(first.created).toBe(true);
      expect(first.openedIncident).toBe(true);
      expect(first.incident).toMatchObject({ key: 'spike:model:gpt-4o', title: 'Spend spike on model gpt-4o', category: 'SPEND_SPIKE', severity: 'CRITICAL', status: 'open', sourceRunId: 'run-a' });
      expect(first.anomaly).toMatchObject({ incidentId: first.incident!.id, observed: '0.750000001', expected: '0.1', zScore: 7.5, impactUsd: '0.650000001', runId: 'run-a' });
      ids.spike = first.incident!.id;
      ids.a1 = first.anomaly.id;

      const again = await record(engine, spike(a.id, D, { severity: 'HIGH', observed: '99' }));
      expect(again).toMatchObject({ created: false, openedIncident: false });
      expect(again.anomaly).toEqual(first.anomaly);
      expect(again.incident!.id).toBe(ids.spike);
      expect(await count('anomalies')).toBe(1);
      expect(await count('incidents')).toBe(1);

      const attached = await record(
        engine,
        spike(a.id, D, { severity: 'HIGH', runId: 'run-b', windowStart: new Date(D + 6 * HOUR), windowEnd: new Date(D + 7 * HOUR), dedupKey: `spike:model:gpt-4o:${D + 6 * HOUR}` }),
      );
      expect(attached).toMatchObject({ created: true, openedIncident: false });
      expect(attached.anomaly.incidentId).toBe(ids.spike);
      // Stays CRITICAL (the worse), keeps its first run, its window grows to cover both.
      expect(attached.incident).toMatchObject({ id: ids.spike, severity: 'CRITICAL', sourceRunId: 'run-a', windowStart: new Date(D).toISOString(), windowEnd: new Date(D + 7 * HOUR).toISOString() });
      ids.a2 = attached.anomaly.id;
      expect(await count('incidents')).toBe(1);
    });

    it('recordAnomaly: LOW findings open nothing, every BUDGET_EXCEEDED opens an incident keyed by its budget', async () => {
      const low = await record(engine, {
        tenantId: a.id,
        type: 'BUDGET_THRESHOLD',
        severity: 'LOW',
        dimension: 'budget',
        dimensionValue: budgetId,
        budgetId,
        thresholdPct: 50,
        windowStart: new Date(D),
        windowEnd: new Date(D + DAY),
        observed: '0.5',
        expected: '1',
        dedupKey: `budget:${budgetId}:50`,
      });
      expect(low).toMatchObject({ created: true, openedIncident: false, incident: undefined });
      expect(low.anomaly).toMatchObject({ incidentId: null, thresholdPct: '50', budgetId });
      ids.low = low.anomaly.id;
      const breach = await record(engine, {
        tenantId: a.id,
        type: 'BUDGET_EXCEEDED',
        severity: 'MEDIUM',
        dimension: 'budget',
        dimensionValue: budgetId,
        budgetId,
        thresholdPct: 100,
        windowStart: new Date(D),
        windowEnd: new Date(D + 6 * HOUR),
        observed: '1.000000001',
        expected: '1',
        impactUsd: '0.000000001',
        dedupKey: `budget:${budgetId}:100`,
      });
      expect(breach.openedIncident).toBe(true);
      expect(breach.incident).toMatchObject({ key: `budget:${budgetId}`, category: 'BUDGET_EXCEEDED', severity: 'MEDIUM', sourceRunId: null, title: `Budget exceeded on budget ${budgetId}` });
      ids.budget = breach.incident!.id;
      ids.breach = breach.anomaly.id;

      // Timeline events and webhooks committed with them: 4 anomalies detected, 2 incidents opened.
      const { rows } = await engine.services.pg.pool.query('SELECT event_type, count(*)::int AS n FROM domain_events WHERE tenant_id = $1 AND source_domain IN ($2, $3) GROUP BY 1 ORDER BY 1', [a.id, 'anomalies', 'incidents']);
      expect(rows).toEqual([
        { event_type: 'anomaly.detected', n: 4 },
        { event_type: 'incident.opened', n: 2 },
      ]);
      expect(await deliveries()).toEqual([
        { event_type: 'anomaly.detected', n: 4 },
        { event_type: 'incident.opened', n: 2 },
      ]);
    });

    it('GET /anomalies filters and pages newest first; GET /anomalies/{id}', async () => {
      const all = await getJson<{ anomalies: Row[]; next_cursor: string | null }>(engine, a.read, '/api/v1/anomalies');
      expect(all.status).toBe(200);
      expect(all.body.anomalies.map((x) => x.id).sort()).toEqual([ids.a1, ids.a2, ids.low, ids.breach].sort());
      expect(all.body.next_cursor).toBeNull();
      const paged: Row[] = [];
      let cursor: string | null = null;
      do {
        const r: { status: number; body: { anomalies: Row[]; next_cursor: string | null } } = await getJson(engine, a.read, `/api/v1/anomalies?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...r.body.anomalies);
        cursor = r.body.next_cursor;
      } while (cursor);
      expect(paged).toEqual(all.body.anomalies);
      // Newest first: created_at never increases.
      const times = all.body.anomalies.map((x) => Date.parse(x.created_at as string));
      expect([...times].sort((x, y) => y - x)).toEqual(times);

      const spikes = await getJson<{ anomalies: Row[] }>(engine, a.read, '/api/v1/anomalies?type=SPEND_SPIKE');
      expect(spikes.body.anomalies.map((x) => x.id).sort()).toEqual([ids.a1, ids.a2].sort());
      const crit = await getJson<{ anomalies: Row[] }>(engine, a.read, '/api/v1/anomalies?severity=CRITICAL');
      expect(crit.body.anomalies.map((x) => x.id)).toEqual([ids.a1]);
      const future = await getJson<{ anomalies: Row[] }>(engine, a.read, `/api/v1/anomalies?from=${new Date(Date.now() + HOUR).toISOString()}`);
      expect(future.body.anomalies).toEqual([]);

      const one = await getJson<Row>(engine, a.read, `/api/v1/anomalies/${ids.a1}`);
      expect(one.body).toEqual({
        id: ids.a1,
        type: 'SPEND_SPIKE',
        severity: 'CRITICAL',
        dimension: 'model',
        dimension_value: 'gpt-4o',
        window_start: new Date(D).toISOString(),
        window_end: new Date(D + 6 * HOUR).toISOString(),
        observed: '0.750000001',
        expected: '0.1',
        z_score: 7.5,
        impact_usd: '0.650000001',
        budget_id: null,
        threshold_pct: null,
        run_id: 'run-a',
        dedup_key: `spike:model:gpt-4o:${D}`,
        incident_id: ids.spike,
        created_at: one.body.created_at,
      });

      expect((await getJson<Err>(engine, a.read, '/api/v1/anomalies?cursor=nope')).body.error.code).toBe('INVALID_CURSOR');
      expect((await getJson<Err>(engine, a.read, '/api/v1/anomalies?severity=URGENT')).status).toBe(400);
      expect((await getJson<Err>(engine, a.read, '/api/v1/anomalies/not-a-uuid')).body.error.code).toBe('ANOMALY_NOT_FOUND');
    });

    it('GET /incidents with status and severity filters; GET /incidents/{id}', async () => {
      const all = await getJson<{ incidents: Row[] }>(engine, a.read, '/api/v1/incidents');
      expect(all.body.incidents.map((x) => x.id)).toEqual([ids.budget, ids.spike]);
      expect((await getJson<{ incidents: Row[] }>(engine, a.read, '/api/v1/incidents?severity=MEDIUM')).body.incidents.map((x) => x.id)).toEqual([ids.budget]);
      expect((await getJson<{ incidents: Row[] }>(engine, a.read, '/api/v1/incidents?status=resolved')).body.incidents).toEqual([]);
      const one = await getJson<Row>(engine, a.read, `/api/v1/incidents/${ids.spike}`);
      expect(one.body).toMatchObject({ id: ids.spike, status: 'open', acknowledged_at: null, resolved_at: null, source_run_id: 'run-a', dimension: 'model', dimension_value: 'gpt-4o' });
    });

    it('GET /runs/{run_id}/cost|policies|events|incidents: exact, and only the tenant’s own events', async () => {
      expect((await getJson(engine, a.read, '/api/v1/runs/run-a/cost')).body).toEqual({ run_id: 'run-a', ...RUN_A });
      expect((await getJson(engine, b.read, '/api/v1/runs/run-a/cost')).body).toEqual({ run_id: 'run-a', ...money(9, 900), requests: 9, input_tokens: 0, output_tokens: 0, events: 1 });
      for (const part of ['cost', 'incidents', 'events', 'policies']) {
        const r = await getJson<Err>(engine, a.read, `/api/v1/runs/nope/${part}`);
        expect(r.status, part).toBe(404);
        expect(r.body.error, part).toMatchObject({ code: 'RUN_NOT_FOUND', details: { field: 'run_id' } });
      }

      expect((await getJson(engine, a.read, '/api/v1/runs/run-a/policies')).body).toEqual({
        run_id: 'run-a',
        policies: [
          { policy_id: 'pol-1', ...money(0.5, 50), requests: 1, input_tokens: 100, output_tokens: 10 },
          { policy_id: 'pol-2', ...money(0.25, 25), requests: 2, input_tokens: 200, output_tokens: 20 },
        ],
        no_policy: { ...money(0.000000001, 0.0000001), requests: 1, input_tokens: 1, output_tokens: 1 },
      });

      const ev = await getJson<{ run_id: string; events: Row[]; next_cursor: string | null }>(engine, a.read, '/api/v1/runs/run-a/events');
      expect(ev.body.events.map((e) => [e.event_id, e.cost_usd, e.policy_id])).toEqual([
        ['r3', '0.000000001', ''],
        ['r2', '0.25', 'pol-2'],
        ['r1', '0.50', 'pol-1'],
      ]);
      const p1 = await getJson<{ events: Row[]; next_cursor: string }>(engine, a.read, '/api/v1/runs/run-a/events?limit=2');
      const p2 = await getJson<{ events: Row[]; next_cursor: string | null }>(engine, a.read, `/api/v1/runs/run-a/events?limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`);
      expect([...p1.body.events, ...p2.body.events].map((e) => e.event_id)).toEqual(['r3', 'r2', 'r1']);
      expect((await getJson<{ events: Row[] }>(engine, a.read, '/api/v1/runs/run-a/events?event_type=tool.call')).body.events.map((e) => e.event_id)).toEqual(['r3']);
      expect((await getJson<{ events: Row[] }>(engine, b.read, '/api/v1/runs/run-a/events')).body.events.map((e) => e.event_id)).toEqual(['b1']);

      // run-a is the spike's source run; run-b is named by the anomaly that attached to it.
      expect((await getJson<{ incidents: Row[] }>(engine, a.read, '/api/v1/runs/run-a/incidents')).body.incidents.map((x) => x.id)).toEqual([ids.spike]);
      expect((await getJson<{ incidents: Row[] }>(engine, a.read, '/api/v1/runs/run-b/incidents')).body.incidents.map((x) => x.id)).toEqual([ids.spike]);
      expect((await getJson<{ incidents: Row[] }>(engine, b.read, '/api/v1/runs/run-a/incidents')).body).toEqual({ run_id: 'run-a', incidents: [] });
      // Tenant b has no run-b: a's events and anomalies do not make it known to b.
      expect((await getJson<Err>(engine, b.read, '/api/v1/runs/run-b/cost')).body.error.code).toBe('RUN_NOT_FOUND');
    });

    it('GET /incidents/{id}/source-run and /cost-impact: the run’s cost and the window’s cost on the incident’s scope', async () => {
      expect((await getJson(engine, a.read, `/api/v1/incidents/${ids.spike}/source-run`)).body).toEqual({
        incident_id: ids.spike,
        run_id: 'run-a',
        cost: RUN_A,
        links: { cost: '/api/v1/runs/run-a/cost', events: '/api/v1/runs/run-a/events', incidents: '/api/v1/runs/run-a/incidents', policies: '/api/v1/runs/run-a/policies' },
      });
      expect((await getJson(engine, a.read, `/api/v1/incidents/${ids.budget}/source-run`)).body).toEqual({ incident_id: ids.budget, run_id: null, cost: null, links: null });

      // Spike: gpt-4o events in [D, D+7h) = r1 + r2 + r3 + r5.
      expect((await getJson(engine, a.read, `/api/v1/incidents/${ids.spike}/cost-impact`)).body).toEqual({
        incident_id: ids.spike,
        source_run: { run_id: 'run-a', ...RUN_A },
        window: { from: new Date(D).toISOString(), to: new Date(D + 7 * HOUR).toISOString(), dimension: 'model', dimension_value: 'gpt-4o', ...money(2.750000001, 275.0000001), requests: 5, input_tokens: 311, output_tokens: 31, events: 4 },
      });
      // Budget on project alpha: r1 + r2 + r3 in [D, D+6h) (r5 is project gamma).
      expect((await getJson(engine, a.read, `/api/v1/incidents/${ids.budget}/cost-impact`)).body).toEqual({
        incident_id: ids.budget,
        source_run: null,
        window: { from: new Date(D).toISOString(), to: new Date(D + 6 * HOUR).toISOString(), dimension: 'project', dimension_value: 'alpha', ...RUN_A },
      });
    });

    it('GET /analytics/costs?incident_id=: the source run’s costs, or the window on the scope; unknown → 404', async () => {
      const run = await getJson<Row & { totals: Row; rows: Row[] }>(engine, a.read, `/api/v1/analytics/costs?incident_id=${ids.spike}`);
      expect(run.status).toBe(200);
      expect(run.body.incident).toEqual({ id: ids.spike, run_id: 'run-a', dimension: 'run_id', dimension_value: 'run-a' });
      expect(run.body.totals).toEqual({ ...money(0.750000001, 75.0000001), requests: 4, input_tokens: 301, output_tokens: 31 });
      expect(run.body.rows.map((r) => [r.model, r.spend_usd])).toEqual([['gpt-4o', 0.750000001]]);
      const win = await getJson<Row & { totals: Row; window: Row }>(engine, a.read, `/api/v1/analytics/costs?incident_id=${ids.budget}&group_by=project`);
      expect(win.body.window).toEqual({ from: new Date(D).toISOString().replace('.000Z', 'Z'), to: new Date(D + 6 * HOUR).toISOString().replace('.000Z', 'Z') });
      expect(win.body.totals).toEqual({ ...money(0.750000001, 75.0000001), requests: 4, input_tokens: 301, output_tokens: 31 });
      const other = await getJson<Err>(engine, b.read, `/api/v1/analytics/costs?incident_id=${ids.spike}`);
      expect(other.status).toBe(404);
      expect(other.body.error).toMatchObject({ code: 'INCIDENT_NOT_FOUND', details: { field: 'incident_id' } });
    });

    it('acknowledge → resolve with who and when; illegal transitions → 409; admin only', async () => {
      const who = expect.stringContaining(adminKeyId);
      expect((await post<Err>(engine, a.read, `/api/v1/incidents/${ids.spike}/acknowledge`)).status).toBe(403);
      const ack = await post<Row>(engine, a.admin, `/api/v1/incidents/${ids.spike}/acknowledge`);
      expect(ack.status).toBe(200);
      expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledged_by: who, resolved_at: null });
      const again = await post<Err>(engine, a.admin, `/api/v1/incidents/${ids.spike}/acknowledge`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('INCIDENT_ALREADY_ACKNOWLEDGED');

      const res = await post<Row>(engine, a.admin, `/api/v1/incidents/${ids.spike}/resolve`, { note: 'rate limit on run-a' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'resolved', resolved_by: who, resolution_note: 'rate limit on run-a', acknowledged_at: ack.body.acknowledged_at });
      expect(Date.parse(res.body.resolved_at as string)).toBeGreaterThanOrEqual(Date.parse(ack.body.acknowledged_at as string));
      for (const step of ['resolve', 'acknowledge']) {
        const r = await post<Err>(engine, a.admin, `/api/v1/incidents/${ids.spike}/${step}`);
        expect(r.status, step).toBe(409);
        expect(r.body.error.code, step).toBe('INCIDENT_ALREADY_RESOLVED');
      }
      // open → resolved directly, without a body.
      const direct = await engine.request('POST', `/api/v1/incidents/${ids.budget}/resolve`, { key: a.admin });
      expect(direct.status).toBe(200);
      expect(await direct.json()).toMatchObject({ status: 'resolved', acknowledged_at: null, resolution_note: null });
      expect(await deliveries()).toEqual([
        { event_type: 'anomaly.detected', n: 4 },
        { event_type: 'incident.acknowledged', n: 1 },
        { event_type: 'incident.opened', n: 2 },
        { event_type: 'incident.resolved', n: 2 },
      ]);
    });

    it('after resolution the same key opens a new incident; /related and /timeline', async () => {
      const next = await record(engine, spike(a.id, D, { runId: null, windowStart: new Date(D + DAY), windowEnd: new Date(D + DAY + HOUR), dedupKey: 'later-spike' }));
      expect(next.openedIncident).toBe(true);
      expect(next.incident!.id).not.toBe(ids.spike);
      ids.reopened = next.incident!.id;

      const rel = await getJson<{ related: { incident: Row; reasons: string[] }[] }>(engine, a.read, `/api/v1/incidents/${ids.spike}/related`);
      // The budget incident was open while the spike was; the new one shares its model but opened after it was resolved.
      expect(rel.body.related.map((r) => [r.incident.id, r.reasons])).toEqual([
        [ids.reopened, ['same_dimension']],
        [ids.budget, ['overlapping_time']],
      ]);

      const tl = await getJson<{ events: Row[] }>(engine, a.read, `/api/v1/incidents/${ids.spike}/timeline`);
      expect(tl.body.events.map((e) => [e.event_type, e.entity_id])).toEqual([
        ['anomaly.detected', ids.a1],
        ['incident.opened', ids.spike],
        ['anomaly.detected', ids.a2],
        ['incident.acknowledged', ids.spike],
        ['incident.resolved', ids.spike],
      ]);
      expect(tl.body.events[4]).toMatchObject({ source_domain: 'incidents', related: { incident_id: ids.spike, run_id: 'run-a' }, data: { note: 'rate limit on run-a' } });
    });

    it('GET /timeline: the tenant’s domain events newest first, keyset-paginated, filterable by type and time', async () => {
      const all = await getJson<{ events: Row[]; next_cursor: string | null }>(engine, a.read, '/api/v1/timeline');
      // budget.created, 5 anomalies detected, 3 incidents opened, 1 acknowledged, 2 resolved.
      expect(all.body.events).toHaveLength(12);
      expect(all.body.events.at(-1)).toMatchObject({ event_type: 'budget.created', entity_id: budgetId });
      const ts = all.body.events.map((e) => Date.parse(e.ts as string));
      expect([...ts].sort((x, y) => y - x)).toEqual(ts);
      const paged: Row[] = [];
      let cursor: string | null = null;
      do {
        const r: { body: { events: Row[]; next_cursor: string | null } } = await getJson(engine, a.read, `/api/v1/timeline?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...r.body.events);
        cursor = r.body.next_cursor;
      } while (cursor);
      expect(paged).toEqual(all.body.events);
      const opened = await getJson<{ events: Row[] }>(engine, a.read, '/api/v1/timeline?event_type=incident.opened');
      expect(opened.body.events.map((e) => e.entity_id)).toEqual([ids.reopened, ids.budget, ids.spike]);
      // from/to bound ts: [from, to) of the newest event's millisecond holds it (and only events of that millisecond).
      const newest = Date.parse(all.body.events[0]!.ts as string);
      const late = await getJson<{ events: Row[] }>(engine, a.read, `/api/v1/timeline?from=${new Date(newest).toISOString()}&to=${new Date(newest + 1).toISOString()}`);
      expect(late.body.events.map((e) => e.id)).toEqual(all.body.events.filter((e) => Date.parse(e.ts as string) === newest).map((e) => e.id));
      expect((await getJson<{ events: Row[] }>(engine, a.read, `/api/v1/timeline?from=${new Date(newest + 1).toISOString()}`)).body.events).toEqual([]);
      expect((await getJson<{ events: Row[] }>(engine, b.read, '/api/v1/timeline')).body.events).toEqual([]);
      expect((await getJson<Err>(engine, a.read, '/api/v1/timeline?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).body.error.code).toBe('INVALID_DATE_RANGE');
    });

    it('GET /reports/mttr: count, mean, median, p95 of incidents resolved in [from, to), per severity', async () => {
      const c = await engine.newTenant();
      const T = D + 2 * DAY;
      const open = async (n: number, severity: 'HIGH' | 'CRITICAL', openedMs: number, resolvedMs: number | null) => {
        const r = await record(engine, { ...spike(c.id, D, { severity, runId: null, dimensionValue: `m${n}`, dedupKey: `mttr-${n}` }) }, new Date(openedMs));
        if (resolvedMs !== null) await transitionIncident(deps(engine), c.id, r.incident!.id, 'resolved', 'test', { at: new Date(resolvedMs) });
      };
      await open(1, 'HIGH', T, T + 60_000);
      await open(2, 'HIGH', T + HOUR, T + HOUR + 120_000);
      await open(3, 'HIGH', T + 2 * HOUR, T + 2 * HOUR + 300_000);
      await open(4, 'CRITICAL', T, T + HOUR);
      await open(5, 'CRITICAL', T, T + 3 * DAY); // resolved after the window
      await open(6, 'HIGH', T, null); // never resolved
      const q = `from=${new Date(T).toISOString()}&to=${new Date(T + DAY).toISOString()}`;
      const r = await getJson<Row>(engine, c.read, `/api/v1/reports/mttr?${q}`);
      expect(r.status).toBe(200);
      const none = { count: 0, mean_sec: null, median_sec: null, p95_sec: null };
      expect(r.body).toEqual({
        window: { from: new Date(T).toISOString(), to: new Date(T + DAY).toISOString() },
        count: 4,
        mean_sec: 1020,
        median_sec: 210,
        p95_sec: 3600,
        by_severity: { LOW: none, MEDIUM: none, HIGH: { count: 3, mean_sec: 160, median_sec: 120, p95_sec: 300 }, CRITICAL: { count: 1, mean_sec: 3600, median_sec: 3600, p95_sec: 3600 } },
      });
      expect((await getJson<Row>(engine, b.read, `/api/v1/reports/mttr?${q}`)).body).toMatchObject({ count: 0, mean_sec: null });
      expect((await getJson<Err>(engine, c.read, '/api/v1/reports/mttr?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z')).body.error.code).toBe('INVALID_DATE_RANGE');
    });

    it('concurrent findings for one key open exactly one incident, and the same finding twice at once is one anomaly', async () => {
      const t = await engine.newTenant();
      const results = await Promise.all(
        [0, 1, 2, 3, 4, 4].map((i) => record(engine, spike(t.id, D, { runId: null, dimensionValue: 'race', dedupKey: `race-${i}` }))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(5);
      expect(results.filter((r) => r.openedIncident)).toHaveLength(1);
      expect(new Set(results.map((r) => r.incident!.id)).size).toBe(1);
      const { rows } = await engine.services.pg.pool.query('SELECT count(*)::int AS n, count(DISTINCT incident_id)::int AS i FROM anomalies WHERE tenant_id = $1', [t.id]);
      expect(rows[0]).toEqual({ n: 5, i: 1 });
    });

    it('a run only an anomaly names is known: zero cost, its (no) incidents; to another tenant it is 404', async () => {
      await record(engine, spike(a.id, D, { severity: 'LOW', runId: 'run-ghost', dedupKey: 'ghost' }));
      expect((await getJson(engine, a.read, '/api/v1/runs/run-ghost/cost')).body).toEqual({ run_id: 'run-ghost', ...money(0, 0), requests: 0, input_tokens: 0, output_tokens: 0, events: 0 });
      expect((await getJson(engine, a.read, '/api/v1/runs/run-ghost/incidents')).body).toEqual({ run_id: 'run-ghost', incidents: [] });
      expect((await getJson(engine, a.read, '/api/v1/runs/run-ghost/events')).body).toEqual({ run_id: 'run-ghost', events: [], next_cursor: null });
      expect((await getJson<Err>(engine, b.read, '/api/v1/runs/run-ghost/cost')).status).toBe(404);
    });

    it('another tenant’s ids are 404, keys without the scope 403, no key 401', async () => {
      const reads = [
        `/api/v1/anomalies/${ids.a1}`,
        `/api/v1/incidents/${ids.spike}`,
        `/api/v1/incidents/${ids.spike}/source-run`,
        `/api/v1/incidents/${ids.spike}/cost-impact`,
        `/api/v1/incidents/${ids.spike}/related`,
        `/api/v1/incidents/${ids.spike}/timeline`,
      ];
      for (const path of reads) {
        const r = await getJson<Err>(engine, b.read, path);
        expect(r.status, path).toBe(404);
        expect(r.body.error.code, path).toBe(path.startsWith('/api/v1/anomalies') ? 'ANOMALY_NOT_FOUND' : 'INCIDENT_NOT_FOUND');
      }
      for (const step of ['acknowledge', 'resolve']) {
        const r = await post<Err>(engine, b.admin, `/api/v1/incidents/${ids.reopened}/${step}`);
        expect(r.status, step).toBe(404);
        expect(r.body.error.code).toBe('INCIDENT_NOT_FOUND');
      }
      expect((await getJson<Row>(engine, a.read, `/api/v1/incidents/${ids.reopened}`)).body.status).toBe('open');
      const gets = [...reads, '/api/v1/anomalies', '/api/v1/incidents', '/api/v1/timeline', '/api/v1/reports/mttr', '/api/v1/runs/run-a/cost', '/api/v1/runs/run-a/incidents', '/api/v1/runs/run-a/events', '/api/v1/runs/run-a/policies'];
      for (const path of gets) {
        expect((await engine.request('GET', path, { key: a.ingest })).status, path).toBe(403);
        expect((await engine.request('GET', path)).status, path).toBe(401);
      }
      for (const step of ['acknowledge', 'resolve']) {
        expect((await engine.request('POST', `/api/v1/incidents/${ids.reopened}/${step}`, { key: a.ingest })).status).toBe(403);
        expect((await engine.request('POST', `/api/v1/incidents/${ids.reopened}/${step}`)).status).toBe(401);
      }
    });
  });
}
