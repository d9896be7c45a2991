import { expect } from 'vitest';
import type { TestEngine, TestTenant } from '../../helpers/engine.js';
import type { AnomalyInput } from '../../../src/control/incidents/types.js';
import { recordAnomaly } from '../../../src/control/incidents/record.js';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Midnight UTC ten days ago: inside retention, far from the ingest future limit. */
export const dayD = (nowMs = Date.now()) => Math.floor(nowMs / DAY) * DAY - 10 * DAY;

/**
 * Run run-a: three gpt-4o events on project alpha (policies pol-1, pol-2, none) = 0.750000001 USD.
 * run-b: one event (pol-1) = 1.5. One gpt-4o event without a run at D+5h on project gamma = 2.
 */
export function runEvents(D: number) {
  const at = (ms: number) => new Date(ms).toISOString();
  return [
    { event_id: 'r1', ts: at(D + HOUR), event_type: 'llm.call', project: 'alpha', model: 'gpt-4o', requests: 1, input_tokens: 100, output_tokens: 10, cost: '0.5', run_id: 'run-a', policy_id: 'pol-1' },
    { event_id: 'r2', ts: at(D + 90 * 60_000), event_type: 'llm.call', project: 'alpha', model: 'gpt-4o', requests: 2, input_tokens: 200, output_tokens: 20, cost: '0.25', run_id: 'run-a', policy_id: 'pol-2' },
    { event_id: 'r3', ts: at(D + 2 * HOUR), event_type: 'tool.call', project: 'alpha', model: 'gpt-4o', requests: 1, input_tokens: 1, output_tokens: 1, cost: '0.000000001', run_id: 'run-a' },
    { event_id: 'r4', ts: at(D + 75 * 60_000), event_type: 'llm.call', project: 'beta', model: 'small', requests: 1, input_tokens: 50, output_tokens: 5, cost: '1.5', run_id: 'run-b', policy_id: 'pol-1' },
    { event_id: 'r5', ts: at(D + 5 * HOUR), event_type: 'llm.call', project: 'gamma', model: 'gpt-4o', requests: 1, input_tokens: 10, output_tokens: 0, cost: '2' },
  ];
}

export async function ingest(engine: TestEngine, tenant: TestTenant, events: object[]) {
  const r = await engine.request('POST', '/api/v1/events', { key: tenant.ingest, body: events });
  expect(r.status, await r.clone().text()).toBe(202);
}

export const deps = (engine: TestEngine) => ({ pool: engine.services.pg.pool, notifications: engine.services.notifications });
export const record = (engine: TestEngine, a: AnomalyInput, now?: Date) => recordAnomaly(deps(engine), a, now);

export function spike(tenantId: string, D: number, over: Partial<AnomalyInput> = {}): AnomalyInput {
  return {
    tenantId,
    type: 'SPEND_SPIKE',
    severity: 'CRITICAL',
    dimension: 'model',
    dimensionValue: 'gpt-4o',
    windowStart: new Date(D),
    windowEnd: new Date(D + 6 * HOUR),
    observed: '0.750000001',
    expected: '0.1',
    zScore: 7.5,
    impactUsd: '0.650000001',
    runId: 'run-a',
    dedupKey: `spike:model:gpt-4o:${D}`,
    ...over,
  };
}

export async function getJson<T>(engine: TestEngine, key: string, path: string): Promise<{ status: number; body: T }> {
  const r = await engine.request('GET', path, { key });
  return { status: r.status, body: (await r.json()) as T };
}

export async function post<T>(engine: TestEngine, key: string, path: string, body?: object): Promise<{ status: number; body: T }> {
  const r = await engine.request('POST', path, { key, body });
  return { status: r.status, body: (await r.json()) as T };
}

export const money = (usd: number, cents: number) => ({ spend_usd: usd, spend_cents: cents });
