import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';

/**
 * Seed 003 usage monitoring over a known dataset. Event times are "k days ago" from the start of
 * the file, so with days=7 the window [now − 7 d, now) holds the events up to 6.5 days old and
 * the default 30-day window those up to 20 days old.
 */
const DAY = 86_400_000;
const NOW = Date.now();
let seq = 0;
const ev = (daysAgo: number, event_type: string, user_id: string | undefined, extra: Record<string, unknown> = {}) => ({
  event_id: `u-${++seq}`,
  ts: new Date(NOW - daysAgo * DAY).toISOString(),
  event_type,
  ...(user_id ? { user_id } : {}),
  ...extra,
});
const tokens = (input_tokens: number, output_tokens: number) => ({ input_tokens, output_tokens });
const dash = (id: string) => ({ metadata: { dashboard_id: id, adapter: 'web' } });

const EVENTS = [
  ev(0.5, 'sql_generation', 'u1', { ...tokens(100, 20), metadata: { question: 'q1' } }),
  ev(3, 'sql_generation', 'u1', tokens(100, 20)),
  ev(20, 'sql_generation', 'u1', tokens(100, 20)),
  ev(1.5, 'sql_generation', 'u2', tokens(50, 10)),
  ev(0.5, 'sql_execution', 'u1', { metadata: { rows: '12' } }),
  ev(8, 'sql_execution', 'u1'),
  ev(6.5, 'sql_execution', 'u2', { success: false }),
  ev(2, 'dashboard_publish', 'u1', dash('d1')),
  ev(3.5, 'dashboard_publish', 'u2', dash('d1')),
  ev(10, 'dashboard_publish', 'u2', dash('d2')),
  ev(0.5, 'dashboard_view', 'u3', dash('d1')),
  ev(0.6, 'dashboard_view', 'u3', dash('d1')),
  ev(4, 'dashboard_view', 'u1', dash('d2')),
  ev(0.7, 'dashboard_view', 'u3'), // no dashboard_id
  ev(1.8, 'llm.call', 'u3', { model: 'gpt-4o', ...tokens(1000, 500) }),
  ev(40, 'llm.call', 'u1', tokens(200, 100)), // beyond retention of the window, not of the store
  ev(5, 'spreadsheet_formula', 'u2', { metadata: { prompt: 'sum', project_id: 'p1' } }),
  ev(1, 'api.call', undefined), // names no user
  ev(31, 'sql_generation', 'u4'),
];

const OTHER = [ev(1, 'sql_generation', 'u1', tokens(9, 9)), ev(1, 'dashboard_view', 'u1', dash('d1'))];

const ROUTES = ['summary', 'users', 'queries', 'dashboards', 'llm-tokens'] as const;

