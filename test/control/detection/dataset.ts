import { DateTime } from 'luxon';
import { expect } from 'vitest';
import type { TestEngine, TestTenant } from '../../helpers/engine.js';

export const HOUR = 3_600_000;

/**
 * Detection runs "as of" the 16th of last month, 00:00 UTC: inside retention, never in the
 * future, and a fixed point of its month, so the forecast (current rate: spent × month length /
 * 15 days, the tenant having no earlier spend) is known whatever today is: 40 % projects to
 * 74.7–82.7 % (no forecast), 55 % to 102.7–113.7 % (forecast exceeded).
 */
export const asOf = (nowMs = Date.now()) => DateTime.fromMillis(nowMs, { zone: 'UTC' }).startOf('month').minus({ months: 1 }).plus({ days: 15 }).toMillis();

let n = 0;
/** One gpt-4o call of an exact cost at `tsMs`, optionally in a run. */
export const call = (tsMs: number, cost: string, runId?: string) => ({
  event_id: `det-${process.pid}-${++n}`,
  ts: new Date(tsMs).toISOString(),
  event_type: 'llm.call',
  project: 'alpha',
  model: 'gpt-4o',
  requests: 1,
  input_tokens: 100,
  output_tokens: 10,
  cost,
  ...(runId ? { run_id: runId } : {}),
});

/** Through the API, as a client would: POST /api/v1/events with the tenant's ingest key. */
export async function ingest(engine: TestEngine, tenant: TestTenant, events: object[]) {
  const r = await engine.request('POST', '/api/v1/events', { key: tenant.ingest, body: events });
  expect(r.status, await r.clone().text()).toBe(202);
}

export async function createBudget(engine: TestEngine, tenant: TestTenant, body: object): Promise<string> {
  const r = await engine.request('POST', '/api/v1/budgets', { key: tenant.admin, body });
  expect(r.status, await r.clone().text()).toBe(201);
  return ((await r.json()) as { id: string }).id;
}

export async function anomaliesOf(engine: TestEngine, tenantId: string) {
  const { rows } = await engine.services.pg.pool.query(
    `SELECT type, severity, threshold_pct::text AS pct, observed::text AS observed, impact_usd::text AS impact, run_id, incident_id, dedup_key
     FROM anomalies WHERE tenant_id = $1 ORDER BY created_at, dedup_key`,
    [tenantId],
  );
  return rows as { type: string; severity: string; pct: string | null; observed: string; impact: string; run_id: string | null; incident_id: string | null; dedup_key: string }[];
}
