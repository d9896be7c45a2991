import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import { TooManyGroupsError } from '../../../query/execute.js';
import { freshnessSec, newestEventMs } from '../../../query/freshness.js';
import type { DimensionFilter, Question } from '../../../query/planner.js';
import { requireScope } from '../../auth.js';
import type { AppEnv } from '../../env.js';
import { ApiError, errorResponses, errorSchema } from '../../errors.js';
import { cached, DEFAULT_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { apiKeyLabeller } from '../api-key-labels.js';
import { exactJson } from '../exact-json.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { isoUtc, sourceTables } from '../signals.js';
import {
  addInto,
  BREAKDOWNS,
  breakdownRows,
  breakdownRowSchema,
  COST_METRICS,
  costFields,
  costFieldsSchema,
  coversOnlyNamed,
  groupSums,
  sumsOf,
  zeroSums,
} from '../statistics/breakdown.js';
import { MAX_BREAKDOWN_GROUPS } from '../statistics/cost.js';
import { parseWindow, windowFields } from '../statistics/params.js';
import { signalsSchema } from '../statistics/schemas.js';
import { getIncident } from '../../../control/incidents/store.js';
import { incidentScope, runFilter, wholeRetention } from '../../incidents/costs.js';

/**
 * Seed 004 §4: GET /api/v1/analytics/costs — spend broken down by one attribution dimension,
 * optionally only for one API key or one policy.
 */
const GROUP_BY = Object.keys(BREAKDOWNS) as (keyof typeof BREAKDOWNS)[];
const idParam = z.string().min(1, 'must not be empty').max(256, 'at most 256 characters');

const costsQuery = z.object({
  ...windowFields,
  group_by: z.enum(GROUP_BY as [keyof typeof BREAKDOWNS, ...(keyof typeof BREAKDOWNS)[]]).default('model').openapi({ description: 'Row dimension (default model)' }),
  api_key_id: idParam.optional().openapi({ description: 'Only events attributed to this API key' }),
  policy_id: idParam.optional().openapi({ description: 'Only events that name this policy' }),
  incident_id: idParam.optional().openapi({ description: 'Only the events of this incident: its source run, or its window and scope (see the route description)' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: 'Rows; the rest is summed into one `other` row' }),
});

const costsResponse = z
  .object({
    window: z.object({ from: z.string(), to: z.string() }),
    group_by: z.enum(GROUP_BY as [keyof typeof BREAKDOWNS, ...(keyof typeof BREAKDOWNS)[]]),
    filters: z.object({ api_key_id: z.string().nullable(), policy_id: z.string().nullable() }),
    incident: z
      .object({ id: z.string(), run_id: z.string().nullable(), dimension: z.string(), dimension_value: z.string().nullable() })
      .nullable()
      .openapi({ description: 'With incident_id: what narrowed the events (run_id, or the window plus dimension value)' }),
    totals: z.object(costFieldsSchema),
    rows: z.array(breakdownRowSchema(null, 'The group value, in the field named for group_by: model, feature_tag, user_id, api_key_id (with key_name, key_prefix), project, provider or run_id')),
    signals: signalsSchema,
  })
  .openapi('CostBreakdown');

export const costsRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/costs',
  tags: ['analytics'],
  summary: 'Spend by model, feature, user, API key, project, provider or run over [from, to)',
  description:
    'Rows sorted by spend with spend_cents, spend_usd (exact), requests, input/output tokens and pct_of_total (share of the window spend, ' +
    '2 decimals). api_key_id and policy_id narrow the events counted (policy_id and group_by=run read raw events: the rollups do not ' +
    'keep them). Events without a value form the row whose value is null ("untagged" for features). ' +
    'incident_id (seed 004 §2.6): the events behind an incident — those carrying its source run_id (window: from/to when given, else all ' +
    'of retention), or, without a source run, those in the incident’s window [window_start, window_end) on its scope (the budget’s scope, ' +
    'else its dimension value, else the whole tenant; from/to are then ignored). An unknown incident (or another tenant’s) → 404 ' +
    'INCIDENT_NOT_FOUND. Default window: the last 7 days. Cached 5 minutes per tenant and query.',
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('analytics-costs', DEFAULT_TTL_MS)],
  request: { query: costsQuery },
  responses: {
    200: { description: 'Cost breakdown', content: { 'application/json': { schema: costsResponse } } },
    ...errorResponses,
    404: { description: 'INCIDENT_NOT_FOUND: no such incident; NOT_FOUND: analytics are disabled (ANALYTICS_ENABLED=false)', content: { 'application/json': { schema: errorSchema } } },
  },
});

