import { z } from '@hono/zod-openapi';
import type { Answer } from '../../../query/execute.js';
import { percent } from '../ratios.js';
import { windowJson, windowSchema, type ReportWindow } from '../window.js';

export const trendPointSchema = z
  .object({
    date: z.string().openapi({ description: 'UTC day, YYYY-MM-DD (the first and last day may be partial: the window bounds them)', example: '2026-01-01' }),
    events: z.number(),
    requests: z.number(),
    failures: z.number(),
    failure_rate_percent: z.number().nullable().openapi({ description: 'failures / events × 100 over all event types, 2 decimals; null on a day without events' }),
    cost_usd: z.string().openapi({ description: 'Exact decimal USD', example: '12.50' }),
    p95_latency_ms: z.number().nullable().openapi({ description: 'null on a day without latency samples' }),
  })
  .openapi('ReportTrendPoint');

export const trendsSchema = z
  .object({
    tenant_id: z.string(),
    window: windowSchema,
    granularity: z.literal('day'),
    tz: z.literal('UTC'),
    series: z.array(trendPointSchema).openapi({ description: 'One point per UTC day of the window, oldest first; days without events are 0' }),
  })
  .openapi('ReportTrends');

export type Trends = z.infer<typeof trendsSchema>;
export type TrendPoint = z.infer<typeof trendPointSchema>;

/** The daily answer (gap-filled by the planner) as the trends series. */
export function trendsFrom(tenantId: string, w: ReportWindow, daily: Answer): Trends {
  const series = daily.rows.map((row): TrendPoint => {
    const events = Number(row.values.events ?? 0);
    const failures = Number(row.values.failures ?? 0);
    return {
      date: new Date(row.bucket!).toISOString().slice(0, 10),
      events,
      requests: Number(row.values.requests ?? 0),
      failures,
      failure_rate_percent: percent(BigInt(failures), BigInt(events)),
      cost_usd: String(row.values.cost),
      p95_latency_ms: typeof row.values.latency_p95 === 'number' ? row.values.latency_p95 : null,
    };
  });
  return { tenant_id: tenantId, window: windowJson(w), granularity: 'day', tz: 'UTC', series };
}

