import type { IngestContext } from './ingest-service.js';
import { usdToNano } from './money.js';
import type { PriceBook } from './prices.js';
import type { ValidEvent } from './validate-event.js';

/** The events columns the ingest path writes, in the order of each compact row below. */
export const EVENT_COLUMNS = [
  'tenant_id', 'event_id', 'ts', 'ingested_at', 'event_type', 'project', 'environment', 'user_id', 'agent_id',
  'api_key_id', 'feature', 'model', 'provider', 'endpoint', 'run_id', 'policy_id', 'source', 'success', 'status',
  'requests', 'input_tokens', 'output_tokens', 'compute_units', 'latency_ms', 'cost_nano', 'cost_unpriced', 'metadata',
] as const;

/** JSONCompactEachRow rows (EVENT_COLUMNS order) for the events table, costs settled. */
export function buildEventRows(ctx: IngestContext, events: ValidEvent[], prices: PriceBook, nowMs: number): Buffer {
  const ingestedAt = chTime(nowMs);
  const lines: string[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const { input: e, eventId, tsMs } = events[i]!;
    const inputTokens = e.input_tokens ?? 0;
    const outputTokens = e.output_tokens ?? 0;
    let costNano = 0n;
    let unpriced = 0;
    let provider = e.provider ?? '';
    if (e.cost !== undefined) costNano = usdToNano(e.cost);
    else {
      // No cost sent: price the tokens at the model's price in effect at the event's time.
      // Tokens nobody can price are stored at 0 and counted in cost_unpriced, not hidden.
      const q = e.model ? prices.quote(ctx.tenantId, e.model, tsMs, inputTokens, outputTokens) : null;
      if (q) {
        costNano = q.costNano;
        if (!provider) provider = q.provider;
      } else if (inputTokens + outputTokens > 0) unpriced = 1;
    }
    lines[i] = JSON.stringify([
      ctx.tenantId,
      eventId,
      chTime(tsMs),
      ingestedAt,
      e.event_type,
      e.project ?? '',
      e.environment ?? '',
      e.user_id ?? '',
      e.agent_id ?? '',
      e.api_key_id ?? ctx.apiKeyId,
      e.feature ?? '',
      e.model ?? '',
      provider,
      e.endpoint ?? '',
      e.run_id ?? '',
      e.policy_id ?? '',
      e.source ?? '',
      e.success ?? true,
      e.status ?? '',
      e.requests ?? 1,
      inputTokens,
      outputTokens,
      e.compute_units ?? 0,
      e.latency_ms === undefined ? null : Math.round(e.latency_ms),
      costNano.toString(),
      unpriced,
      e.metadata ?? {},
    ]);
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** ClickHouse DateTime64(3) text, UTC. */
export function chTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) + ' ' + iso.slice(11, 23);
}