describe('seed 003 usage monitoring', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine();
    a = await engine.newTenant();
    b = await engine.newTenant(undefined, 'free'); // not an analytics route: no plan gate
    for (const [t, events] of [
      [a, EVENTS],
      [b, OTHER],
    ] as const) {
      const r = await engine.services.ingest.ingest({ tenantId: t.id, apiKeyId: 'k' }, events);
      expect(r.rejected).toEqual([]);
      expect(r.accepted).toBe(events.length);
    }
  });
  afterAll(() => engine?.close());

  const ok = async (route: string, query = '', key = a.admin) => {
    const r = await engine.request('GET', `/api/v1/usage/${route}${query ? `?${query}` : ''}`, { key });
    const body = (await r.json()) as Record<string, any>;
    expect(r.status, JSON.stringify(body)).toBe(200);
    return body;
  };
  const fails = async (route: string, query: string, key: string | undefined, status: number, code: string) => {
    const r = await engine.request('GET', `/api/v1/usage/${route}${query ? `?${query}` : ''}`, { key });
    const body = (await r.json()) as { error: { code: string; message: string; details?: unknown } };
    expect(r.status, JSON.stringify(body)).toBe(status);
    expect(body.error.code).toBe(code);
    return body.error;
  };

  describe('GET /api/v1/usage/summary', () => {
    it('counts events per event type and user over the last 7 days', async () => {
      const before = Date.now();
      const body = await ok('summary', 'days=7');
      expect(body.summary).toEqual({
        sql_generation: { u1: 2, u2: 1 },
        sql_execution: { u1: 1, u2: 1 },
        dashboard_publish: { u1: 1, u2: 1 },
        dashboard_view: { u1: 1, u3: 3 },
        'llm.call': { u3: 1 },
        spreadsheet_formula: { u2: 1 },
      });
      expect(body.days).toBe(7);
      const from = Date.parse(body.window.from);
      const to = Date.parse(body.window.to);
      expect(to - from).toBe(7 * DAY);
      expect(to).toBeGreaterThanOrEqual(before);
      expect(Date.parse(body.generated_at)).toBeGreaterThanOrEqual(before);
    });

    it('defaults to USAGE_RETENTION_DAYS (30)', async () => {
      const body = await ok('summary');
      expect(body.days).toBe(30);
      expect(body.summary).toEqual({
        sql_generation: { u1: 3, u2: 1 }, // u4's is 31 days old
        sql_execution: { u1: 2, u2: 1 },
        dashboard_publish: { u1: 1, u2: 2 },
        dashboard_view: { u1: 1, u3: 3 },
        'llm.call': { u3: 1 },
        spreadsheet_formula: { u2: 1 },
      });
    });

    it('refuses days outside 1..USAGE_RETENTION_DAYS with 400 naming the field', async () => {
      for (const days of ['0', '31', '-1', '1.5', 'seven', '', '99999999']) {
        const err = await fails('summary', `days=${days}`, a.admin, 400, 'INVALID_REQUEST');
        expect(err.details).toEqual({ field: 'days', min: 1, max: 30 });
        expect(err.message).toContain('USAGE_RETENTION_DAYS');
      }
      expect((await ok('summary', 'days=30')).days).toBe(30);
      expect((await ok('summary', 'days=1')).summary).toEqual({ sql_generation: { u1: 1 }, sql_execution: { u1: 1 }, dashboard_view: { u3: 3 } });
    });
  });

  describe('GET /api/v1/usage/users, /queries, /dashboards, /llm-tokens', () => {
    it('counts every event per user', async () => {
      expect((await ok('users')).users).toEqual({ u1: 7, u2: 5, u3: 4 });
      expect((await ok('users', 'days=7')).users).toEqual({ u1: 5, u2: 4, u3: 4 });
    });

    it('counts sql_generation and sql_execution per user', async () => {
      expect((await ok('queries')).queries).toEqual({
        u1: { sql_generation: 3, sql_execution: 2, total: 5 },
        u2: { sql_generation: 1, sql_execution: 1, total: 2 },
      });
      expect((await ok('queries', 'days=2')).queries).toEqual({ u1: { sql_generation: 1, sql_execution: 1, total: 2 }, u2: { sql_generation: 1, sql_execution: 0, total: 1 } });
    });

    it('counts dashboard_* events and distinct users per metadata dashboard_id', async () => {
      expect((await ok('dashboards')).dashboards).toEqual({
        d1: { events: { dashboard_publish: 2, dashboard_view: 2 }, total: 4, users: 3 },
        d2: { events: { dashboard_publish: 1, dashboard_view: 1 }, total: 2, users: 2 },
      });
      expect((await ok('dashboards', 'days=3')).dashboards).toEqual({ d1: { events: { dashboard_publish: 1, dashboard_view: 2 }, total: 3, users: 2 } });
    });

    it('sums input and output tokens per user, over every event type', async () => {
      expect((await ok('llm-tokens')).llm_tokens).toEqual({
        u1: { input_tokens: 300, output_tokens: 60, total_tokens: 360 },
        u2: { input_tokens: 50, output_tokens: 10, total_tokens: 60 },
        u3: { input_tokens: 1000, output_tokens: 500, total_tokens: 1500 },
      });
      expect((await ok('llm-tokens', 'days=2')).llm_tokens).toEqual({
        u1: { input_tokens: 100, output_tokens: 20, total_tokens: 120 },
        u2: { input_tokens: 50, output_tokens: 10, total_tokens: 60 },
        u3: { input_tokens: 1000, output_tokens: 500, total_tokens: 1500 },
      });
    });
  });

  describe('caching and access', () => {
    it('answers a second identical request from the cache without reaching ClickHouse', async () => {
      for (const route of ROUTES) {
        const first = await engine.request('GET', `/api/v1/usage/${route}?days=5`, { key: a.admin });
        expect(first.status).toBe(200);
        expect(first.headers.get('x-cache')).toBe('MISS');
        const body = await first.text();
        const before = engine.services.ch.stats.queries;
        const second = await engine.request('GET', `/api/v1/usage/${route}?days=5`, { key: a.admin });
        expect(second.headers.get('x-cache')).toBe('HIT');
        expect(await second.text()).toBe(body); // generated_at included: it says how old the answer is
        expect(engine.services.ch.stats.queries).toBe(before);
      }
    });

    it('shows another tenant only its own events', async () => {
      expect((await ok('summary', '', b.admin)).summary).toEqual({ sql_generation: { u1: 1 }, dashboard_view: { u1: 1 } });
      expect((await ok('users', '', b.admin)).users).toEqual({ u1: 2 });
      expect((await ok('queries', '', b.admin)).queries).toEqual({ u1: { sql_generation: 1, sql_execution: 0, total: 1 } });
      expect((await ok('dashboards', '', b.admin)).dashboards).toEqual({ d1: { events: { dashboard_view: 1 }, total: 1, users: 1 } });
      expect((await ok('llm-tokens', '', b.admin)).llm_tokens).toEqual({ u1: { input_tokens: 9, output_tokens: 9, total_tokens: 18 } });
    });

    it('needs an admin key: read-only and ingest-only keys get 403, no key 401', async () => {
      for (const route of ROUTES) {
        await fails(route, '', undefined, 401, 'UNAUTHORIZED');
        expect((await fails(route, '', a.read, 403, 'FORBIDDEN')).details).toEqual({ required: 'admin', granted: ['read'] });
        expect((await fails(route, '', a.ingest, 403, 'FORBIDDEN')).details).toEqual({ required: 'admin', granted: ['ingest'] });
      }
    });

    it('records query durations per endpoint and answers from rollups where they cover the window', async () => {
      const text = await engine.services.metrics.registry.metrics();
      for (const route of ROUTES) expect(text).toContain(`analytics_query_duration_seconds_count{endpoint="usage-${route}"`);
      // Dashboards group by a metadata key: raw events only.
      expect(text).toMatch(/analytics_query_duration_seconds_count\{endpoint="usage-dashboards",source="[^"]*raw[^"]*"\}/);
    });

    it('documents the routes in the OpenAPI document', async () => {
      const doc = (await (await engine.request('GET', '/openapi.json')).json()) as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
      for (const route of ROUTES) {
        const op = doc.paths[`/api/v1/usage/${route}`]?.get;
        expect(op, route).toBeDefined();
        expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '429']));
      }
    });
  });
});
