import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
// Three whole UTC days a few days back: day 1 has no events (gap filling), the window is [D0, D0 + 3 d).
const D0 = Math.floor(Date.now() / DAY) * DAY - 5 * DAY;
const iso = (ms: number) => new Date(ms).toISOString();
const date = (ms: number) => iso(ms).slice(0, 10);
const WINDOW = { from: iso(D0), to: iso(D0 + 3 * DAY) };
const qs = (q: Record<string, string> = WINDOW) => new URLSearchParams(q).toString();

/**
 * Day 0: four workflow runs (runs r1, r2, r3, r1 again; one failed) and two priced LLM calls
 * (gpt-4o, 1000 in / 500 out = 0.0075 USD each, one in run r1). Day 2: two workflow runs (r4,
 * r5; one failed) and three api calls of 10 requests each. Two workflow runs just outside the
 * half-open window must not count.
 */
function datasetA() {
  const wf = (i: number, at: number, run: string, success: boolean, latency: number, cost: string) => ({
    event_id: `wf-${i}`, ts: iso(at), event_type: 'workflow.run', run_id: run, success, latency_ms: latency, cost,
    feature: 'feature-A-secret', user_id: 'user-A-secret',
  });
  return [
    wf(1, D0 + 1 * HOUR, 'r1', true, 10, '0.50'),
    wf(2, D0 + 2 * HOUR, 'r2', true, 20, '0.50'),
    wf(3, D0 + 3 * HOUR, 'r3', false, 30, '0.50'),
    wf(4, D0 + 4 * HOUR, 'r1', true, 40, '0.50'),
    { event_id: 'llm-1', ts: iso(D0 + 5 * HOUR), event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, latency_ms: 50, run_id: 'r1' },
    { event_id: 'llm-2', ts: iso(D0 + 6 * HOUR), event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, latency_ms: 61 },
    wf(5, D0 + 2 * DAY + HOUR, 'r4', true, 80, '1.25'),
    wf(6, D0 + 2 * DAY + 2 * HOUR, 'r5', false, 90, '1.25'),
    ...[1, 2, 3].map((i) => ({ event_id: `api-${i}`, ts: iso(D0 + 2 * DAY + 3 * HOUR + i), event_type: 'api.call', requests: 10, endpoint: '/v1/a-secret' })),
    wf(7, D0 - 1, 'r-before', false, 99, '7.00'),
    wf(8, D0 + 3 * DAY, 'r-after', false, 99, '7.00'),
  ];
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`reports (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    let free: TestTenant;

    beforeAll(async () => {
      // Analytics switched off: the reports must answer anyway (they are not the analytics domain).
      engine = await startTestEngine({ pg: mode, env: { ANALYTICS_ENABLED: 'false' } });
      a = await engine.newTenant();
      b = await engine.newTenant();
      free = await engine.newTenant(undefined, 'free');
      const r = await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: 'key-a' }, datasetA());
      expect(r.rejected).toEqual([]);
      expect(r.accepted).toBe(13);
      const rb = await engine.services.ingest.ingest({ tenantId: b.id, apiKeyId: 'key-b' }, [
        { event_id: 'b-1', ts: iso(D0 + HOUR), event_type: 'b.only', requests: 7, cost: '3.00' },
      ]);
      expect(rb.accepted).toBe(1);
      await engine.services.pg.pool.query(
        `INSERT INTO tenant_unit_rates (tenant_id, event_type, usd_per_event) VALUES ($1, 'workflow.run', 0.01), ($1, 'api.call', 0.000000001), ($2, 'workflow.run', 5)`,
        [a.id, b.id],
      );
    });
    afterAll(() => engine?.close());

    const get = async (path: string, key: string) => {
      const r = await engine.request('GET', path, { key });
      const text = await r.text();
      expect(r.status, text).toBe(200);
      return { r, text };
    };
    const json = async <T = Record<string, unknown>>(path: string, key: string) => JSON.parse((await get(path, key)).text) as T;
    const expectError = async (r: Response, status: number, code: string) => {
      const body = (await r.json()) as ErrorBody;
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(body.error.code).toBe(code);
      return body.error;
    };

    const overviewA = {
      tenant_id: '',
      window: WINDOW,
      total_runs: 5,
      total_workflows: 6,
      failed_workflows: 2,
      failure_rate_percent: 33.33,
      total_events: 11,
      failed_events: 2,
      event_failure_rate_percent: 18.18,
      // daily p95s: day 0 → 61, day 1 has no samples, day 2 → 90
      avg_p95_latency_ms: 75.5,
      // 38 requests / 259 200 s
      avg_throughput_rps: 0.000147,
      total_requests: 38,
    };

    it('overview: runs, workflows, failure rate, mean daily p95, throughput — exact', async () => {
      expect(engine.services.config.analytics.enabled).toBe(false);
      expect(await json(`/api/v1/reports/overview?${qs()}`, a.read)).toEqual({ ...overviewA, tenant_id: a.id });
    });

    it('trends: one point per UTC day, the empty day gap-filled', async () => {
      expect(await json(`/api/v1/reports/trends?${qs()}`, a.read)).toEqual({
        tenant_id: a.id,
        window: WINDOW,
        granularity: 'day',
        tz: 'UTC',
        series: [
          { date: date(D0), events: 6, requests: 6, failures: 1, failure_rate_percent: 16.67, cost_usd: '2.015', p95_latency_ms: 61 },
          { date: date(D0 + DAY), events: 0, requests: 0, failures: 0, failure_rate_percent: null, cost_usd: '0.00', p95_latency_ms: null },
          { date: date(D0 + 2 * DAY), events: 5, requests: 32, failures: 1, failure_rate_percent: 20, cost_usd: '2.50', p95_latency_ms: 90 },
        ],
      });
    });

    const costsA = () => ({
      tenant_id: a.id,
      window: WINDOW,
      services: [
        { service_type: 'workflow.run', events: 6, requests: 6, cost_usd: '4.50', unit_rate_usd: '0.01', estimated_cost_usd: '0.06' },
        { service_type: 'llm.call', events: 2, requests: 2, cost_usd: '0.015', unit_rate_usd: null, estimated_cost_usd: null },
        { service_type: 'api.call', events: 3, requests: 30, cost_usd: '0.00', unit_rate_usd: '0.000000001', estimated_cost_usd: '0.000000003' },
      ],
      total: { events: 11, requests: 38, cost_usd: '4.515', estimated_cost_usd: '0.060000003' },
      // 4.515 USD / 72 h = 0.0627083333…; 0.060000003 / 72 = 0.000833333375
      cost_per_hour_usd: '0.062708333',
      estimated_cost_per_hour_usd: '0.000833333',
    });

    it("costs: by service type, metered cost and the tenant's unit rates, exact decimals", async () => {
      expect(await json(`/api/v1/reports/costs?${qs()}`, a.read)).toEqual(costsA());
    });

    it('costs without any unit rate: estimates are null', async () => {
      const c = await json<{ services: unknown[]; total: unknown; estimated_cost_per_hour_usd: unknown }>(`/api/v1/reports/costs?${qs()}`, free.read);
      expect(c.services).toEqual([]);
      expect(c.total).toEqual({ events: 0, requests: 0, cost_usd: '0.00', estimated_cost_usd: null });
      expect(c.estimated_cost_per_hour_usd).toBeNull();
    });

    it("tenant/{id}: the key's own tenant gets overview, costs and trends together", async () => {
      const report = await json<Record<string, unknown>>(`/api/v1/reports/tenant/${a.id}?${qs()}`, a.read);
      const trends = await json(`/api/v1/reports/trends?${qs()}`, a.read);
      expect(report).toEqual({
        tenant_id: a.id,
        tenant_name: a.name,
        window: WINDOW,
        overview: { ...overviewA, tenant_id: a.id },
        costs: costsA(),
        trends,
      });
      // seed 001's trends path by id answers the same
      expect(await json(`/api/v1/reports/trends/${a.id}?${qs()}`, a.read)).toEqual(trends);
    });

    it("tenant/{id} and trends/{id}: another tenant's id and unknown ids are the same 404", async () => {
      for (const path of ['tenant', 'trends']) {
        const other = await expectError(await engine.request('GET', `/api/v1/reports/${path}/${b.id}`, { key: a.read }), 404, 'NOT_FOUND');
        const unknown = await expectError(await engine.request('GET', `/api/v1/reports/${path}/00000000-0000-4000-8000-000000000000`, { key: a.read }), 404, 'NOT_FOUND');
        await expectError(await engine.request('GET', `/api/v1/reports/${path}/not-a-uuid`, { key: a.read }), 404, 'NOT_FOUND');
        expect(other.message.replace(b.id, 'X')).toBe(unknown.message.replace('00000000-0000-4000-8000-000000000000', 'X'));
      }
    });

    it("another tenant's keys see only their own data", async () => {
      const o = await json<typeof overviewA>(`/api/v1/reports/overview?${qs()}`, b.admin);
      expect(o).toMatchObject({ tenant_id: b.id, total_events: 1, total_requests: 7, total_workflows: 0, failure_rate_percent: null, total_runs: 0 });
      const c = await json<{ services: { service_type: string }[] }>(`/api/v1/reports/costs?${qs()}`, b.read);
      expect(c.services).toEqual([{ service_type: 'b.only', events: 1, requests: 7, cost_usd: '3.00', unit_rate_usd: null, estimated_cost_usd: null }]);
      const csv = (await get(`/api/v1/export/csv/tenant?${qs()}`, b.read)).text;
      for (const secret of ['workflow.run,', 'llm.call', 'api.call', a.id, a.name]) expect(csv).not.toContain(secret);
    });

    it('defaults to the last 30 days', async () => {
      const before = Date.now();
      const o = await json<{ window: { from: string; to: string }; total_events: number }>('/api/v1/reports/overview', a.read);
      const to = Date.parse(o.window.to);
      expect(to).toBeGreaterThanOrEqual(before);
      expect(to - Date.parse(o.window.from)).toBe(30 * DAY);
      expect(o.total_events).toBe(13); // the two events just outside the 3-day window are within 30 days
      const onlyTo = await json<{ window: { from: string } }>(`/api/v1/reports/trends?${qs({ to: WINDOW.to })}`, a.read);
      expect(onlyTo.window.from).toBe(iso(D0 + 3 * DAY - 30 * DAY));
    });

    it('refuses bad windows with a 400 naming the field', async () => {
      const e1 = await expectError(await engine.request('GET', `/api/v1/reports/overview?${qs({ from: WINDOW.to, to: WINDOW.from })}`, { key: a.read }), 400, 'INVALID_DATE_RANGE');
      expect(e1.details).toEqual({ field: 'from' });
      const e2 = await expectError(await engine.request('GET', `/api/v1/reports/costs?${qs({ from: '2020-01-01T00:00:00Z', to: WINDOW.to })}`, { key: a.read }), 400, 'INVALID_DATE_RANGE');
      expect(e2.details).toEqual({ field: 'to', max_days: 400 });
      const e3 = await expectError(await engine.request('GET', '/api/v1/reports/trends?from=yesterday', { key: a.read }), 400, 'INVALID_REQUEST');
      expect(e3.message).toContain('"from"');
    });

    it('needs a read key: 401 without one, 403 for an ingest-only key', async () => {
      for (const path of ['overview', 'trends', 'costs', `tenant/${a.id}`, `trends/${a.id}`]) {
        await expectError(await engine.request('GET', `/api/v1/reports/${path}`), 401, 'UNAUTHORIZED');
        await expectError(await engine.request('GET', `/api/v1/reports/${path}`, { key: a.ingest }), 403, 'FORBIDDEN');
      }
      await expectError(await engine.request('GET', '/api/v1/export/csv/overview'), 401, 'UNAUTHORIZED');
      await expectError(await engine.request('GET', '/api/v1/export/csv/overview', { key: a.ingest }), 403, 'FORBIDDEN');
    });

    it('is not behind the analytics flag or the free-tier gate', async () => {
      expect((await engine.request('POST', '/api/v1/analytics/query', { key: a.read, body: {} })).status).toBe(404);
      const o = await json<{ tenant_id: string }>(`/api/v1/reports/overview?${qs()}`, free.read);
      expect(o.tenant_id).toBe(free.id);
    });

    it('caches a report for the tenant: the second identical request does not reach ClickHouse', async () => {
      const path = `/api/v1/reports/costs?${qs({ from: WINDOW.from, to: iso(D0 + DAY) })}`;
      const first = await get(path, a.read);
      expect(first.r.headers.get('x-cache')).toBe('MISS');
      const queries = engine.services.ch.stats.queries;
      const second = await get(path, a.read);
      expect(second.r.headers.get('x-cache')).toBe('HIT');
      expect(engine.services.ch.stats.queries).toBe(queries);
      expect(second.text).toBe(first.text);
      // the same query with tenant b's key is b's own entry
      const other = await get(path, b.read);
      expect(other.r.headers.get('x-cache')).toBe('MISS');
      expect(JSON.parse(other.text).tenant_id).toBe(b.id);
    });

    it('observes the query duration per report endpoint', async () => {
      const text = await engine.services.metrics.registry.getSingleMetricAsString('analytics_query_duration_seconds');
      for (const endpoint of ['reports.overview', 'reports.trends', 'reports.costs', 'reports.tenant']) {
        expect(text).toMatch(new RegExp(`analytics_query_duration_seconds_count\\{endpoint="${endpoint.replace('.', '\\.')}",source="[a-z_+]+"\\} [1-9]`));
      }
    });

    describe('GET /api/v1/export/csv/{type}', () => {
      const csv = async (type: string, key = a.read) => {
        const { r, text } = await get(`/api/v1/export/csv/${type}?${qs()}`, key);
        expect(r.headers.get('content-disposition')).toBe(`attachment; filename=${type}_report.csv`);
        expect(r.headers.get('content-type')).toMatch(/^text\/csv(;|$)/);
        return text;
      };

      it("overview: seed 001's header byte for byte and the tenant's row", async () => {
        expect(await csv('overview')).toBe(`tenant_id,tenant_name,total_workflows,failure_rate_percent\n${a.id},${a.name},6,33.33\n`);
      });

      it('trends: one row per day, nulls as empty cells', async () => {
        expect(await csv('trends')).toBe(
          'date,events,requests,failures,failure_rate_percent,cost_usd,p95_latency_ms\n' +
            `${date(D0)},6,6,1,16.67,2.015,61\n` +
            `${date(D0 + DAY)},0,0,0,,0.00,\n` +
            `${date(D0 + 2 * DAY)},5,32,1,20,2.50,90\n`,
        );
      });

      it('costs: one row per service type', async () => {
        expect(await csv('costs')).toBe(
          'service_type,events,requests,cost_usd,unit_rate_usd,estimated_cost_usd\n' +
            'workflow.run,6,6,4.50,0.01,0.06\n' +
            'llm.call,2,2,0.015,,\n' +
            'api.call,3,30,0.00,0.000000001,0.000000003\n',
        );
      });

      it('tenant: the whole report as section,date,service_type,metric,value rows', async () => {
        const lines = (await csv('tenant')).trimEnd().split('\n');
        expect(lines[0]).toBe('section,date,service_type,metric,value');
        expect(lines).toEqual(
          expect.arrayContaining([
            `report,,,tenant_id,${a.id}`,
            `report,,,from,${WINDOW.from}`,
            'overview,,,total_runs,5',
            'overview,,,failure_rate_percent,33.33',
            'overview,,,avg_p95_latency_ms,75.5',
            'costs,,workflow.run,estimated_cost_usd,0.06',
            'costs,,llm.call,unit_rate_usd,',
            'costs,,,total_cost_usd,4.515',
            'costs,,,cost_per_hour_usd,0.062708333',
            `trends,${date(D0 + DAY)},,events,0`,
            `trends,${date(D0 + 2 * DAY)},,p95_latency_ms,90`,
          ]),
        );
        // 4 report + 10 overview + 3×5 per service + 4 totals + 2 per hour + 3 days × 6
        expect(lines.length - 1).toBe(4 + 10 + 15 + 4 + 2 + 18);
      });

      it('quotes and formula-escapes values a spreadsheet would misread', async () => {
        const t = await engine.newTenant(`=HYPERLINK("x"),name-${Date.now()}`);
        const text = await csv('overview', t.read);
        expect(text.split('\n')[1]).toBe(`${t.id},"'=HYPERLINK(""x""),name-${t.name.split('name-')[1]}",0,`);
      });

      it('refuses an unknown type with a 400 naming the valid ones', async () => {
        const e = await expectError(await engine.request('GET', '/api/v1/export/csv/nope', { key: a.read }), 400, 'INVALID_REQUEST');
        expect(e.message).toContain('overview, trends, costs, tenant');
      });
    });
  });
}