export function registerCosts(app: OpenAPIHono<AppEnv>) {
  app.openapi(costsRoute, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('principal').tenant.id;
    let { fromMs, toMs } = parseWindow(q.from, q.to);
    const spec = BREAKDOWNS[q.group_by];
    const filters: DimensionFilter[] = [];
    let incident: { id: string; run_id: string | null; dimension: string; dimension_value: string | null } | null = null;
    if (q.incident_id !== undefined) {
      const { pg, config } = c.get('services');
      const inc = await getIncident(pg.pool, tenantId, q.incident_id);
      if (!inc) throw new ApiError(404, 'INCIDENT_NOT_FOUND', `incident ${JSON.stringify(q.incident_id)} not found`, { field: 'incident_id' });
      if (inc.sourceRunId) {
        if (q.from === undefined && q.to === undefined) ({ fromMs, toMs } = wholeRetention(config));
        filters.push(...runFilter(inc.sourceRunId));
        incident = { id: inc.id, run_id: inc.sourceRunId, dimension: 'run_id', dimension_value: inc.sourceRunId };
      } else {
        const scope = await incidentScope(pg.pool, inc);
        ({ fromMs, toMs } = { fromMs: Date.parse(inc.windowStart), toMs: Date.parse(inc.windowEnd) });
        filters.push(...scope.filters);
        incident = { id: inc.id, run_id: null, dimension: scope.dimension, dimension_value: scope.value };
      }
    }
    if (q.api_key_id !== undefined) filters.push({ dimension: 'api_key_id', op: 'eq', values: [q.api_key_id] });
    if (q.policy_id !== undefined) filters.push({ dimension: 'policy_id', op: 'eq', values: [q.policy_id] });
    const question: Question = { tenantId, metrics: COST_METRICS, dimensions: [spec.dimension], tz: 'UTC', fromMs, toMs, filters, metadata: [] };

    const { ch, tenants } = c.get('services');
    const planner = timedPlanner(c, 'analytics-costs');
    let grouped, whole, newest, labels;
    try {
      [grouped, whole, newest, labels] = await Promise.all([
        planner.ask(question, { maxGroups: MAX_BREAKDOWN_GROUPS }),
        // Grouping by user covers only events naming one: the total needs its own question.
        coversOnlyNamed(spec.dimension) ? planner.ask({ ...question, dimensions: [] }) : null,
        newestEventMs(ch, tenantId),
        q.group_by === 'api_key' ? apiKeyLabeller(tenants, tenantId) : undefined,
      ]);
    } catch (e) {
      if (e instanceof TooManyGroupsError) throw new ApiError(400, 'TOO_MANY_GROUPS', `${e.message} (narrow the window or filter)`, { field: 'group_by' });
      throw e;
    }
    planner.done();
    const sources = [...grouped.sources, ...(whole?.sources ?? [])];

    const groups = groupSums(grouped.rows, spec.dimension);
    const totals = zeroSums();
    if (whole) for (const r of whole.rows) addInto(totals, sumsOf(r));
    else for (const s of groups.values()) addInto(totals, s);
    const body = {
      window: { from: isoUtc(fromMs), to: isoUtc(toMs) },
      group_by: q.group_by,
      filters: { api_key_id: q.api_key_id ?? null, policy_id: q.policy_id ?? null },
      incident,
      totals: costFields(totals),
      rows: breakdownRows(spec, groups, totals, q.limit, labels),
      signals: { sources: sourceTables(sources), freshness_sec: freshnessSec(newest) },
    };
    return exactJson(c, body) as unknown as TypedResponse<z.infer<typeof costsResponse>, 200, 'json'>;
  });
}
