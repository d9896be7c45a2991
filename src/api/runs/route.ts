import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import { incidentJson } from '../../control/incidents/record.js';
import { incidentsOfRun } from '../../control/incidents/store.js';
import { requireScope } from '../auth.js';
import { exactJson } from '../analytics/exact-json.js';
import { addInto, costFields, costFieldsSchema, COST_METRICS, sumsOf, zeroSums } from '../analytics/statistics/breakdown.js';
import { ApiError, errorResponses, errorSchema } from '../errors.js';
import type { AppEnv } from '../env.js';
import { eventsPageQuery, listStoredEvents, storedEvent } from '../events/list-route.js';
import { costTotals, costTotalsJson, runFilter, wholeRetention, type Ask } from '../incidents/costs.js';
import { incidentSchema, json, runIdParam } from '../incidents/schemas.js';
import { timedPlanner } from '../timed-planner.js';

/**
 * Seed 004 §2.1, §2.7, §4: a run's cost, incidents, events and policies. Runs are not stored
 * on their own: a run is the events that carry its run_id, anywhere in retention, and the
 * anomalies that name it. A run_id neither names (or only another tenant's do) → 404 RUN_NOT_FOUND.
 */
const runNotFound = {
  404: { description: 'RUN_NOT_FOUND: none of the tenant’s events or anomalies carries this run_id', content: { 'application/json': { schema: errorSchema } } },
};

/** The run's totals; 404 when the tenant knows no such run. */
async function knownRun(c: Context<AppEnv>, ask: Ask, runId: string) {
  const tenantId = c.get('principal').tenant.id;
  const t = await costTotals(ask, tenantId, wholeRetention(c.get('services').config), runFilter(runId));
  if (t.events === 0n) {
    const { rows } = await c.get('services').pg.pool.query('SELECT 1 FROM anomalies WHERE tenant_id = $1 AND run_id = $2 LIMIT 1', [tenantId, runId]);
    if (!rows[0]) throw new ApiError(404, 'RUN_NOT_FOUND', `run ${JSON.stringify(runId)} not found: no event or anomaly carries it`, { field: 'run_id' });
  }
  return t;
}
const costSchema = z.object({ run_id: z.string(), ...costFieldsSchema, events: z.number() }).openapi('RunCost');

const cost = createRoute({
  method: 'get',
  path: '/api/v1/runs/{run_id}/cost',
  tags: ['runs'],
  summary: "What a run cost: spend (exact), requests, tokens and events of the events carrying its run_id (raw events: rollups don't keep run_id)",
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: runIdParam },
  responses: { 200: json(costSchema, 'The run’s cost'), ...errorResponses, ...runNotFound },
});

const incidents = createRoute({
  method: 'get',
  path: '/api/v1/runs/{run_id}/incidents',
  tags: ['runs'],
  summary: 'Incidents this run caused: its source run, or one of the incident’s anomalies names the run; newest first',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: runIdParam },
  responses: { 200: json(z.object({ run_id: z.string(), incidents: z.array(incidentSchema) }), 'Incidents'), ...errorResponses, ...runNotFound },
});

const events = createRoute({
  method: 'get',
  path: '/api/v1/runs/{run_id}/events',
  tags: ['runs'],
  summary: 'The run’s stored events, newest first (GET /api/v1/events with run_id; default window: all of retention)',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: runIdParam, query: eventsPageQuery.omit({ run_id: true }) },
  responses: { 200: json(z.object({ run_id: z.string(), events: z.array(storedEvent), next_cursor: z.string().nullable() }), 'A page of events'), ...errorResponses, ...runNotFound },
});

const policySchema = z.object({ policy_id: z.string(), ...costFieldsSchema });
const policiesSchema = z.object({ run_id: z.string(), policies: z.array(policySchema), no_policy: z.object(costFieldsSchema) }).openapi('RunPolicies');
const policies = createRoute({
  method: 'get',
  path: '/api/v1/runs/{run_id}/policies',
  tags: ['runs'],
  summary: 'The policies the run’s events name (policy_id), each with the cost of those events, by spend; events naming no policy are summed in `no_policy`',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { params: runIdParam },
  responses: { 200: json(policiesSchema, 'Policies'), ...errorResponses, ...runNotFound },
});

export function registerRuns(app: OpenAPIHono<AppEnv>) {
  app.openapi(cost, async (c) => {
    const { run_id } = c.req.valid('param');
    const planner = timedPlanner(c, 'runs-cost');
    const t = await knownRun(c, planner.ask, run_id);
    planner.done();
    return exactJson(c, { run_id, ...costTotalsJson(t) }) as unknown as TypedResponse<z.infer<typeof costSchema>, 200, 'json'>;
  });
  app.openapi(incidents, async (c) => {
    const { run_id } = c.req.valid('param');
    const planner = timedPlanner(c, 'runs-incidents');
    await knownRun(c, planner.ask, run_id);
    planner.done();
    const rows = await incidentsOfRun(c.get('services').pg.pool, c.get('principal').tenant.id, run_id);
    return c.json({ run_id, incidents: rows.map(incidentJson) }, 200);
  });
  app.openapi(events, async (c) => {
    const { run_id } = c.req.valid('param');
    const q = c.req.valid('query');
    const planner = timedPlanner(c, 'runs-events');
    await knownRun(c, planner.ask, run_id);
    planner.done();
    const all = wholeRetention(c.get('services').config);
    const toMs = q.to ? Date.parse(q.to) : all.toMs;
    const fromMs = q.from ? Date.parse(q.from) : all.fromMs;
    if (fromMs >= toMs) throw new ApiError(400, 'INVALID_DATE_RANGE', '`from` must be before `to`', { field: 'from' });
    const page = await listStoredEvents(c.get('services').ch, c.get('principal').tenant.id, { fromMs, toMs, eventType: q.event_type, runId: run_id, cursor: q.cursor, limit: q.limit });
    return c.json({ run_id, ...page }, 200);
  });
  app.openapi(policies, async (c) => {
    const { run_id } = c.req.valid('param');
    const tenantId = c.get('principal').tenant.id;
    const planner = timedPlanner(c, 'runs-policies');
    await knownRun(c, planner.ask, run_id);
    const w = wholeRetention(c.get('services').config);
    const a = await planner.ask({ tenantId, metrics: COST_METRICS, dimensions: ['policy_id'], tz: 'UTC', ...w, filters: runFilter(run_id), metadata: [] });
    planner.done();
    const none = zeroSums();
    const named = [];
    for (const r of a.rows) {
      const id = String(r.dims.policy_id ?? '');
      if (id === '') addInto(none, sumsOf(r));
      else named.push({ id, sums: sumsOf(r) });
    }
    named.sort((x, y) => (x.sums.costNano === y.sums.costNano ? x.id.localeCompare(y.id) : x.sums.costNano > y.sums.costNano ? -1 : 1));
    const body = { run_id, policies: named.map((p) => ({ policy_id: p.id, ...costFields(p.sums) })), no_policy: costFields(none) };
    return exactJson(c, body) as unknown as TypedResponse<z.infer<typeof policiesSchema>, 200, 'json'>;
  });
}
