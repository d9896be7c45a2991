import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAnomaly } from '../../../src/control/incidents/record.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import type { OpenApiDoc } from './openapi-walk.js';

/**
 * Tenant isolation over EVERY operation /openapi.json lists. Routes under ANALYTICS_PREFIXES are
 * walked by analytics-isolation.test.ts (generated requests, every dimension probed); every
 * other operation, the control plane with its path ids above all, has a scenario here: tenant A
 * owns events, a run, a budget, a webhook with a delivery, an anomaly and its incident, keys and
 * a unit rate; tenant B's admin, read and ingest keys name A's ids on every route. B gets 404 (or
 * 403 for a scope its key lacks, or its own empty lists), never A's data; and after all of B's
 * writes (PATCH, DELETE, acknowledge, resolve, test, revoke, …) A's state, read back with A's
 * keys, is exactly what it was. An operation the document gains without a scenario fails the
 * coverage test: add a scenario (or, with a reason, a SKIP entry).
 */
const ANALYTICS_PREFIXES = ['/api/v1/analytics', '/api/v1/reports', '/api/v1/usage', '/api/v1/export'];
/** Operations neither suite exercises, each with its reason. Keep it short. */
const SKIP: Record<string, string> = {};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const tag = crypto.randomBytes(4).toString('hex');
const mk = (what: string) => `mk${tag}-${what}`;
const A = {
  run: mk('run'),
  model: mk('model'),
  policy: mk('policy'),
  type: mk('type'),
  budgetName: mk('budget'),
  hookUrl: `https://example.invalid/${mk('hook')}`,
  keyName: mk('keyname'),
};
const NIL_UUID = '00000000-0000-4000-8000-000000000000';

type Kind = 'admin' | 'read' | 'ingest';
type Expect =
  /** A's id named: 404 (403 when the key lacks the scope); never a 2xx. */
  | 'not-found'
  /** B's own view: 2xx (or 403 for a lacking scope), holding none of A's values. */
  | 'own'
  /** Public, engine-wide: 2xx without a key; none of A's values. */
  | 'public';
interface Req {
  op: string;
  method: string;
  url: string;
  body?: unknown;
  expect: Expect;
}

interface Ids {
  budget: string;
  webhook: string;
  incident: string;
  anomaly: string;
  keyIds: string[];
  eventIds: string[];
}

