/**
 * Bench-scale data generated inside the engine (INSERT INTO events … SELECT FROM numbers()), so
 * 10M–100M events load in minutes instead of going through HTTP; the rows go into `events`, so
 * every materialized view (event_ids, the hourly/daily rollups, the narrow and totals rollups,
 * actors) is fed exactly as by ingest. Not an ingest figure: the ingest section measures that.
 *
 * Shape:
 *  - tenants: Zipf sizes (tenant i gets ~1/(i+1) of the rows through floor((T+1)^u) − 1; with
 *    1,000 tenants the largest holds ~10 %, as the 100M/largest-10M budget scenario);
 *  - time: `days` of history ending at the last closed hour; a diurnal bump around 14:00 UTC and
 *    weekends at ~40 % (60 % of weekend rows move to Thursday/Friday);
 *  - cardinalities: 15 models, 30 features (+10 % untagged), 40 endpoints, 5 projects, 3
 *    environments; per tenant, users Zipf up to 10,000 (the cap shrinks with tenant rank), agents up
 *    to 300, API keys up to 20; costs from list prices per token (nano-USD, exact integers).
 */
import type { ClickHouseStore } from '../../src/stores/clickhouse/store.js';

// Deterministic per-row randomness: uniform in [0, 1) for row `number` and salt k.
const r = (k: number) => `(cityHash64(number, ${k}) % 1000000) / 1000000.0`;

/** Model, provider, nano-USD per input token, per output token (list prices per 1M tokens × 1000). */
export const MODELS: [string, string, number, number][] = [
  ['gpt-4o-mini', 'openai', 150, 600],
  ['gpt-4o', 'openai', 2500, 10000],
  ['claude-3-5-haiku-20241022', 'anthropic', 800, 4000],
  ['gemini-2.5-flash', 'google', 300, 2500],
  ['claude-sonnet-4-20250514', 'anthropic', 3000, 15000],
  ['gpt-4.1', 'openai', 2000, 8000],
  ['gpt-4.1-mini', 'openai', 400, 1600],
  ['gemini-2.5-pro', 'google', 1250, 10000],
  ['o3-mini', 'openai', 1100, 4400],
  ['mistral-large-latest', 'mistral', 2000, 6000],
  ['claude-opus-4-20250514', 'anthropic', 15000, 75000],
  ['llama-3.3-70b', 'meta', 600, 600],
  ['command-r-plus', 'cohere', 2500, 10000],
  ['o3', 'openai', 2000, 8000],
  ['gpt-4.1-nano', 'openai', 100, 400],
];
const FEATURES = [
  'chat', 'search', 'summarize', 'code-review', 'support-bot', 'sql-assistant', 'translate', 'classify', 'extract', 'draft-email',
  'meeting-notes', 'rag-answer', 'doc-qa', 'autocomplete', 'agent-planner', 'agent-executor', 'moderation', 'sentiment', 'tagging', 'report-gen',
  'onboarding', 'faq', 'insights', 'forecast', 'anomaly-explain', 'ticket-triage', 'code-gen', 'test-gen', 'changelog', 'release-notes',
];
const ENDPOINTS = Array.from({ length: 40 }, (_, i) => `/v1/${['chat', 'search', 'agents', 'tokens', 'credentials', 'reports', 'files', 'runs'][i % 8]}/${['run', 'list', 'get', 'create', 'rotate'][Math.floor(i / 8)]}`);
// Event type weights out of 100.
const TYPES: [string, number][] = [
  ['llm.call', 48], ['api.call', 22], ['token.issued', 9], ['workflow.run', 7], ['sql_generation', 5], ['tool.call', 6], ['credential.rotated', 3],
];

const list = (xs: (string | number)[]) => `[${xs.map((x) => (typeof x === 'number' ? String(x) : `'${x.replace(/'/g, "\\'")}'`)).join(',')}]`;
const typeArray = TYPES.flatMap(([t, w]) => Array<string>(w).fill(t));

