import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { DateTime } from 'luxon';
import { dim } from '../../../ingest/event-schema.js';
import { requireScope } from '../../auth.js';
import { ApiError, errorResponses, errorSchema } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached, DEFAULT_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { API_CALL, CREDENTIAL_ROTATED, periodQuestion, TOKEN_ISSUED } from './common.js';
import { dayOf, parsePeriod, periodQuery, periodSchema } from './period.js';

const MAX_DAYS = 90;

const dailyActivity = z.object({
  date: z.string(),
  apiCalls: z.number().int(),
  tokenIssuances: z.number().int(),
  credentialRotations: z.number().int(),
});

const agentActivity = z
  .object({
    tenantId: z.string(),
    period: periodSchema,
    agents: z.array(
      z.object({
        agentId: z.string(),
        agentName: z.string().openapi({ description: 'The agent id: tallyhouse keeps no agent registry, agents are known by the ids events carry' }),
        dailyActivity: z.array(dailyActivity).openapi({ description: 'Every day of the period, zeros included' }),
      }),
    ),
  })
  .openapi('AgentActivity');

export const agentActivityRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/agent-activity',
  tags: ['agent analytics'],
  summary: 'Per-agent daily API calls, token issuances and credential rotations (heatmap)',
  description:
    'Agents are those named (agent_id) by any event in the period, sorted by id; days are UTC and gap-filled. ' +
    'There is no agent registry, so agentName is the agent id. With `agentId`: that agent only; 404 AGENT_NOT_FOUND when the tenant ' +
    `has no event of that agent at all (within retention). At most ${MAX_DAYS} days. Cached ${DEFAULT_TTL_MS / 60_000} min.`,
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('agent-activity', DEFAULT_TTL_MS)],
  request: {
    query: z.object({ ...periodQuery, agentId: dim().min(1).optional().openapi({ description: 'Only this agent' }) }),
  },
  responses: {
    200: { description: 'Activity per agent and day', content: { 'application/json': { schema: agentActivity } } },
    ...errorResponses,
    404: { description: 'AGENT_NOT_FOUND: the tenant has no events of `agentId`', content: { 'application/json': { schema: errorSchema } } },
  },
});

type Day = z.infer<typeof dailyActivity>;

export function registerAgentActivity(app: OpenAPIHono<AppEnv>) {
  app.openapi(agentActivityRoute, async (c) => {
    const query = c.req.valid('query');
    const period = parsePeriod(query, { maxDays: MAX_DAYS });
    const tenantId = c.get('principal').tenant.id;
    const { config } = c.get('services');
    const planner = timedPlanner(c, 'agent-activity');
    const agentFilter = query.agentId === undefined ? [] : [{ dimension: 'agent_id' as const, op: 'eq' as const, values: [query.agentId] }];
    // Every event type, so an agent active only through other events still gets its (empty) row.
    // Sparse: the per-agent day map below is the gap filling (agents × types × days would not be).
    const activity = await planner.ask(
      periodQuestion(tenantId, period, { metrics: ['events'], dimensions: ['agent_id', 'event_type'], granularity: 'day', filters: agentFilter }),
      { fillGaps: false },
    );

    const agents = new Map<string, Map<string, Day>>();
    const agentDays = (agentId: string) => {
      let days = agents.get(agentId);
      if (!days) {
        days = new Map(period.dates.map((date) => [date, { date, apiCalls: 0, tokenIssuances: 0, credentialRotations: 0 }]));
        agents.set(agentId, days);
      }
      return days;
    };
    for (const row of activity.rows) {
      const day = agentDays(row.dims.agent_id as string).get(dayOf(row.bucket!, period.tz))!;
      const n = row.values.events as number;
      const type = row.dims.event_type;
      if (type === API_CALL) day.apiCalls += n;
      else if (type === TOKEN_ISSUED) day.tokenIssuances += n;
      else if (type === CREDENTIAL_ROTATED) day.credentialRotations += n;
    }

    if (query.agentId !== undefined && !agents.has(query.agentId)) {
      // Quiet in this period: the agent exists if the tenant has any of its events, from the
      // oldest day retention keeps to the furthest future ingest accepts (whole days, so the
      // rollups answer).
      const today = DateTime.utc().startOf('day');
      const ever = await planner.ask({
        ...periodQuestion(tenantId, period, { metrics: ['events'], filters: agentFilter }),
        fromMs: today.minus({ days: config.retentionDays }).toMillis(),
        toMs: today.plus({ days: config.ingest.maxFutureDays + 1 }).toMillis(),
      });
      if (!((ever.rows[0]?.values.events as number | undefined) ?? 0)) {
        planner.done();
        throw new ApiError(404, 'AGENT_NOT_FOUND', `no agent "${query.agentId}" in this tenant`, { field: 'agentId' });
      }
      agentDays(query.agentId);
    }
    planner.done();

    const ids = [...agents.keys()].sort();
    return c.json(
      {
        tenantId,
        period: { from: period.from, to: period.to },
        agents: ids.map((agentId) => ({ agentId, agentName: agentId, dailyActivity: [...agents.get(agentId)!.values()] })),
      },
      200,
    );
  });
}
