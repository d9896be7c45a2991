import type { IngestContext } from './ingest-service.js';
import { usdToNano } from './money.js';
import type { PriceBook } from './prices.js';
import type { ValidEvent } from './validate-event.js';

/** NDJSON rows for the events table, costs settled. */
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
    lines[i] = JSON.stringify({
      tenant_id: ctx.tenantId,
      event_id: eventId,
      ts: chTime(tsMs),
      ingested_at: ingestedAt,
      event_type: e.event_type,
      project: e.project ?? '',
      environment: e.environment ?? '',
      user_id: e.user_id ?? '',
      agent_id: e.agent_id ?? '',
      api_key_id: e.api_key_id ?? ctx.apiKeyId,
      feature: e.feature ?? '',
      model: e.model ?? '',
      provider,
      endpoint: e.endpoint ?? '',
      run_id: e.run_id ?? '',
      policy_id: e.policy_id ?? '',
      source: e.source ?? '',
      success: e.success ?? true,
      status: e.status ?? '',
      requests: e.requests ?? 1,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      compute_units: e.compute_units ?? 0,
      latency_ms: e.latency_ms === undefined ? null : Math.round(e.latency_ms),
      cost_nano: costNano.toString(),
      cost_unpriced: unpriced,
      metadata: e.metadata ?? {},
    });
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** ClickHouse DateTime64(3) text, UTC. */
export function chTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.slice(0, 10) + ' ' + iso.slice(11, 23);
}