/** Every operation outside ANALYTICS_PREFIXES → the requests B sends against A's resources. */
const SCENARIOS: Record<string, (ids: Ids) => Omit<Req, 'op'>[]> = {
  'GET /healthz': () => [{ method: 'GET', url: '/healthz', expect: 'public' }],
  'GET /readyz': () => [{ method: 'GET', url: '/readyz', expect: 'public' }],
  // engine-wide job health: no tenant's data, for any admin
  'GET /api/v1/ops/jobs': () => [{ method: 'GET', url: '/api/v1/ops/jobs', expect: 'own' }],
  'POST /api/v1/events': (ids) => [
    // A's event_ids and run_id, re-sent by B: B's own events, never a duplicate of A's
    { method: 'POST', url: '/api/v1/events', body: ids.eventIds.map((id) => ({ event_id: id, event_type: 'b.call', run_id: A.run, model: A.model, cost: '7' })), expect: 'own' },
    // a tenant_id in the event is refused, never honoured
    { method: 'POST', url: '/api/v1/events', body: [{ event_type: 'b.call', tenant_id: 'A' }], expect: 'own' },
  ],
  'GET /api/v1/events': () => [
    { method: 'GET', url: `/api/v1/events?run_id=${A.run}&from=${iso(-3 * DAY)}&to=${iso(DAY)}&limit=1000`, expect: 'own' },
    { method: 'GET', url: `/api/v1/events?event_type=${A.type}&from=${iso(-3 * DAY)}&to=${iso(DAY)}`, expect: 'own' },
  ],
  'POST /api/v1/usage/events': () => [{ method: 'POST', url: '/api/v1/usage/events', body: { event_type: A.type, metadata: { run: A.run } }, expect: 'own' }],
  // who the key is: B's tenant and key, never A's
  'GET /api/v1/session': () => [{ method: 'GET', url: '/api/v1/session', expect: 'own' }],
  'GET /api/v1/keys': () => [{ method: 'GET', url: '/api/v1/keys', expect: 'own' }],
  'POST /api/v1/keys': () => [{ method: 'POST', url: '/api/v1/keys', body: { name: 'b-key', scopes: ['read'] }, expect: 'own' }],
  'DELETE /api/v1/keys/{id}': (ids) => ids.keyIds.map((id) => ({ method: 'DELETE', url: `/api/v1/keys/${id}`, expect: 'not-found' as const })),
  'GET /api/v1/unit-rates': () => [{ method: 'GET', url: '/api/v1/unit-rates', expect: 'own' }],
  'DELETE /api/v1/unit-rates/{event_type}': () => [{ method: 'DELETE', url: `/api/v1/unit-rates/${A.type}`, expect: 'not-found' }],
  // after the DELETE: B's own rate for the same type, which A must never see
  'PUT /api/v1/unit-rates': () => [{ method: 'PUT', url: '/api/v1/unit-rates', body: { event_type: A.type, usd_per_event: '99' }, expect: 'own' }],
  'GET /api/v1/budgets/check': () => [
    { method: 'GET', url: `/api/v1/budgets/check?scope_type=model&scope_value=${A.model}&metric=cost&amount=1`, expect: 'own' },
    { method: 'GET', url: '/api/v1/budgets/check?scope_type=tenant&metric=cost', expect: 'own' },
  ],
  'GET /api/v1/budgets/{id}/status': (ids) => [{ method: 'GET', url: `/api/v1/budgets/${ids.budget}/status`, expect: 'not-found' }],
  'POST /api/v1/budgets': () => [{ method: 'POST', url: '/api/v1/budgets', body: { name: 'b-budget', scope_type: 'model', scope_value: A.model, period: 'day', metric: 'cost', limit: '1' }, expect: 'own' }],
  'GET /api/v1/budgets': () => [{ method: 'GET', url: '/api/v1/budgets', expect: 'own' }],
  'GET /api/v1/budgets/{id}': (ids) => [{ method: 'GET', url: `/api/v1/budgets/${ids.budget}`, expect: 'not-found' }],
  'PATCH /api/v1/budgets/{id}': (ids) => [{ method: 'PATCH', url: `/api/v1/budgets/${ids.budget}`, body: { limit: '0.01', name: 'taken over' }, expect: 'not-found' }],
  'DELETE /api/v1/budgets/{id}': (ids) => [{ method: 'DELETE', url: `/api/v1/budgets/${ids.budget}`, expect: 'not-found' }],
  'POST /api/v1/webhooks': () => [{ method: 'POST', url: '/api/v1/webhooks', body: { url: 'https://example.invalid/b' }, expect: 'own' }],
  'GET /api/v1/webhooks': () => [{ method: 'GET', url: '/api/v1/webhooks', expect: 'own' }],
  'GET /api/v1/webhooks/{id}': (ids) => [{ method: 'GET', url: `/api/v1/webhooks/${ids.webhook}`, expect: 'not-found' }],
  'PATCH /api/v1/webhooks/{id}': (ids) => [{ method: 'PATCH', url: `/api/v1/webhooks/${ids.webhook}`, body: { url: 'https://attacker.invalid/steal', enabled: false }, expect: 'not-found' }],
  'DELETE /api/v1/webhooks/{id}': (ids) => [{ method: 'DELETE', url: `/api/v1/webhooks/${ids.webhook}`, expect: 'not-found' }],
  'POST /api/v1/webhooks/{id}/test': (ids) => [{ method: 'POST', url: `/api/v1/webhooks/${ids.webhook}/test`, expect: 'not-found' }],
  'GET /api/v1/webhooks/{id}/deliveries': (ids) => [{ method: 'GET', url: `/api/v1/webhooks/${ids.webhook}/deliveries`, expect: 'not-found' }],
  'GET /api/v1/anomalies': () => [{ method: 'GET', url: `/api/v1/anomalies?from=${iso(-30 * DAY)}&to=${iso(DAY)}&limit=1000`, expect: 'own' }],
  'GET /api/v1/anomalies/{id}': (ids) => [{ method: 'GET', url: `/api/v1/anomalies/${ids.anomaly}`, expect: 'not-found' }],
  'GET /api/v1/incidents': () => [{ method: 'GET', url: '/api/v1/incidents?limit=1000', expect: 'own' }],
  'GET /api/v1/incidents/{id}': (ids) => [{ method: 'GET', url: `/api/v1/incidents/${ids.incident}`, expect: 'not-found' }],
  'POST /api/v1/incidents/{id}/acknowledge': (ids) => [{ method: 'POST', url: `/api/v1/incidents/${ids.incident}/acknowledge`, expect: 'not-found' }],
  'POST /api/v1/incidents/{id}/resolve': (ids) => [
    { method: 'POST', url: `/api/v1/incidents/${ids.incident}/resolve`, body: { note: 'closed by B' }, expect: 'not-found' },
    { method: 'POST', url: `/api/v1/incidents/${ids.incident}/resolve`, expect: 'not-found' },
  ],
  'GET /api/v1/incidents/{id}/source-run': (ids) => [{ method: 'GET', url: `/api/v1/incidents/${ids.incident}/source-run`, expect: 'not-found' }],
  'GET /api/v1/incidents/{id}/cost-impact': (ids) => [{ method: 'GET', url: `/api/v1/incidents/${ids.incident}/cost-impact`, expect: 'not-found' }],
  'GET /api/v1/incidents/{id}/related': (ids) => [{ method: 'GET', url: `/api/v1/incidents/${ids.incident}/related`, expect: 'not-found' }],
  'GET /api/v1/incidents/{id}/timeline': (ids) => [{ method: 'GET', url: `/api/v1/incidents/${ids.incident}/timeline`, expect: 'not-found' }],
  // A's run: B's re-sent events carry the same run_id, so B may see its own run, never A's cost
  'GET /api/v1/runs/{run_id}/cost': () => [{ method: 'GET', url: `/api/v1/runs/${A.run}/cost`, expect: 'own' }],
  'GET /api/v1/runs/{run_id}/incidents': () => [{ method: 'GET', url: `/api/v1/runs/${A.run}/incidents`, expect: 'own' }],
  'GET /api/v1/runs/{run_id}/events': () => [{ method: 'GET', url: `/api/v1/runs/${A.run}/events?limit=1000`, expect: 'own' }],
  'GET /api/v1/runs/{run_id}/policies': () => [{ method: 'GET', url: `/api/v1/runs/${A.run}/policies`, expect: 'own' }],
  'GET /api/v1/timeline': () => [{ method: 'GET', url: `/api/v1/timeline?from=${iso(-30 * DAY)}&to=${iso(DAY)}&limit=1000`, expect: 'own' }],
};

