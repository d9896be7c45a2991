import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';

/**
 * Hostile input gets a clear 4xx (or, for one bad event in a batch, a per-event rejection),
 * never a 5xx, never a hang; and it leaves nothing half-stored. Each case names the request
 * and the status and error code it must get. The slow-drip and 100 MB cases need a real
 * socket: http-limits.test.ts.
 */
const DEEP = 100_000;
const deepArray = '['.repeat(DEEP) + ']'.repeat(DEEP);
const deepObject = '{"a":'.repeat(DEEP) + '1' + '}'.repeat(DEEP);
const SQL = ["'; DROP TABLE events; --", "' OR '1'='1", '1; SELECT * FROM system.tables', '{tenant:String}', "\\' UNION SELECT 1 --", '`events`'];
const CH_ERROR = /DB::Exception|\bCode: \d+\b|Syntax error|SYNTAX_ERROR|UNKNOWN_(IDENTIFIER|TABLE)|invalid byte sequence|EPIPE/;
const PER_REQUEST_MS = 15_000;

type Key = 'admin' | 'ingest' | 'read';
interface Case {
  name: string;
  method: string;
  url: string;
  key?: Key;
  /** A string is sent as is (malformed JSON etc.); anything else as JSON. */
  body?: unknown;
  contentType?: string;
  status: number;
  code?: string;
  /** For 202 ingest answers: the per-event rejection code expected for event 0. */
  rejected?: string;
}

const FROM = '2026-01-01T00:00:00Z';
const TO = '2026-01-02T00:00:00Z';
const query = (extra: object) => ({ metrics: ['events', 'cost'], from: FROM, to: TO, ...extra });
const event = (extra: object) => [{ event_type: 'hostile.test', ...extra }];

