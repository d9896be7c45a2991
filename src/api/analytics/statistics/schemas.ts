import { z } from '@hono/zod-openapi';
import { errorResponses, errorSchema } from '../../errors.js';
import { breakdownRowSchema, costFieldsSchema } from './breakdown.js';
import { RESOLUTIONS } from './params.js';

/** Response shapes of seed 000: `{window, totals, series, signals}` and the cost sibling. */
export const windowSchema = z.object({
  from: z.string().openapi({ example: '2026-11-01T00:00:00Z' }),
  to: z.string().openapi({ description: 'Exclusive', example: '2026-11-08T00:00:00Z' }),
  resolution: z.enum(RESOLUTIONS),
});

export const signalsSchema = z.object({
  sources: z.array(z.string()).openapi({ description: 'Tables that answered', example: ['rollup_daily', 'rollup_hourly', 'events'] }),
  freshness_sec: z.number().int().nullable().openapi({ description: "Age in seconds of the tenant's newest event (null: no events)" }),
});

const bucketTs = z.string().openapi({ description: 'Bucket start, RFC 3339 in the requested time zone', example: '2026-11-01T00:00:00Z' });

export const usageStatisticsSchema = z
  .object({
    window: windowSchema,
    totals: z.object({
      requests: z.number().int(),
      compute_units: z.number().int(),
      tokens: z.number().int().openapi({ description: 'input_tokens + output_tokens' }),
      input_tokens: z.number().int(),
      output_tokens: z.number().int(),
      events: z.number().int(),
      unique_users: z.number().int(),
      unique_agents: z.number().int(),
      latency_p95: z.number().nullable().openapi({ description: 'Milliseconds; null when no event carried a latency' }),
      success_rate: z.number().nullable().openapi({ description: 'Succeeded events / events, 0..1; null without events' }),
    }),
    series: z.array(z.object({ ts: bucketTs, requests: z.number().int(), compute_units: z.number().int(), tokens: z.number().int() })),
    signals: signalsSchema,
  })
  .openapi('UsageStatistics');
export type UsageStatisticsBody = z.infer<typeof usageStatisticsSchema>;

export const costStatisticsSchema = z
  .object({
    window: windowSchema,
    totals: z.object(costFieldsSchema),
    series: z.array(z.object({ ts: bucketTs, ...costFieldsSchema }).omit({ spend_usd: true })),
    by_model: z.array(breakdownRowSchema('model', 'Model (null: events without one)')),
    by_feature: z.array(breakdownRowSchema('feature_tag', 'Feature tag ("untagged": events without one)')),
    by_user: z.array(breakdownRowSchema('user_id', 'User (null: events without one)')),
    by_api_key: z.array(breakdownRowSchema('api_key_id', 'API key id; key_name / key_prefix when it is one of the tenant keys')),
    by_project: z.array(breakdownRowSchema('project', 'Project (null: events without one)')),
    signals: signalsSchema,
  })
  .openapi('CostStatistics');
export type CostStatisticsBody = z.infer<typeof costStatisticsSchema>;

/** The shared error responses plus the 404 every analytics route gives when analytics are off. */
export const analyticsErrorResponses = {
  ...errorResponses,
  404: { description: 'NOT_FOUND: analytics are disabled (ANALYTICS_ENABLED=false)', content: { 'application/json': { schema: errorSchema } } },
} as const;
