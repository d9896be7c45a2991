import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { SourceName } from '../../../query/catalog.js';
import { lastReconciliation } from '../../../jobs/reconciliation-runs.js';
import { freshnessSec, newestEventMs } from '../../../query/freshness.js';
import { plan, type Question } from '../../../query/planner.js';
import { DAY_MS } from '../../../query/time-buckets.js';
import { requireScope } from '../../auth.js';
import type { AppEnv } from '../../env.js';
import { cached, SUMMARY_TTL_MS } from '../../response-cache.js';
import { analyticsEnabled, analyticsPlan } from '../gate.js';
import { sourceTables } from '../signals.js';
import { costQuestions } from '../statistics/cost.js';
import { RESOLUTIONS, type StatisticsParams } from '../statistics/params.js';
import { analyticsErrorResponses } from '../statistics/schemas.js';
import { usageQuestions } from '../statistics/usage.js';

/**
 * Seed 000 capability probe. signals_bound is the number of tables that can answer a topic,
 * read off the planner: the plans of the topic's own questions over a day-aligned and an
 * unaligned window, at every resolution and scope, plus the raw table that `source=raw` forces.
 */
export function topicTables(questions: (p: StatisticsParams) => Record<string, Question>): string[] {
  const sources = new Set<SourceName>(['raw']);
  const start = Date.UTC(2026, 0, 5);
  const windows: [number, number][] = [
    [start, start + 28 * DAY_MS],
    [start + 90 * 60_000, start + 28 * DAY_MS - 30 * 60_000],
  ];
  const scopes: Pick<StatisticsParams, 'scope' | 'filters'>[] = [
    { scope: 'org', filters: [] },
    { scope: 'env', filters: [{ dimension: 'project', op: 'eq', values: ['p'] }, { dimension: 'environment', op: 'eq', values: ['e'] }] },
  ];
  for (const resolution of RESOLUTIONS) {
    for (const [fromMs, toMs] of windows) {
      for (const scope of scopes) {
        const p: StatisticsParams = { tenantId: 'probe', fromMs, toMs, resolution, tz: 'UTC', ...scope, source: 'auto' };
        for (const q of Object.values(questions(p))) {
          const pl = plan(q);
          for (const seg of pl.additive?.segments ?? []) sources.add(seg.source);
          for (const s of pl.distinct?.segments ?? []) sources.add(s.source);
        }
      }
    }
  }
  return sourceTables(sources);
}

const topicSchema = z.object({
  read: z.boolean(),
  write: z.boolean(),
  signals_bound: z.number().int().openapi({ description: 'How many tables can answer this topic' }),
  tables: z.array(z.string()),
});

const statusSchema = z
  .object({
    domain: z.literal('analytics'),
    subdomains: z.array(z.string()),
    topics: z.object({ usage: topicSchema, cost: topicSchema }),
    freshness_sec: z.number().int().nullable().openapi({ description: "Age in seconds of the tenant's newest event (null: no events)" }),
    reconciliation: z
      .object({
        last_run_at: z.string().openapi({ description: 'When the newest successful reconciliation run covering this tenant finished' }),
        hours_checked: z.number().int().openapi({ description: "This tenant's hours compared with deduplicated raw events in that run" }),
        hours_repaired: z.number().int().openapi({ description: "This tenant's hours whose rollups differed and were rebuilt" }),
        lag_sec: z.number().int().nullable().openapi({ description: 'Age of the end of the newest closed hour the run checked' }),
      })
      .nullable()
      .openapi({ description: 'Last reconciliation of rollups against raw events (null: none yet)' }),
  })
  .openapi('AnalyticsStatus');

export const analyticsStatusRoute = createRoute({
  method: 'get',
  path: '/api/v1/analytics/_status',
  tags: ['analytics'],
  summary: 'Analytics capability probe: topics, whether they read or write, and the tables bound to each',
  description: 'Seed 000 `_status`. Read-only domain: write is false for every topic. Cached for 60 s per tenant.',
  security: [{ bearer: [] }],
  middleware: [analyticsEnabled, requireScope('read'), analyticsPlan, cached('analytics-status', SUMMARY_TTL_MS)],
  responses: { 200: { description: 'Status', content: { 'application/json': { schema: statusSchema } } }, ...analyticsErrorResponses },
});

export function registerAnalyticsStatus(app: OpenAPIHono<AppEnv>) {
  // The planner's rules do not change while the process runs.
  const topic = (tables: string[]) => ({ read: true, write: false, signals_bound: tables.length, tables });
  const topics = { usage: topic(topicTables(usageQuestions)), cost: topic(topicTables(costQuestions)) };
  app.openapi(analyticsStatusRoute, async (c) => {
    const { ch, pg } = c.get('services');
    const tenantId = c.get('principal').tenant.id;
    const newest = await newestEventMs(ch, tenantId);
    const reconciliation = await lastReconciliation(pg.pool, tenantId);
    return c.json({ domain: 'analytics' as const, subdomains: ['statistics'], topics, freshness_sec: freshnessSec(newest), reconciliation }, 200);
  });
}
