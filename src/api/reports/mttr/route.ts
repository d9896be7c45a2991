import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { mttrBySeverity } from '../../../control/incidents/mttr.js';
import { resolutionTimes } from '../../../control/incidents/store.js';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';
import { reportWindowQuery, resolveWindow, windowJson, windowSchema } from '../window.js';

const stats = z.object({
  count: z.number().openapi({ description: 'Incidents resolved in the window' }),
  mean_sec: z.number().nullable().openapi({ description: 'Mean open → resolved time, seconds (to the millisecond); null without incidents' }),
  median_sec: z.number().nullable().openapi({ description: 'Median; of an even count, the mean of the middle two' }),
  p95_sec: z.number().nullable().openapi({ description: 'Nearest-rank 95th percentile: the ⌈0.95·count⌉-th shortest' }),
});
const mttrSchema = stats
  .extend({ window: windowSchema, by_severity: z.object({ LOW: stats, MEDIUM: stats, HIGH: stats, CRITICAL: stats }) })
  .openapi('MttrReport');

const mttr = createRoute({
  method: 'get',
  path: '/api/v1/reports/mttr',
  tags: ['reports'],
  summary: 'Mean time to resolve incidents (seed 001): count, mean, median and p95 over incidents resolved in [from, to), overall and per severity',
  description: 'Time to resolve = resolved_at − opened_at. An incident counts in the window its resolution falls in. Default window: the last 30 days.',
  security: [{ bearer: [] }],
  middleware: requireScope('read'),
  request: { query: reportWindowQuery },
  responses: { 200: { description: 'MTTR', content: { 'application/json': { schema: mttrSchema } } }, ...errorResponses },
});

export function registerMttrReport(app: OpenAPIHono<AppEnv>) {
  app.openapi(mttr, async (c) => {
    const w = resolveWindow(c.req.valid('query'));
    const rows = await resolutionTimes(c.get('services').pg.pool, c.get('principal').tenant.id, new Date(w.fromMs), new Date(w.toMs));
    const { overall, by_severity } = mttrBySeverity(rows);
    return c.json({ window: windowJson(w), ...overall, by_severity }, 200);
  });
}
