import { expect } from 'vitest';
import type { TestEngine, TestTenant } from '../../../helpers/engine.js';

/**
 * The known dataset of the statistics, costs and status tests. Window W = [D, D + 3 days),
 * D a UTC midnight ten days ago: aligned to days, so the rollups can answer it whole. Two
 * events sit just outside W (half-open on both sides), one two hours ago (the default window
 * and freshness), and a DST dataset on 2026-10-25 in Europe/Berlin.
 *
 * In W (org scope): requests 8, compute 21, input 1310, output 155, 5 events, users u1 u2 u3,
 * agents a1 a2, one failure, latencies 40 / 80 / 120 / 200 ms, spend 1.552345679 USD.
 */
export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** signals.sources names: the rollups on the UTC day grid, on the hour grid (raw is "events"). */
export const DAY_GRID_TABLE = /^(rollup_daily|scope_daily|totals_daily|actors_daily|actor_days)$/;
export const HOUR_GRID_TABLE = /^(rollup_hourly|scope_hourly|totals_hourly)$/;

export function windowOf(nowMs = Date.now()) {
  const D = Math.floor(nowMs / DAY) * DAY - 10 * DAY;
  return { D, from: new Date(D).toISOString(), to: new Date(D + 3 * DAY).toISOString() };
}

export function mainEvents(D: number, nowMs = Date.now()) {
  const at = (ms: number) => new Date(ms).toISOString();
  const recent = Math.floor((nowMs - 2 * HOUR) / 1000) * 1000;
  return {
    recent,
    events: [
      { event_id: 'e1', ts: at(D + 90 * 60_000), event_type: 'llm.call', project: 'p1', environment: 'prod', user_id: 'u1', agent_id: 'a1', model: 'm-big', provider: 'openai', feature: 'chat', requests: 1, input_tokens: 100, output_tokens: 50, compute_units: 3, latency_ms: 40, cost: '0.012345678', api_key_id: 'key-x', run_id: 'run-1' },
      { event_id: 'e2', ts: at(D + 105 * 60_000), event_type: 'llm.call', project: 'p1', environment: 'prod', user_id: 'u2', model: 'm-big', provider: 'openai', requests: 2, input_tokens: 200, output_tokens: 100, latency_ms: 120, cost: '0.04', api_key_id: 'key-x', policy_id: 'pol-1', run_id: 'run-1' },
      { event_id: 'e3', ts: at(D + 13 * HOUR), event_type: 'api.call', project: 'p2', environment: 'staging', user_id: 'u1', model: 'm-small', provider: 'anthropic', feature: 'search', requests: 1, input_tokens: 10, output_tokens: 5, compute_units: 7, latency_ms: 80, success: false, cost: '0.000000001' },
      { event_id: 'e4', ts: at(D + DAY + 10 * 60_000), event_type: 'llm.call', project: 'p1', environment: 'staging', agent_id: 'a2', model: 'm-small', feature: 'chat', requests: 3, input_tokens: 1000, compute_units: 1, latency_ms: 200, cost: '1.5', policy_id: 'pol-1', run_id: 'run-2' },
      { event_id: 'e5', ts: at(D + 2 * DAY - 1), event_type: 'workflow.run', project: 'p2', environment: 'prod', user_id: 'u3', requests: 1, compute_units: 10 },
      // Outside W: at its exclusive end and one millisecond before its start.
      { event_id: 'e6', ts: at(D + 3 * DAY), event_type: 'api.call', project: 'p1', environment: 'prod', user_id: 'u9', requests: 50, cost: '100' },
      { event_id: 'e7', ts: at(D - 1), event_type: 'api.call', project: 'p1', requests: 60, cost: '100' },
      // The newest event: inside the default window (last 7 days), outside W.
      { event_id: 'e8', ts: at(recent), event_type: 'api.call', project: 'p3', requests: 5 },
    ],
  };
}

/**
 * Europe/Berlin leaves summer time on 2026-10-25 at 03:00 CEST (01:00 UTC): 02:00–03:00 local
 * happens twice, so that local day has 25 hours.
 */
export const dstEvents = [
  { event_id: 'c1', ts: '2026-10-24T21:30:00Z', event_type: 'llm.call', requests: 1, compute_units: 1, input_tokens: 1, cost: '0.01' }, // 10-24 23:30 CEST
  { event_id: 'c2', ts: '2026-10-24T22:30:00Z', event_type: 'llm.call', requests: 2, compute_units: 2, input_tokens: 2, cost: '0.02' }, // 10-25 00:30 CEST
  { event_id: 'c3', ts: '2026-10-25T00:30:00Z', event_type: 'llm.call', requests: 4, compute_units: 4, input_tokens: 4, cost: '0.5' }, // 02:30 CEST (first)
  { event_id: 'c4', ts: '2026-10-25T01:30:00Z', event_type: 'llm.call', requests: 8, compute_units: 8, output_tokens: 8, cost: '0.25' }, // 02:30 CET (second)
  { event_id: 'c5', ts: '2026-10-25T23:30:00Z', event_type: 'llm.call', requests: 16, compute_units: 16, output_tokens: 16, cost: '1' }, // 10-26 00:30 CET
];

export async function ingest(engine: TestEngine, tenant: TestTenant, events: object[]) {
  const r = await engine.request('POST', '/api/v1/events', { key: tenant.ingest, body: events });
  const body = (await r.json()) as { accepted: number };
  expect(r.status, JSON.stringify(body)).toBe(202);
  expect(body.accepted).toBe(events.length);
}

/** The id of the tenant's ingest key: events that name no api_key_id are attributed to it. */
export async function ingestKey(engine: TestEngine, tenant: TestTenant) {
  const keys = await engine.services.tenants.listKeys(tenant.id);
  const k = keys.find((x) => x.scopes.length === 1 && x.scopes[0] === 'ingest');
  if (!k) throw new Error('test tenant without an ingest key');
  return k;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; requestId: string };
}

export async function expectError(r: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await r.json()) as ErrorBody;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBeTruthy();
  return body.error;
}

export async function getJson<T>(engine: TestEngine, key: string, path: string, query: Record<string, string> = {}): Promise<{ body: T; res: Response }> {
  const qs = new URLSearchParams(query).toString();
  const res = await engine.request('GET', qs ? `${path}?${qs}` : path, { key });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return { body: JSON.parse(text) as T, res };
}