export interface DatagenOptions {
  events: number;
  /** Tenant ids, largest first (Postgres ids, so the API serves them). */
  tenantIds: string[];
  days: number;
  nowMs: number;
  chunk?: number;
  onProgress?: (done: number) => void;
}

export async function generateTenants(ch: ClickHouseStore, o: DatagenOptions): Promise<void> {
  const T = o.tenantIds.length;
  const chunk = o.chunk ?? 1_000_000;
  const endS = Math.floor(o.nowMs / 3_600_000) * 3600;
  const day0 = Math.floor((endS - o.days * 86_400) / 86_400) * 86_400;
  for (let start = 0; start < o.events; start += chunk) {
    const n = Math.min(chunk, o.events - start);
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
          toUInt32(least(${T - 1}, floor(pow(${T + 1}, ${r(1)})) - 1)) AS idx,
          arrayElement(${list(o.tenantIds)}, idx + 1) AS tenant_id,
          concat('gen-', toString(number)) AS event_id,
          toUInt32(floor(${r(2)} * ${o.days})) AS d0,
          toDayOfWeek(toDate(toDateTime(${day0} + d0 * 86400, 'UTC'))) AS dow,
          if(dow >= 6 AND ${r(3)} < 0.6, if(d0 >= 2, d0 - 2, d0 + 5), d0) AS dd,
          toUInt32(abs(14 + 9 * (${r(4)} + ${r(5)} + ${r(6)} - 1.5))) % 24 AS hh,
          ${day0} + dd * 86400 + hh * 3600 + toUInt32(floor(${r(7)} * 3600)) AS ts_s0,
          if(ts_s0 >= ${endS}, ts_s0 - 7 * 86400, ts_s0) AS ts_s,
          fromUnixTimestamp64Milli(toInt64(ts_s * 1000 + cityHash64(number, 8) % 1000), 'UTC') AS ts,
          arrayElement(${list(typeArray)}, 1 + toUInt32(${r(9)} * ${typeArray.length})) AS event_type,
          arrayElement(['web','mobile','platform','internal','partner'], 1 + toUInt32(floor(pow(6, ${r(10)})) - 1)) AS project,
          arrayElement(['production','production','production','production','production','production','production','staging','staging','development'], 1 + toUInt32(${r(11)} * 10)) AS environment,
          greatest(20, least(10000, toUInt32(10000 / pow(idx + 1, 0.6)))) AS users_cap,
          concat('user-', toString(toUInt32(floor(pow(users_cap + 1, ${r(12)})) - 1))) AS user_id,
          greatest(2, least(300, toUInt32(300 / pow(idx + 1, 0.6)))) AS agents_cap,
          if(${r(13)} < 0.6, concat('agent-', toString(toUInt32(floor(pow(agents_cap + 1, ${r(14)})) - 1))), '') AS agent_id,
          concat('key-', toString(toUInt32(${r(15)} * greatest(1, least(20, toUInt32(20 / pow(idx + 1, 0.4))))))) AS api_key_id,
          if(${r(16)} < 0.1, '', arrayElement(${list(FEATURES)}, toUInt32(floor(pow(31, ${r(17)}))))) AS feature,
          toUInt32(floor(pow(16, ${r(18)}))) AS mi,
          if(event_type IN ('llm.call','sql_generation'), arrayElement(${list(MODELS.map((m) => m[0]))}, mi), '') AS model,
          if(model = '', '', arrayElement(${list(MODELS.map((m) => m[1]))}, mi)) AS provider,
          if(model = '', arrayElement(${list(ENDPOINTS)}, toUInt32(floor(pow(41, ${r(19)})))), '') AS endpoint,
          concat('run-', toString(toUInt32(${r(20)} * 50000))) AS run_id,
          ${r(21)} > if(event_type = 'token.issued', 0.05, 0.03) AS success,
          if(success, '200', arrayElement(['500','429','timeout'], 1 + toUInt32(${r(22)} * 3))) AS status,
          toUInt32(1) AS requests,
          if(model != '', toUInt64(50 + ${r(23)} * ${r(24)} * 4000), 0) AS input_tokens,
          if(model != '' AND success, toUInt64(20 + ${r(25)} * ${r(26)} * 1200), 0) AS output_tokens,
          if(event_type = 'workflow.run', toUInt64(1 + ${r(27)} * 20), 0) AS compute_units,
          toUInt32(if(model != '', 300 + ${r(28)} * ${r(29)} * 4000, 20 + ${r(30)} * ${r(31)} * 600)) AS latency_ms,
          toInt64(if(model = '', 0, input_tokens * arrayElement(${list(MODELS.map((m) => m[2]))}, mi) + output_tokens * arrayElement(${list(MODELS.map((m) => m[3]))}, mi))) AS cost_nano
        FROM numbers(${start}, ${n})
      )`);
    o.onProgress?.(start + n);
  }
}

/**
 * One tenant with `rows` events one every STEP_MS from `startMs`, so a window of k rows is
 * [startMs, startMs + k × STEP_MS): the export section asks for exact row counts.
 */
export const EXPORT_STEP_MS = 200;
export async function generateExportTenant(ch: ClickHouseStore, tenantId: string, rows: number, startMs: number, onProgress?: (done: number) => void): Promise<void> {
  const chunk = 1_000_000;
  for (let from = 0; from < rows; from += chunk) {
    const n = Math.min(chunk, rows - from);
    await ch.command(
      `INSERT INTO events (tenant_id, event_id, ts, ingested_at, event_type, project, environment, user_id, agent_id, api_key_id, feature,
                           model, provider, endpoint, run_id, policy_id, source, success, status, requests, input_tokens, output_tokens,
                           compute_units, latency_ms, cost_nano, cost_unpriced, metadata)
       SELECT '${tenantId}', concat('exp-', toString(number)), fromUnixTimestamp64Milli(toInt64(${startMs} + number * ${EXPORT_STEP_MS}), 'UTC'),
              fromUnixTimestamp64Milli(toInt64(${startMs} + number * ${EXPORT_STEP_MS} + 150), 'UTC'),
              ['llm.call', 'llm.call', 'api.call', 'workflow.run', 'token.issued'][number % 5 + 1],
              ['web', 'mobile', 'platform'][cityHash64(number, 1) % 3 + 1], ['production', 'staging'][cityHash64(number, 2) % 2 + 1],
              concat('user-', toString(cityHash64(number, 3) % 5000)), if(number % 3 = 0, concat('agent-', toString(number % 40)), ''),
              concat('key-', toString(number % 8)), ['chat', 'search', 'summarize', 'code-review'][cityHash64(number, 4) % 4 + 1],
              if(number % 5 < 2, ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-20250514'][cityHash64(number, 5) % 3 + 1], '') AS m,
              multiIf(startsWith(m, 'gpt'), 'openai', startsWith(m, 'claude'), 'anthropic', ''),
              if(m = '', ['/v1/chat', '/v1/search', '/v1/agents/run'][cityHash64(number, 6) % 3 + 1], ''),
              concat('run-', toString(intDiv(number, 7))), if(number % 11 = 0, 'policy-7', ''), 'bench',
              cityHash64(number, 7) % 40 != 0 AS ok, if(ok, '200', '500'), 1,
              if(m != '', 50 + cityHash64(number, 8) % 4000, 0) AS inp, if(m != '', 20 + cityHash64(number, 9) % 1200, 0) AS outp,
              if(number % 5 = 3, 1 + cityHash64(number, 10) % 20, 0), toUInt32(20 + cityHash64(number, 11) % 4000),
              toInt64(if(m != '', inp * 2500 + outp * 10000, cityHash64(number, 12) % 1000000)), 0,
              map('region', ['eu-west-1', 'us-east-1', 'ap-south-1'][number % 3 + 1], 'trace_id', hex(cityHash64(number, 13)))
       FROM numbers(${from}, ${n})`,
    );
    onProgress?.(from + n);
  }
}