const cases: Case[] = [
  // malformed JSON and NDJSON
  { name: 'ingest: truncated JSON', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a"', status: 400, code: 'MALFORMED_BODY' },
  { name: 'ingest: NDJSON with a broken second line', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '{"event_type":"a"}\n{"event_type":\n', contentType: 'application/x-ndjson', status: 400, code: 'MALFORMED_BODY' },
  { name: 'ingest: a JSON object, not an array', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '{"event_type":"a"}', status: 400, code: 'MALFORMED_BODY' },
  { name: 'ingest: empty body', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '', status: 400 },
  { name: 'ingest: text/plain', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[]', contentType: 'text/plain', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'query: truncated JSON', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: '{"metrics":[', status: 400 },
  { name: 'budgets: not JSON', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: 'name=x', status: 400 },
  { name: 'webhooks PATCH: broken JSON', method: 'PATCH', url: '/api/v1/webhooks/00000000-0000-4000-8000-000000000000', key: 'admin', body: '{,}', status: 400 },
  { name: 'unit-rates PUT: broken JSON', method: 'PUT', url: '/api/v1/unit-rates', key: 'admin', body: '{"event_type":', status: 400 },
  // deeply nested JSON: parsed without recursion, refused by shape
  { name: 'ingest: 100k nested arrays', method: 'POST', url: '/api/v1/events', key: 'ingest', body: deepArray, status: 202, rejected: 'INVALID_EVENT' },
  { name: 'ingest NDJSON: 100k nested arrays', method: 'POST', url: '/api/v1/events', key: 'ingest', body: deepArray, contentType: 'application/x-ndjson', status: 202, rejected: 'INVALID_EVENT' },
  { name: 'ingest: 100k unclosed [', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '['.repeat(DEEP), status: 400, code: 'MALFORMED_BODY' },
  { name: 'ingest: 100k nested objects as metadata', method: 'POST', url: '/api/v1/events', key: 'ingest', body: `[{"event_type":"a","metadata":${deepObject}}]`, status: 202, rejected: 'INVALID_TYPE' },
  { name: 'query: 100k nested arrays', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: deepArray, status: 400 },
  { name: 'query: 100k nested objects in metrics', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: `{"metrics":${deepObject}}`, status: 400 },
  { name: 'budgets: 100k nested objects', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: deepObject, status: 400 },
  { name: 'usage event: 100k nested metadata', method: 'POST', url: '/api/v1/usage/events', key: 'ingest', body: `{"event_type":"a","metadata":${deepObject}}`, status: 400 },
  // duplicate keys: JSON.parse would keep the last one silently
  { name: 'ingest: duplicate cost', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","cost":"1","cost":"900"}]', status: 400, code: 'MALFORMED_BODY' },
  { name: 'ingest NDJSON: duplicate key spelt with an escape', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '{"event_type":"a","\\u0065vent_type":"b"}\n', contentType: 'application/x-ndjson', status: 400, code: 'MALFORMED_BODY' },
  { name: 'usage event: duplicate event_type', method: 'POST', url: '/api/v1/usage/events', key: 'ingest', body: '{"event_type":"a","event_type":"b"}', status: 400, code: 'INVALID_REQUEST' },
  { name: 'budgets: duplicate limit', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: '{"name":"b","scope_type":"tenant","period":"day","metric":"cost","limit":"1","limit":"1000000"}', status: 400, code: 'INVALID_REQUEST' },
  { name: 'query: duplicate from', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: `{"metrics":["events"],"from":"${FROM}","to":"${TO}","from":"1970-01-01T00:00:00Z"}`, status: 400, code: 'INVALID_REQUEST' },
  // unicode and control characters
  { name: 'ingest: NUL in a dimension', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ model: 'a\u0000b' }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: escape and bell characters', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ feature: '\u001b[31mred\u0007' }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: lone high surrogate in event_type', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"\\ud800"}]', status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: lone low surrogate in a metadata key', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","metadata":{"\\udc00":"v"}}]', status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: lone surrogate in event_id', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","event_id":"x\\udbff"}]', status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: __proto__ metadata key', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","metadata":{"__proto__":"x"}}]', status: 202, rejected: 'INVALID_VALUE' },
  { name: 'usage event: lone surrogate', method: 'POST', url: '/api/v1/usage/events', key: 'ingest', body: '{"event_type":"\\ud800"}', status: 400 },
  { name: 'budgets: NUL in name', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: { name: 'a\u0000', scope_type: 'tenant', period: 'day', metric: 'cost', limit: '1' }, status: 400, code: 'INVALID_REQUEST' },
  { name: 'budgets: lone surrogate in scope_value', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: '{"name":"b","scope_type":"model","scope_value":"\\ud800","period":"day","metric":"cost","limit":"1"}', status: 400, code: 'INVALID_REQUEST' },
  { name: 'webhooks: NUL in url', method: 'POST', url: '/api/v1/webhooks', key: 'admin', body: { url: 'https://example.com/\u0000' }, status: 400, code: 'INVALID_REQUEST' },
  { name: 'keys: NUL in name', method: 'POST', url: '/api/v1/keys', key: 'admin', body: { name: '\u0000', scopes: ['read'] }, status: 400, code: 'INVALID_REQUEST' },
  { name: 'incidents: NUL in a resolve note', method: 'POST', url: '/api/v1/incidents/x/resolve', key: 'admin', body: { note: 'a\u0000' }, status: 400, code: 'INVALID_REQUEST' },
  { name: 'budgets/check: %00 in scope_value', method: 'GET', url: '/api/v1/budgets/check?scope_type=model&scope_value=%00&metric=cost', key: 'read', status: 400, code: 'INVALID_REQUEST' },
  { name: 'timeline: %00 in event_type', method: 'GET', url: '/api/v1/timeline?event_type=%00', key: 'read', status: 400, code: 'INVALID_REQUEST' },
  { name: 'runs: %00 as run_id', method: 'GET', url: '/api/v1/runs/%00/cost', key: 'read', status: 400, code: 'INVALID_REQUEST' },
  { name: 'incidents: %00 as id', method: 'GET', url: '/api/v1/incidents/%00', key: 'read', status: 400, code: 'INVALID_REQUEST' },
  { name: 'statistics: invalid UTF-8 percent-escape in project', method: 'GET', url: '/api/v1/analytics/statistics/usage?project=%ED%A0%80', key: 'read', status: 200 },
  { name: 'query: emoji, RTL override and combining marks in filter values', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ filters: [{ dimension: 'model', op: 'in', values: ['😀', '\u202egpt', 'e\u0301'] }] }), status: 200 },
  // SQL fragments: bound as parameters or refused by name, never SQL
  ...SQL.map((s): Case => ({ name: `query: group_by ${s}`, method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ group_by: [s] }), status: 400, code: 'UNKNOWN_DIMENSION' })),
  ...SQL.map((s): Case => ({ name: `query: filter dimension ${s}`, method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ filters: [{ dimension: s, op: 'eq', values: ['x'] }] }), status: 400 })),
  ...SQL.map((s): Case => ({ name: `query: filter value ${s}`, method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ filters: [{ dimension: 'model', op: 'in', values: [s] }] }), status: 200 })),
  ...SQL.map((s): Case => ({ name: `query: metadata ${s}`, method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ metadata: { [s]: s } }), status: 200 })),
  ...SQL.map((s): Case => ({ name: `query: metric ${s}`, method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ metrics: [s] }), status: 400 })),
  ...SQL.map((s): Case => ({ name: `events: event_type ${s}`, method: 'GET', url: `/api/v1/events?event_type=${encodeURIComponent(s)}&run_id=${encodeURIComponent(s)}`, key: 'read', status: 200 })),
  ...SQL.map((s): Case => ({ name: `runs: run_id ${s}`, method: 'GET', url: `/api/v1/runs/${encodeURIComponent(s)}/cost`, key: 'read', status: 404 })),
  ...SQL.map((s): Case => ({ name: `budgets/check: scope_value ${s}`, method: 'GET', url: `/api/v1/budgets/check?scope_type=model&metric=cost&scope_value=${encodeURIComponent(s)}`, key: 'read', status: 200 })),
  ...SQL.map((s): Case => ({ name: `timeline: event_type ${s}`, method: 'GET', url: `/api/v1/timeline?event_type=${encodeURIComponent(s)}`, key: 'read', status: 200 })),
  ...SQL.map((s): Case => ({ name: `statistics: project ${s}`, method: 'GET', url: `/api/v1/analytics/statistics/cost?project=${encodeURIComponent(s)}`, key: 'read', status: 200 })),
  ...SQL.map((s): Case => ({ name: `incidents: id ${s}`, method: 'GET', url: `/api/v1/incidents/${encodeURIComponent(s)}`, key: 'read', status: 404 })),
  ...SQL.map((s): Case => ({ name: `unit-rates: DELETE ${s}`, method: 'DELETE', url: `/api/v1/unit-rates/${encodeURIComponent(s)}`, key: 'admin', status: 404 })),
  // huge limits and oversized lists
  ...['1e400', '99999999999999999999', '2147483648', 'NaN', 'Infinity', '-1', '0', '1.5'].flatMap((n): Case[] => [
    { name: `events: limit=${n}`, method: 'GET', url: `/api/v1/events?limit=${n}`, key: 'read', status: 400, code: 'INVALID_REQUEST' },
    { name: `statistics/cost: limit=${n}`, method: 'GET', url: `/api/v1/analytics/statistics/cost?limit=${n}`, key: 'read', status: 400 },
    { name: `anomalies: limit=${n}`, method: 'GET', url: `/api/v1/anomalies?limit=${n}`, key: 'read', status: 400 },
    { name: `usage/summary: days=${n}`, method: 'GET', url: `/api/v1/usage/summary?days=${n}`, key: 'admin', status: 400 },
  ]),
  { name: 'query: limit 1e15', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ limit: 1e15 }), status: 400 },
  { name: 'query: limit -1', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ limit: -1 }), status: 400 },
  { name: 'query: 10 000 filters', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ filters: Array(10_000).fill({ dimension: 'model', op: 'eq', values: ['a'] }) }), status: 400 },
  { name: 'query: 10 000 metadata keys', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ metadata: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'])) }), status: 400 },
  { name: 'query: 100 000 filter values', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ filters: [{ dimension: 'model', op: 'in', values: Array.from({ length: 100_000 }, (_, i) => `v${i}`) }] }), status: 400 },
  { name: 'ingest: more events than INGEST_MAX_EVENTS', method: 'POST', url: '/api/v1/events', key: 'ingest', body: Array.from({ length: 10_001 }, () => ({ event_type: 'a' })), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'budgets: a 2 MB body', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: { name: 'x'.repeat(2 * 1024 * 1024), scope_type: 'tenant', period: 'day', metric: 'cost', limit: '1' }, status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'budgets: 20 000 thresholds', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: { name: 'b', scope_type: 'tenant', period: 'day', metric: 'cost', limit: '1', thresholds: Array.from({ length: 20_000 }, (_, i) => i / 100 + 0.01) }, status: 400 },
  // windows spanning 50 years, epoch and year 9999
  { name: 'query: 50-year window', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ from: '1976-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }), status: 400, code: 'INVALID_DATE_RANGE' },
  { name: 'query: epoch to 9999', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ from: '1970-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z', granularity: 'hour' }), status: 400, code: 'INVALID_DATE_RANGE' },
  { name: 'statistics: 50-year window', method: 'GET', url: '/api/v1/analytics/statistics/usage?from=1976-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&resolution=hour', key: 'read', status: 400, code: 'INVALID_DATE_RANGE' },
  { name: 'statistics: a day at the epoch', method: 'GET', url: '/api/v1/analytics/statistics/usage?from=1970-01-01T00:00:00Z&to=1970-01-02T00:00:00Z', key: 'read', status: 200 },
  // past what DateTime holds (1970..2106): refused by name rather than clamped by the engine
  { name: 'statistics: a day in year 9999', method: 'GET', url: '/api/v1/analytics/statistics/usage?from=9999-12-30T00:00:00Z&to=9999-12-31T00:00:00Z', key: 'read', status: 400, code: 'INVALID_DATE_RANGE' },
  // the default 7-day window before a `to` just after the epoch starts before it (was a 500)
  { name: 'statistics: to just after the epoch', method: 'GET', url: '/api/v1/analytics/statistics/cost?to=1970-01-01T00:00:00.039Z', key: 'read', status: 400, code: 'INVALID_DATE_RANGE' },
  { name: 'statistics: epoch month buckets west of UTC', method: 'GET', url: '/api/v1/analytics/statistics/usage?from=1970-01-01T00:00:00Z&to=1970-01-20T00:00:00Z&tz=America/St_Johns&resolution=month', key: 'read', status: 200 },
  { name: 'query: epoch weeks east of UTC', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ group_by: ['time'], from: '1970-01-01T00:00:00Z', to: '1970-01-20T00:00:00Z', granularity: 'week', tz: 'Pacific/Chatham' }), status: 200 },
  { name: 'query: the last month DateTime holds', method: 'POST', url: '/api/v1/analytics/query', key: 'read', body: query({ group_by: ['time'], from: '2105-12-01T00:00:00Z', to: '2106-01-01T00:00:00Z', granularity: 'day' }), status: 200 },
  { name: 'costs: 50-year window', method: 'GET', url: '/api/v1/analytics/costs?from=1976-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', key: 'read', status: 400, code: 'INVALID_DATE_RANGE' },
  { name: 'export/events: epoch to 9999', method: 'GET', url: '/api/v1/export/events?from=1970-01-01T00:00:00Z&to=9999-12-31T00:00:00Z', key: 'read', status: 400, code: 'INVALID_DATE_RANGE' },
  { name: 'events: epoch to 9999 (a page, bounded by limit)', method: 'GET', url: '/api/v1/events?from=1970-01-01T00:00:00Z&to=9999-12-31T23:59:59Z', key: 'read', status: 200 },
  { name: 'timeline: year 1 to 9999', method: 'GET', url: '/api/v1/timeline?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z', key: 'read', status: 200 },
  { name: 'events: cursor with 20 digits', method: 'GET', url: '/api/v1/events?cursor=99999999999999999999:x', key: 'read', status: 400 },
  { name: 'ingest: ts at the epoch', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ ts: '1970-01-01T00:00:00Z' }), status: 202, rejected: 'TIMESTAMP_BEYOND_RETENTION' },
  { name: 'ingest: ts 0 ms', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ ts: 0 }), status: 202, rejected: 'TIMESTAMP_BEYOND_RETENTION' },
  { name: 'ingest: ts in year 9999', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ ts: '9999-12-31T23:59:59Z' }), status: 202, rejected: 'TIMESTAMP_IN_FUTURE' },
  { name: 'ingest: ts past Date range', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ ts: 8.64e15 + 1 }), status: 202, rejected: 'TIMESTAMP_IN_FUTURE' },
  { name: 'ingest: ts year 0', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ ts: '0000-01-01T00:00:00Z' }), status: 202, rejected: 'TIMESTAMP_BEYOND_RETENTION' },
  { name: 'ingest: ts 30 February', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ ts: '2026-02-30T00:00:00Z' }), status: 202, rejected: 'INVALID_VALUE' },
  // negative, NaN, Infinity numbers
  { name: 'ingest: NaN literal', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","requests":NaN}]', status: 400, code: 'MALFORMED_BODY' },
  { name: 'ingest: Infinity literal', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","cost":Infinity}]', status: 400, code: 'MALFORMED_BODY' },
  { name: 'ingest: 1e400 (parses to Infinity)', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","input_tokens":1e400}]', status: 202, rejected: 'INVALID_TYPE' },
  { name: 'ingest: -1e400 cost', method: 'POST', url: '/api/v1/events', key: 'ingest', body: '[{"event_type":"a","cost":-1e400}]', status: 202, rejected: 'INVALID_TYPE' },
  { name: 'ingest: negative requests', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ requests: -1 }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: negative cost', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ cost: -0.01 }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: negative cost string', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ cost: '-0.01' }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: cost "NaN"', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ cost: 'NaN' }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: cost "Infinity"', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ cost: 'Infinity' }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: cost over 1e9 USD', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ cost: '9999999999' }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: tokens over 1e12', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ output_tokens: 2 ** 53 }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'ingest: fractional requests', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ requests: 0.5 }), status: 202, rejected: 'INVALID_TYPE' },
  { name: 'ingest: negative latency', method: 'POST', url: '/api/v1/events', key: 'ingest', body: event({ latency_ms: -5 }), status: 202, rejected: 'INVALID_VALUE' },
  { name: 'budgets: limit 1e400', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: '{"name":"b","scope_type":"tenant","period":"day","metric":"cost","limit":1e400}', status: 400 },
  { name: 'budgets: negative limit', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: { name: 'b', scope_type: 'tenant', period: 'day', metric: 'cost', limit: -1 }, status: 400 },
  { name: 'budgets: limit 1e300', method: 'POST', url: '/api/v1/budgets', key: 'admin', body: { name: 'b', scope_type: 'tenant', period: 'day', metric: 'cost', limit: 1e300 }, status: 400 },
  { name: 'budgets/check: amount 1e400', method: 'GET', url: '/api/v1/budgets/check?scope_type=tenant&metric=cost&amount=1e400', key: 'read', status: 400 },
  { name: 'budgets/check: amount -1', method: 'GET', url: '/api/v1/budgets/check?scope_type=tenant&metric=cost&amount=-1', key: 'read', status: 400 },
  { name: 'unit-rates: negative rate', method: 'PUT', url: '/api/v1/unit-rates', key: 'admin', body: { event_type: 'a', usd_per_event: '-1' }, status: 400 },
  { name: 'unit-rates: NaN rate', method: 'PUT', url: '/api/v1/unit-rates', key: 'admin', body: { event_type: 'a', usd_per_event: 'NaN' }, status: 400 },
];

