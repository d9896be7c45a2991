import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireScope } from '../../auth.js';
import { errorResponses } from '../../errors.js';
import type { AppEnv } from '../../env.js';

// The scheduled jobs' health (src/jobs): from the in-process scheduler in embedded mode, from
// the workers' shared history in Redis in server mode. Engine-wide, not tenant data: admin only.
const jobStatus = z
  .object({
    job: z.string(),
    every_ms: z.number().int().nullable().openapi({ description: 'Schedule; null for a job this build does not register' }),
    last_success_at: z.string().nullable(),
    last_success_window: z.string().nullable().openapi({ description: 'Start of the window of the last success' }),
    last_failure_at: z.string().nullable(),
    last_error: z.string().nullable(),
    failures: z.number().int().openapi({ description: 'Failed attempts, retried ones included' }),
    dead_lettered: z.number().int().openapi({ description: 'Windows that failed every attempt and were set aside' }),
  })
  .openapi('JobStatus');

const listJobs = createRoute({
  method: 'get',
  path: '/api/v1/ops/jobs',
  tags: ['ops'],
  summary: 'Scheduled jobs: last success and failure, failure and dead-letter counts',
  security: [{ bearer: [] }],
  middleware: requireScope('admin'),
  responses: {
    200: {
      description: 'One entry per job',
      content: { 'application/json': { schema: z.object({ mode: z.enum(['embedded', 'queue']), jobs: z.array(jobStatus) }) } },
    },
    ...errorResponses,
  },
});

export function registerOpsJobs(app: OpenAPIHono<AppEnv>) {
  app.openapi(listJobs, async (c) => {
    const { jobs } = c.get('services');
    return c.json({ mode: jobs.mode, jobs: await jobs.status() }, 200);
  });
}
