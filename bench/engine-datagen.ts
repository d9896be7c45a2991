/**
 * Bench-scale data, generated inside the engine (INSERT … SELECT FROM numbers()), so 10M–100M
 * events load in minutes instead of going through HTTP. The rows are shaped like the ingest
 * path's (same columns, same materialized views fire), with Zipf-sized tenants, a diurnal and
 * weekly cycle, realistic cardinalities and costs from the list prices. For query benchmarks,
 * not for ingest figures.
 */
import type { ClickHouseStore } from '../src/stores/clickhouse/store.js';

export interface EngineDatagenOptions {
  events: number;
  tenants: number;
  days: number;
  nowMs: number;
  chunk?: number;
  onProgress?: (done: number) => void;
}

// Deterministic per-row randomness: r(k) is uniform in [0, 1) for row `number` and salt k.
const r = (k: number) => `(cityHash64(number, ${k}) % 1000000) / 1000000.0`;

export function tenantIdOf(i: number): string {
  return `bench-tenant-${String(i).padStart(3, '0')}`;
}

export async function generateInEngine(ch: ClickHouseStore, o: EngineDatagenOptions): Promise<void> {
  const chunk = o.chunk ?? 2_000_000;
  const end = Math.floor(o.nowMs / 3_600_000) * 3_600_000;
  const spanS = o.days * 86_400;
  for (let start = 0; start < o.events; start += chunk) {
    const n = Math.min(chunk, o.events - start);
    // Zipf over tenants: index = floor(T^u) - 1 puts ~1/(i+1) of the rows on tenant i.
    await ch.command(`
      INSERT INTO events (tenant_id, event_id, ts, ingested_at, event_type, project, environment, user_id, agent_id,
                          api_key_id, feature, model, provider, endpoint, run_id, policy_id, source, success, status,
                          requests, input_tokens, output_tokens, compute_units, latency_ms, cost_nano, cost_unpriced, metadata)
      SELECT tenant_id, event_id, ts, ts AS ingested_at, event_type, project, environment, user_id, agent_id, api_key_id,
             feature, model, provider, endpoint, run_id, '' AS policy_id, 'bench' AS source, success, status, requests,
             input_tokens, output_tokens, compute_units, latency_ms, cost_nano, 0 AS cost_unpriced, map() AS metadata
      FROM (
        SELECT
          number,
          concat('bench-tenant-', leftPad(toString(least(${o.tenants - 1}, toUInt32(floor(pow(${o.tenants + 1}, ${r(1)})) - 1))), 3, '0')) AS tenant_id,
          concat('bench-', toString(number)) AS event_id,
          -- a day uniformly, an hour from a bump around 14:00 UTC, weekends thinner (rows moved to Friday)
          fromUnixTimestamp64Milli(toInt64(
            ((${end / 1000} - ${spanS}) + floor(${r(2)} * ${o.days}) * 86400 + (toUInt32(abs(14 + 4.5 * (${r(3)} + ${r(4)} + ${r(5)} - 1.5) * 2)) % 24) * 3600 + floor(${r(6)} * 3600)) * 1000
          )) AS ts,
          arrayElement(['llm.call','llm.call','llm.call','llm.call','llm.call','llm.call','api.call','api.call','token.issued','workflow.run','credential.rotated','sql_generation'], 1 + toUInt32(${r(7)} * 12)) AS event_type,
          arrayElement(['web','mobile','platform'], 1 + toUInt32(${r(8)} * 3)) AS project,
          arrayElement(['production','production','production','staging','development'], 1 + toUInt32(${r(9)} * 5)) AS environment,
          concat('user-', toString(toUInt32(floor(pow(2001, ${r(10)})) - 1))) AS user_id,
          if(${r(11)} < 0.6, concat('agent-', toString(toUInt32(${r(12)} * 25))), '') AS agent_id,
          concat('key-', toString(toUInt32(${r(13)} * 5))) AS api_key_id,
          arrayElement(['chat','search','summarize','code-review','support-bot','sql-assistant',''], 1 + toUInt32(${r(14)} * 7)) AS feature,
          if(event_type IN ('llm.call','sql_generation'), arrayElement(['gpt-4o','gpt-4o-mini','gpt-4.1','claude-sonnet-4-20250514','claude-3-5-haiku-20241022','gemini-2.5-flash'], 1 + toUInt32(${r(15)} * 6)), '') AS model,
          multiIf(startsWith(model, 'gpt'), 'openai', startsWith(model, 'claude'), 'anthropic', startsWith(model, 'gemini'), 'google', '') AS provider,
          if(model = '', arrayElement(['/v1/chat','/v1/search','/v1/agents/run','/v1/tokens','/v1/credentials/rotate','/v1/reports'], 1 + toUInt32(${r(16)} * 6)), '') AS endpoint,
          concat('run-', toString(toUInt32(${r(17)} * 50000))) AS run_id,
          ${r(18)} > 0.03 AS success,
          if(success, '200', arrayElement(['500','429','timeout'], 1 + toUInt32(${r(19)} * 3))) AS status,
          toUInt32(1) AS requests,
          if(model != '', toUInt64(50 + ${r(20)} * ${r(21)} * 4000), 0) AS input_tokens,
          if(model != '' AND success, toUInt64(20 + ${r(22)} * ${r(23)} * 1200), 0) AS output_tokens,
          if(event_type = 'workflow.run', toUInt64(1 + ${r(24)} * 20), 0) AS compute_units,
          toUInt32(if(model != '', 300 + ${r(25)} * ${r(26)} * 4000, 20 + ${r(27)} * ${r(28)} * 600)) AS latency_ms,
          toInt64(multiIf(
            model = 'gpt-4o', input_tokens * 2500 + output_tokens * 10000,
            model = 'gpt-4o-mini', input_tokens * 150 + output_tokens * 600,
            model = 'gpt-4.1', input_tokens * 2000 + output_tokens * 8000,
            model = 'claude-sonnet-4-20250514', input_tokens * 3000 + output_tokens * 15000,
            model = 'claude-3-5-haiku-20241022', input_tokens * 800 + output_tokens * 4000,
            model = 'gemini-2.5-flash', input_tokens * 300 + output_tokens * 2500, 0)) AS cost_nano
        FROM numbers(${start}, ${n})
      )`);
    o.onProgress?.(start + n);
  }
}
