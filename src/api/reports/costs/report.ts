import { z } from '@hono/zod-openapi';
import { nanoToUsd, usdToNano } from '../../../ingest/money.js';
import type { Answer } from '../../../query/execute.js';
import { windowJson, windowSchema, type ReportWindow } from '../window.js';

const usd = (description: string) => z.string().openapi({ description: `${description} (exact decimal USD)`, example: '1.50' });

export const serviceCostSchema = z
  .object({
    service_type: z.string().openapi({ description: 'The event type', example: 'workflow.run' }),
    events: z.number(),
    requests: z.number(),
    cost_usd: usd('Metered cost of these events'),
    unit_rate_usd: usd("The tenant's price per event of this type").nullable().openapi({ description: 'null when the tenant has no rate for this type' }),
    estimated_cost_usd: usd('events × unit_rate_usd').nullable().openapi({ description: 'null when the tenant has no rate for this type' }),
  })
  .openapi('ReportServiceCost');

export const costsSchema = z
  .object({
    tenant_id: z.string(),
    window: windowSchema,
    services: z.array(serviceCostSchema).openapi({ description: 'Event types with events in the window, costliest first' }),
    total: z.object({
      events: z.number(),
      requests: z.number(),
      cost_usd: usd('Metered cost of all events'),
      estimated_cost_usd: usd('Sum of estimated_cost_usd over the types that have a rate').nullable().openapi({ description: 'null when no type in the window has a rate' }),
    }),
    cost_per_hour_usd: usd('total.cost_usd / window length in hours, rounded to the nano-USD'),
    estimated_cost_per_hour_usd: usd('total.estimated_cost_usd / window length in hours').nullable(),
  })
  .openapi('ReportCosts');

export type Costs = z.infer<typeof costsSchema>;
export type ServiceCost = z.infer<typeof serviceCostSchema>;

const HOUR_MS = 3_600_000n;

/** nano-USD per window → per hour, rounded half up to the nano. */
const perHour = (nano: bigint, w: ReportWindow) => {
  const ms = BigInt(w.toMs - w.fromMs);
  return nanoToUsd((nano * HOUR_MS * 2n + ms) / (2n * ms));
};

/** Cost by service type (= event type), priced with the tenant's unit rates where it has one. */
export function costsFrom(tenantId: string, w: ReportWindow, byType: Answer, rates: Map<string, bigint>): Costs {
  let events = 0n;
  let requests = 0n;
  let costNano = 0n;
  let estimatedNano: bigint | null = null;
  const rows = byType.rows.map((row) => {
    const type = String(row.dims.event_type);
    const n = BigInt(Number(row.values.events ?? 0));
    const nano = usdToNano(String(row.values.cost));
    const rate = rates.get(type);
    const estimated = rate === undefined ? null : n * rate;
    events += n;
    requests += BigInt(Number(row.values.requests ?? 0));
    costNano += nano;
    if (estimated !== null) estimatedNano = (estimatedNano ?? 0n) + estimated;
    const service: ServiceCost = {
      service_type: type,
      events: Number(n),
      requests: Number(row.values.requests ?? 0),
      cost_usd: nanoToUsd(nano),
      unit_rate_usd: rate === undefined ? null : nanoToUsd(rate),
      estimated_cost_usd: estimated === null ? null : nanoToUsd(estimated),
    };
    return { service, nano };
  });
  rows.sort((a, b) => (a.nano !== b.nano ? (a.nano > b.nano ? -1 : 1) : b.service.events - a.service.events || (a.service.service_type < b.service.service_type ? -1 : 1)));
  const estimated = estimatedNano as bigint | null;
  return {
    tenant_id: tenantId,
    window: windowJson(w),
    services: rows.map((r) => r.service),
    total: {
      events: Number(events),
      requests: Number(requests),
      cost_usd: nanoToUsd(costNano),
      estimated_cost_usd: estimated === null ? null : nanoToUsd(estimated),
    },
    cost_per_hour_usd: perHour(costNano, w),
    estimated_cost_per_hour_usd: estimated === null ? null : perHour(estimated, w),
  };
}
