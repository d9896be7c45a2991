import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context, TypedResponse } from 'hono';
import { incidentJson } from '../../control/incidents/record.js';
import { getIncident, relatedIncidents } from '../../control/incidents/store.js';
import { incidentTimeline } from '../../control/incidents/timeline-store.js';
import type { Incident } from '../../control/incidents/types.js';
import { requireScope } from '../auth.js';
import { exactJson } from '../analytics/exact-json.js';
import { costFieldsSchema } from '../analytics/statistics/breakdown.js';
import { errorResponses } from '../errors.js';
import type { AppEnv } from '../env.js';
import { timedPlanner } from '../timed-planner.js';
import { costTotals, costTotalsJson, incidentScope, runFilter, wholeRetention } from './costs.js';
import { idParam, incidentNotFound, incidentSchema, json, notFound } from './schemas.js';
import { timelineEntrySchema } from '../timeline/schemas.js';

/** Seed 004 §2.2, §2.6, §4: from an incident to its run, its cost, its neighbours and its history. */
const costSchema = z.object({ ...costFieldsSchema, events: z.number() });
const sourceRunSchema = z
  .object({
    incident_id: z.string(),
    run_id: z.string().nullable().openapi({ description: 'null when no run caused the incident (e.g. a tenant-wide budget breach)' }),
    cost: costSchema.nullable().openapi({ description: 'Cost of all the run’s events (GET /api/v1/runs/{run_id}/cost)' }),
    links: z.object({ cost: z.string(), events: z.string(), incidents: z.string(), policies: z.string() }).nullable(),
  })
  .openapi('IncidentSourceRun');
const costImpactSchema = z
  .object({
    incident_id: z.string(),
    source_run: z.object({ run_id: z.string() }).extend(costSchema.shape).nullable(),
    window: z.object({ from: z.string(), to: z.string(), dimension: z.string(), dimension_value: z.string().nullable() }).extend(costSchema.shape),
  })
  .openapi('IncidentCostImpact');
const relatedSchema = z
  .object({
    incident_id: z.string(),
    related: z.array(z.object({ incident: incidentSchema, reasons: z.array(z.enum(['same_dimension', 'same_source_run', 'overlapping_time'])) })),
  })
  .openapi('RelatedIncidents');
const timelineSchema = z.object({ incident_id: z.string(), events: z.array(timelineEntrySchema) }).openapi('IncidentTimeline');

const route = <P extends string>(path: P, summary: string, description: string, schema: z.ZodType) =>
  createRoute({
    method: 'get',
    path,
    tags: ['incidents'],
    summary,
    description,
    security: [{ bearer: [] }],
    middleware: requireScope('read'),
    request: { params: idParam },
    responses: { 200: json(schema, summary), ...errorResponses, ...notFound('INCIDENT_NOT_FOUND', 'incident') },
  });

const sourceRun = route('/api/v1/incidents/{id}/source-run', 'The run that caused the incident, with its cost', 'The first run named by the anomaly that opened the incident (or by a later one that attached, when the first named none).', sourceRunSchema);
const costImpact = route(
  '/api/v1/incidents/{id}/cost-impact',
  'What the incident cost',
  'Two exact numbers, never added together (they overlap): `source_run` is the cost of every event carrying the incident’s source run_id ' +
    '(null without a source run); `window` is the cost of the events in the incident’s window [window_start, window_end) — the span of its ' +
    'anomalies’ detection windows — on its scope: the budget’s scope for budget incidents, the dimension value (model, feature, …) for ' +
    'spikes and drops, the whole tenant otherwise. Both read through the query planner.',
  costImpactSchema,
);
const related = route(
  '/api/v1/incidents/{id}/related',
  'Correlated incidents of the same tenant',
  'Other incidents (at most 100, newest opened first) that share the incident’s dimension value (same_dimension), its source run ' +
    '(same_source_run), or whose [opened_at, resolved_at or now) span overlaps this one’s (overlapping_time); `reasons` says which.',
  relatedSchema,
);
const timeline = route(
  '/api/v1/incidents/{id}/timeline',
  'The incident’s history, oldest first',
  'Domain events of the incident itself (opened, acknowledged, resolved) and of every entity naming it (its anomalies’ anomaly.detected).',
  timelineSchema,
);

async function incidentOr404(c: Context<AppEnv>, id: string): Promise<Incident> {
  const inc = await getIncident(c.get('services').pg.pool, c.get('principal').tenant.id, id);
  if (!inc) throw incidentNotFound(id);
  return inc;
}

const runLinks = (runId: string) => {
  const base = `/api/v1/runs/${encodeURIComponent(runId)}`;
  return { cost: `${base}/cost`, events: `${base}/events`, incidents: `${base}/incidents`, policies: `${base}/policies` };
};

export function registerIncidentLinks(app: OpenAPIHono<AppEnv>) {
  app.openapi(sourceRun, async (c) => {
    const inc = await incidentOr404(c, c.req.valid('param').id);
    if (!inc.sourceRunId) return c.json({ incident_id: inc.id, run_id: null, cost: null, links: null }, 200);
    const planner = timedPlanner(c, 'incidents-source-run');
    const t = await costTotals(planner.ask, inc.tenantId, wholeRetention(c.get('services').config), runFilter(inc.sourceRunId));
    planner.done();
    const body = { incident_id: inc.id, run_id: inc.sourceRunId, cost: costTotalsJson(t), links: runLinks(inc.sourceRunId) };
    return exactJson(c, body) as unknown as TypedResponse<z.infer<typeof sourceRunSchema>, 200, 'json'>;
  });
  app.openapi(costImpact, async (c) => {
    const inc = await incidentOr404(c, c.req.valid('param').id);
    const { pg, config } = c.get('services');
    const scope = await incidentScope(pg.pool, inc);
    const planner = timedPlanner(c, 'incidents-cost-impact');
    const w = { fromMs: Date.parse(inc.windowStart), toMs: Date.parse(inc.windowEnd) };
    const [run, win] = await Promise.all([
      inc.sourceRunId ? costTotals(planner.ask, inc.tenantId, wholeRetention(config), runFilter(inc.sourceRunId)) : null,
      costTotals(planner.ask, inc.tenantId, w, scope.filters),
    ]);
    planner.done();
    const body = {
      incident_id: inc.id,
      source_run: run && inc.sourceRunId ? { run_id: inc.sourceRunId, ...costTotalsJson(run) } : null,
      window: { from: inc.windowStart, to: inc.windowEnd, dimension: scope.dimension, dimension_value: scope.value, ...costTotalsJson(win) },
    };
    return exactJson(c, body) as unknown as TypedResponse<z.infer<typeof costImpactSchema>, 200, 'json'>;
  });
  app.openapi(related, async (c) => {
    const inc = await incidentOr404(c, c.req.valid('param').id);
    const rows = await relatedIncidents(c.get('services').pg.pool, inc, new Date());
    return c.json(
      { incident_id: inc.id, related: rows.map((r) => ({ incident: incidentJson(r.incident), reasons: r.reasons as ('same_dimension' | 'same_source_run' | 'overlapping_time')[] })) },
      200,
    );
  });
  app.openapi(timeline, async (c) => {
    const inc = await incidentOr404(c, c.req.valid('param').id);
    const events = await incidentTimeline(c.get('services').pg.pool, inc.tenantId, inc.id);
    return c.json({ incident_id: inc.id, events }, 200);
  });
}
