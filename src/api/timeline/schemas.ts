import { z } from '@hono/zod-openapi';

export const timelineEntrySchema = z
  .object({
    id: z.string(),
    ts: z.string(),
    source_domain: z.string().openapi({ description: 'budgets, anomalies, incidents, keys, …' }),
    event_type: z.string().openapi({ example: 'incident.opened' }),
    entity_id: z.string(),
    related: z.record(z.string(), z.string().nullable()).openapi({ description: 'Ids of linked entities: incident_id, run_id, budget_id, anomaly_id, api_key_id…' }),
    summary: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('TimelineEntry');
