import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { cached, DEFAULT_TTL_MS } from '../../response-cache.js';
import { timedPlanner } from '../../timed-planner.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { CREDENTIAL_ROTATED, periodQuestion, ratio2 } from './common.js';
import { parsePeriod, periodQuery, periodSchema } from './period.js';

const MAX_DAYS = 365;
const DAY_MS = 86_400_000;
const SORTS = ['rotations', 'agentId', 'lastRotatedAt'] as const;

const rotationAgent = z.object({
  agentId: z.string(),
  rotations: z.number().int(),
  lastRotatedAt: z.string().optional().openapi({ description: 'Time of the last rotation in the period (absent without one)' }),
  averageDaysBetweenRotations: z
    .number()
    .optional()
    .openapi({ description: '(last − first rotation) / (rotations − 1) in days, 2 decimals; absent with fewer than 2 rotations' }),
});

const credentialRotations = z
  .object({ tenantId: z.string(), period: periodSchema, agents: z.array(rotationAgent) })
  .openapi('CredentialRotations');

export const credentialRotationsRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/credential-rotations',
  tags: ['agent analytics'],
  summary: 'Credential rotation frequency per agent',
  description:
    'Rotations are `credential.rotated` events. Every agent active in the period is listed, those that never rotated with rotations 0 ' +
    '(the ones a security review looks for). Default order: most rotations first; `sort` and `order` change it (ties by agentId). ' +
    `UTC days, at most ${MAX_DAYS}. Cached ${DEFAULT_TTL_MS / 60_000} min.`,
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('credential-rotations', DEFAULT_TTL_MS)],
  request: {
    query: z.object({
      ...periodQuery,
      sort: z.enum(SORTS).default('rotations'),
      order: z.enum(['asc', 'desc']).optional().openapi({ description: 'Default: desc for rotations and lastRotatedAt, asc for agentId' }),
    }),
  },
  responses: { 200: { description: 'Agents', content: { 'application/json': { schema: credentialRotations } } }, ...errorResponses },
});

type Row = z.infer<typeof rotationAgent> & { lastMs: number };

export function registerCredentialRotations(app: OpenAPIHono<AppEnv>) {
  app.openapi(credentialRotationsRoute, async (c) => {
    const query = c.req.valid('query');
    const period = parsePeriod(query, { maxDays: MAX_DAYS });
    const tenantId = c.get('principal').tenant.id;
    const planner = timedPlanner(c, 'credential-rotations');
    const [active, rotated] = await Promise.all([
      planner.ask(periodQuestion(tenantId, period, { metrics: ['events'], dimensions: ['agent_id'] })),
      planner.ask(
        periodQuestion(tenantId, period, {
          metrics: ['events', 'first_seen', 'last_seen'],
          dimensions: ['agent_id'],
          filters: [{ dimension: 'event_type', op: 'eq', values: [CREDENTIAL_ROTATED] }],
        }),
      ),
    ]);
    planner.done();

    const rows = new Map<string, Row>();
    for (const r of active.rows) {
      const agentId = r.dims.agent_id as string;
      rows.set(agentId, { agentId, rotations: 0, lastMs: Number.NEGATIVE_INFINITY });
    }
    for (const r of rotated.rows) {
      const agentId = r.dims.agent_id as string;
      const n = r.values.events as number;
      const first = Date.parse(r.values.first_seen as string);
      const last = Date.parse(r.values.last_seen as string);
      rows.set(agentId, {
        agentId,
        rotations: n,
        lastRotatedAt: r.values.last_seen as string,
        ...(n >= 2 ? { averageDaysBetweenRotations: ratio2(last - first, DAY_MS * (n - 1)) } : {}),
        lastMs: last,
      });
    }

    const order = query.order ?? (query.sort === 'agentId' ? 'asc' : 'desc');
    const dir = order === 'asc' ? 1 : -1;
    const byId = (a: Row, b: Row) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0);
    const value = (r: Row) => (query.sort === 'rotations' ? r.rotations : r.lastMs);
    const agents = [...rows.values()].sort((a, b) => {
      if (query.sort === 'agentId') return dir * byId(a, b);
      const va = value(a);
      const vb = value(b);
      return va === vb ? byId(a, b) : va < vb ? -dir : dir;
    });
    return c.json(
      {
        tenantId,
        period: { from: period.from, to: period.to },
        agents: agents.map(({ lastMs: _, ...a }) => a),
      },
      200,
    );
  });
}