const DAY = 86_400_000;
const NOW = Date.now();
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

/** Every operation of the document, as "METHOD /path". */
function documentOperations(doc: OpenApiDoc): { key: string; secured: boolean }[] {
  const out: { key: string; secured: boolean }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = (item as Record<string, { security?: unknown[] } | undefined>)[m];
      if (op) out.push({ key: `${m.toUpperCase()} ${path}`, secured: (op.security ?? []).length > 0 });
    }
  }
  return out;
}
const delegated = (key: string) => ANALYTICS_PREFIXES.some((p) => key.split(' ')[1]!.startsWith(p + '/') || key.split(' ')[1] === p);

describe('tenant isolation over every control-plane, ingest, key and ops route', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  let doc: OpenApiDoc;
  let ids: Ids;
  let secrets: string[];

  beforeAll(async () => {
    // AUTH_FAILURES_PER_MINUTE off: the 401 sweep below sends ~80 unknown keys from one source
    engine = await startTestEngine({ env: { RATE_LIMIT_PER_MINUTE: '0', AUTH_FAILURES_PER_MINUTE: '0' } });
    a = await engine.newTenant(`ctl-a-${tag}`);
    b = await engine.newTenant(`ctl-b-${tag}`);
    const asA = async (method: string, url: string, body?: object, key = a.admin) => {
      const r = await engine.request(method, url, { key, body });
      const text = await r.text();
      expect(r.status, `${method} ${url}: ${text}`).toBeLessThan(300);
      return text ? JSON.parse(text) : undefined;
    };
    const events = Array.from({ length: 6 }, (_, i) => ({
      event_id: mk(`ev${i}`),
      ts: iso(-(i + 1) * 3_600_000),
      event_type: A.type,
      run_id: A.run,
      model: A.model,
      policy_id: A.policy,
      cost: '1.25',
      requests: 1,
      input_tokens: 10,
    }));
    const ingested = await asA('POST', '/api/v1/events', events, a.ingest);
    expect(ingested.accepted).toBe(events.length);
    const budget = await asA('POST', '/api/v1/budgets', { name: A.budgetName, scope_type: 'model', scope_value: A.model, period: 'month', metric: 'cost', limit: '100' });
    const hook = await asA('POST', '/api/v1/webhooks', { url: A.hookUrl });
    await asA('POST', `/api/v1/webhooks/${hook.id}/test`);
    await asA('PUT', '/api/v1/unit-rates', { event_type: A.type, usd_per_event: '0.5' });
    await asA('POST', '/api/v1/keys', { name: A.keyName, scopes: ['read'] });
    const found = await recordAnomaly(
      { pool: engine.services.pg.pool, notifications: engine.services.notifications },
      { tenantId: a.id, type: 'SPEND_SPIKE', severity: 'HIGH', dimension: 'model', dimensionValue: A.model, windowStart: new Date(NOW - 6 * 3_600_000), windowEnd: new Date(NOW - 3_600_000), observed: '7.5', expected: '1', zScore: 9, impactUsd: '6.5', runId: A.run, dedupKey: mk('dedup') },
    );
    ids = {
      budget: budget.id,
      webhook: hook.id,
      incident: found.incident!.id,
      anomaly: found.anomaly.id,
      keyIds: (await engine.services.tenants.listKeys(a.id)).map((k) => k.id),
      eventIds: events.map((e) => e.event_id),
    };
    // B deliberately writes A's run_id, model and event type into its own data (and sees them
    // back); values only A ever wrote, and A's ids, must never reach B.
    secrets = [A.policy, A.budgetName, A.hookUrl, A.keyName, a.id, a.name, ids.budget, ids.webhook, ids.incident, ids.anomaly, ...ids.keyIds];
    doc = (await (await engine.request('GET', '/openapi.json')).json()) as OpenApiDoc;
  });
  afterAll(() => engine?.close());

  /** A's state through A's own keys: what no request of B may change. */
  async function snapshotOfA() {
    const get = async (url: string, key = a.admin) => {
      const r = await engine.request('GET', url, { key });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const keys = (await get('/api/v1/keys')).body.keys as Record<string, unknown>[];
    return {
      budget: await get(`/api/v1/budgets/${ids.budget}`),
      budgets: await get('/api/v1/budgets'),
      webhook: await get(`/api/v1/webhooks/${ids.webhook}`),
      webhooks: await get('/api/v1/webhooks'),
      deliveries: await get(`/api/v1/webhooks/${ids.webhook}/deliveries`),
      // last_used_at moves with A's own reads
      keys: keys.map(({ last_used_at: _, ...k }) => k),
      rates: await get('/api/v1/unit-rates'),
      incident: await get(`/api/v1/incidents/${ids.incident}`),
      incidentTimeline: await get(`/api/v1/incidents/${ids.incident}/timeline`),
      anomaly: await get(`/api/v1/anomalies/${ids.anomaly}`),
      runCost: await get(`/api/v1/runs/${A.run}/cost`),
      runEvents: await get(`/api/v1/runs/${A.run}/events?limit=1000`),
      events: await get(`/api/v1/events?from=${iso(-3 * DAY)}&to=${iso(DAY)}&limit=1000`),
      timeline: await get(`/api/v1/timeline?from=${iso(-30 * DAY)}&to=${iso(DAY)}&limit=1000`),
      // A's read key still works: B's DELETE /keys/{id} revoked nothing
      readKeyWorks: (await get('/api/v1/budgets', a.read)).status,
    };
  }

  it('every operation in /openapi.json is covered: here, by analytics-isolation.test.ts, or skipped with a reason', () => {
    const ops = documentOperations(doc).map((o) => o.key);
    const uncovered = ops.filter((k) => !SCENARIOS[k] && !delegated(k) && !SKIP[k]);
    expect(uncovered, 'operations without an isolation scenario: add one to SCENARIOS').toEqual([]);
    // and no scenario names an operation the document no longer has
    expect(Object.keys({ ...SCENARIOS, ...SKIP }).filter((k) => !ops.includes(k))).toEqual([]);
    expect(ops.filter(delegated).length, 'routes walked by analytics-isolation.test.ts').toBeGreaterThan(20);
  });

  it('the fixture is real: A sees its own resources on the routes B is refused', async () => {
    const s = await snapshotOfA();
    expect(s.budget.status).toBe(200);
    expect(s.webhook.status).toBe(200);
    expect((s.deliveries.body.deliveries as unknown[]).length).toBeGreaterThanOrEqual(1);
    expect(s.incident.body.status).toBe('open');
    expect(s.anomaly.status).toBe(200);
    expect(s.runCost.body).toMatchObject({ run_id: A.run, events: 6 });
    expect((s.events.body.events as unknown[]).length).toBe(6);
    expect(JSON.stringify(s.rates.body)).toContain(A.type);
    expect(JSON.stringify(s.keys)).toContain(A.keyName);
    for (const url of [`/api/v1/runs/${A.run}/incidents`, `/api/v1/runs/${A.run}/policies`, `/api/v1/incidents/${ids.incident}/source-run`, `/api/v1/incidents/${ids.incident}/cost-impact`, `/api/v1/incidents/${ids.incident}/related`, `/api/v1/budgets/${ids.budget}/status`]) {
      expect((await engine.request('GET', url, { key: a.read })).status, url).toBe(200);
    }
  });

  for (const kind of ['admin', 'read', 'ingest'] as const satisfies readonly Kind[]) {
    it(`tenant B's ${kind} key on every route, naming A's ids: 404/403 or B's own data, never A's; A unchanged`, async () => {
      const before = await snapshotOfA();
      const requests: Req[] = Object.entries(SCENARIOS).flatMap(([op, build]) => build(ids).map((r) => ({ op, ...r })));
      const problems: string[] = [];
      const exercised = new Set<string>();
      for (const r of requests) {
        const key = r.expect === 'public' ? undefined : b[kind];
        const res = await engine.request(r.method, r.url, { key, body: r.body as object | undefined });
        const text = await res.text();
        exercised.add(r.op);
        const what = `${r.method} ${r.url} → ${res.status} ${text.slice(0, 200)}`;
        const sent = `${r.url} ${JSON.stringify(r.body ?? '')}`;
        const leaked = secrets.filter((s) => text.includes(s) && !sent.includes(s));
        if (leaked.length) problems.push(`leaks ${leaked.join(', ')}: ${what}`);
        if (res.status >= 500) problems.push(`5xx: ${what}`);
        const ok =
          r.expect === 'public'
            ? res.status === 200
            : r.expect === 'not-found'
              ? res.status === 404 || res.status === 403
              : (res.status >= 200 && res.status < 300) || res.status === 403 || (r.op.startsWith('GET /api/v1/runs/') && res.status === 404);
        if (!ok) problems.push(`expected ${r.expect}: ${what}`);
        // a 404 for A's id must read exactly like the 404 for an id no one has
        if (r.expect === 'not-found' && res.status === 404) {
          const twin = await engine.request(r.method, r.url.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, NIL_UUID).replace(A.type, mk('none')), { key, body: r.body as object | undefined });
          const norm = (t: string) => t.replace(/"requestId":"[^"]*"/, '').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'ID').replace(new RegExp(`${A.type}|${mk('none')}`, 'g'), 'T');
          if (twin.status !== 404 || norm(await twin.text()) !== norm(text)) problems.push(`404 differs from an unknown id's: ${what}`);
        }
      }
      expect(problems).toEqual([]);
      expect([...exercised].sort()).toEqual(Object.keys(SCENARIOS).sort());
      const after = await snapshotOfA();
      expect(after).toEqual(before);
    });
  }

  it('no key, or an unknown key: 401 on every secured operation of the document', async () => {
    const ops = documentOperations(doc).filter((o) => o.secured && !delegated(o.key));
    expect(ops.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const { key: op } of ops) {
      const [method, template] = op.split(' ') as [string, string];
      const url = template.replace(/\{[^}]+\}/g, NIL_UUID);
      for (const key of [undefined, `th_${'x'.repeat(8)}_${'y'.repeat(43)}`]) {
        const r = await engine.request(method, url, { key, body: ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined });
        if (r.status !== 401) problems.push(`${op} (${key ? 'unknown key' : 'no key'}): ${r.status}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