describe('hostile input: a clear 4xx, never a 5xx, never a hang', () => {
  let engine: TestEngine;
  let t: TestTenant;

  beforeAll(async () => {
    engine = await startTestEngine({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    t = await engine.newTenant('hostile');
  });
  afterAll(() => engine?.close());

  async function send(c: Case): Promise<{ status: number; text: string; ms: number }> {
    const started = Date.now();
    const r = await Promise.race([
      engine.request(c.method, c.url, { key: c.key && t[c.key], body: c.body as string | object | undefined, contentType: c.contentType }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${PER_REQUEST_MS} ms`)), PER_REQUEST_MS)),
    ]);
    return { status: r.status, text: await r.text(), ms: Date.now() - started };
  }

  it(`answers each of ${cases.length} hostile requests as documented`, async () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    const problems: string[] = [];
    for (const c of cases) {
      const r = await send(c).catch((e: Error) => ({ status: 0, text: e.message, ms: PER_REQUEST_MS }));
      const what = `${c.name}: ${r.status} ${r.text.slice(0, 240)}`;
      if (r.status !== c.status) problems.push(`expected ${c.status}: ${what}`);
      if (r.status >= 500 || r.status === 0) continue;
      if (CH_ERROR.test(r.text)) problems.push(`store error text leaks: ${what}`);
      if (r.status >= 400) {
        const body = JSON.parse(r.text) as { error?: { code?: string; message?: string; requestId?: string } };
        // the one error envelope, with a message that says something
        if (!body.error?.code || !body.error.message || body.error.message.length < 8) problems.push(`no clear error envelope: ${what}`);
        if (c.code && body.error?.code !== c.code) problems.push(`expected code ${c.code}: ${what}`);
      }
      if (c.rejected && r.status === 202) {
        const body = JSON.parse(r.text) as { accepted: number; rejected: { code: string }[] };
        if (body.accepted !== 0 || body.rejected[0]?.code !== c.rejected) problems.push(`expected rejection ${c.rejected}: ${what}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('a bad event does not fail its batch, and nothing refused is stored', async () => {
    const before = await storedCount();
    const r = await engine.request('POST', '/api/v1/events', {
      key: t.ingest,
      body: '[{"event_type":"ok.1"},{"event_type":"\\ud800"},{"event_type":"ok.2","model":"a\\u0000"},{"event_type":"ok.3","cost":"0.5"}]',
    });
    expect(r.status).toBe(202);
    const body = (await r.json()) as { accepted: number; rejected: { index: number; code: string }[] };
    expect(body.accepted).toBe(2);
    expect(body.rejected.map((x) => x.index)).toEqual([1, 2]);
    expect(await storedCount()).toBe(before + 2);
  });

  it('event_ids with line and paragraph separators page through: our own next_cursor is accepted back', async () => {
    // "." in the cursor pattern did not match U+2028: page 2 answered 400 to the cursor page 1 gave
    const other = await engine.newTenant('hostile-cursor');
    const ids = ['a\u2028b', 'a\u2029c', 'a\u0085d', "a'e", 'a:f', 'z'];
    const r = await engine.request('POST', '/api/v1/events', { key: other.ingest, body: ids.map((event_id) => ({ event_id, event_type: 'x' })) });
    expect(r.status).toBe(202);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const g = await engine.request('GET', `/api/v1/events?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { key: other.read });
      expect(g.status, await g.clone().text()).toBe(200);
      const p = (await g.json()) as { events: { event_id: string }[]; next_cursor: string | null };
      seen.push(...p.events.map((e) => e.event_id));
      cursor = p.next_cursor;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('after all of it the store answers normally and holds only accepted events', async () => {
    // Every hostile case above accepted nothing; the batch test accepted 2.
    expect(await storedCount()).toBe(2);
    const r = await engine.request('GET', '/api/v1/events?limit=10', { key: t.read });
    expect(r.status).toBe(200);
    const types = ((await r.json()) as { events: { event_type: string }[] }).events.map((e) => e.event_type).sort();
    expect(types).toEqual(['ok.1', 'ok.3']);
    expect((await engine.request('GET', '/api/v1/budgets', { key: t.read })).status).toBe(200);
  });

  async function storedCount(): Promise<number> {
    const rows = await engine.services.ch.query<{ n: string }>('SELECT toString(count()) AS n FROM events WHERE tenant_id = {t:String}', { t: t.id });
    return Number(rows[0]!.n);
  }
});
