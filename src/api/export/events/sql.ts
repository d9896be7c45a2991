import type { ExportFormat } from '../../../stores/clickhouse/store.js';

/**
 * The raw-events export: the stored fields as GET /api/v1/events shows them (without tenant_id),
 * oldest first. Text formats carry cost as the exact decimal string of the API (at least two
 * decimals, at most nine: nanoToUsd, computed by the engine from the integer nano-USD) and
 * times as RFC 3339 UTC with milliseconds; Parquet keeps the types (Decimal(38, 9) USD,
 * millisecond timestamps, a map of metadata). CSV carries metadata as a JSON object.
 */
export function eventsExportSql(format: ExportFormat, opts: { eventType: boolean }): string {
  const text = format !== 'Parquet';
  const usd = 'toDecimal128(cost_nano, 9) / 1000000000';
  const cost = text
    ? `concat(toString(${usd}) AS cost_text, multiIf(position(cost_text, '.') = 0, '.00', length(cost_text) - position(cost_text, '.') = 1, '0', ''))`
    : usd;
  const metadata = format === 'CSVWithNames' ? 'toJSONString(metadata)' : 'metadata';
  return `SELECT event_id, ts, ingested_at, event_type, project, environment, user_id, agent_id, api_key_id, feature, model, provider,
       endpoint, run_id, policy_id, source, success, status, requests, input_tokens, output_tokens, compute_units, latency_ms,
       ${cost} AS cost_usd, toBool(cost_unpriced) AS cost_unpriced, ${metadata} AS metadata
FROM events
WHERE tenant_id = {tenant:String} AND ts >= {from:DateTime64(3, 'UTC')} AND ts < {to:DateTime64(3, 'UTC')}${opts.eventType ? ' AND event_type = {event_type:String}' : ''}
ORDER BY ts, event_id
SETTINGS date_time_output_format = 'iso', format_csv_null_representation = '', output_format_json_quote_64bit_integers = 1`;
}
