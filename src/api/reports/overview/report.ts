import { z } from '@hono/zod-openapi';
import type { Answer } from '../../../query/execute.js';
import { percent, roundedRatio } from '../ratios.js';
import { windowJson, windowSchema, type ReportWindow } from '../window.js';

/** Workflow runs are events of this type (seed 001's "workflows"). */
export const WORKFLOW_EVENT_TYPE = 'workflow.run';

export const overviewSchema = z
  .object({
    tenant_id: z.string(),
    window: windowSchema,
    total_runs: z.number().openapi({ description: 'Distinct run_id values among the events of the window' }),
    total_workflows: z.number().openapi({ description: `Events of type ${WORKFLOW_EVENT_TYPE}` }),
    failed_workflows: z.number().openapi({ description: `Events of type ${WORKFLOW_EVENT_TYPE} with success = false` }),
    failure_rate_percent: z
      .number()
      .nullable()
      .openapi({ description: 'failed_workflows / total_workflows × 100, 2 decimals; null without workflow runs', example: 8 }),
    total_events: z.number(),
    failed_events: z.number(),
    event_failure_rate_percent: z.number().nullable().openapi({ description: 'failed_events / total_events × 100 over all event types, 2 decimals; null without events' }),
    avg_p95_latency_ms: z
      .number()
      .nullable()
      .openapi({ description: 'Mean over the UTC days with latency samples of each day\'s p95 latency, 2 decimals; null without samples', example: 245.5 }),
    avg_throughput_rps: z.number().openapi({ description: 'total_requests / window length in seconds, 6 decimals', example: 89.2 }),
    total_requests: z.number(),
  })
  .openapi('ReportOverview');

export type Overview = z.infer<typeof overviewSchema>;

const big = (v: unknown) => BigInt(Math.trunc(Number(v ?? 0)));

/**
 * The overview from the per-event-type, daily and distinct-runs answers. Decisions where seed
 * 001 is silent: failure_rate_percent is over workflow.run events only (the seed's "workflow
 * failure rate"; null, not 0, when there are none) and event_failure_rate_percent covers all
 * events; avg_p95_latency_ms is the mean of the daily p95s (the seed's "avg p95"), days without
 * latency samples left out rather than counted as 0.
 */
export function overviewFrom(tenantId: string, w: ReportWindow, byType: Answer, daily: Answer, runs: Answer): Overview {
  let events = 0n;
  let failures = 0n;
  let requests = 0n;
  let workflows = 0n;
  let failedWorkflows = 0n;
  for (const row of byType.rows) {
    events += big(row.values.events);
    failures += big(row.values.failures);
    requests += big(row.values.requests);
    if (row.dims.event_type === WORKFLOW_EVENT_TYPE) {
      workflows += big(row.values.events);
      failedWorkflows += big(row.values.failures);
    }
  }
  const p95s = daily.rows.map((r) => r.values.latency_p95).filter((v): v is number => typeof v === 'number');
  const p95Sum = p95s.reduce((s, v) => s + BigInt(v), 0n);
  return {
    tenant_id: tenantId,
    window: windowJson(w),
    total_runs: Number(runs.rows[0]?.values.unique_runs ?? 0),
    total_workflows: Number(workflows),
    failed_workflows: Number(failedWorkflows),
    failure_rate_percent: percent(failedWorkflows, workflows),
    total_events: Number(events),
    failed_events: Number(failures),
    event_failure_rate_percent: percent(failures, events),
    avg_p95_latency_ms: roundedRatio(p95Sum, BigInt(p95s.length), 2),
    // requests per second = requests × 1000 / window ms
    avg_throughput_rps: roundedRatio(requests * 1000n, BigInt(w.toMs - w.fromMs), 6)!,
    total_requests: Number(requests),
  };
}
