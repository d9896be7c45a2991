import { DateTime } from 'luxon';
import { expect } from 'vitest';
import type { TestEngine, TestTenant } from '../../helpers/engine.js';

export const BUDGETS = '/api/v1/budgets';

/**
 * Tests run in real time, so their events sit in the current day/week/month of Date.now().
 * Within two minutes of a local midnight (where every period boundary lies) in UTC or Berlin,
 * wait until just past it, so the periods cannot roll over between ingesting and asking.
 */
export async function awayFromMidnight(): Promise<void> {
  for (const zone of ['UTC', 'Europe/Berlin']) {
    const now = Date.now();
    const next = DateTime.fromMillis(now, { zone }).startOf('day').plus({ days: 1 }).toMillis();
    const since = now - DateTime.fromMillis(now, { zone }).startOf('day').toMillis();
    if (next - now < 120_000) await new Promise((r) => setTimeout(r, next - now + 2_000));
    else if (since < 2_000) await new Promise((r) => setTimeout(r, 2_000 - since));
  }
}

export async function postJson<T>(engine: TestEngine, key: string, path: string, body: object, method = 'POST'): Promise<{ status: number; body: T }> {
  const r = await engine.request(method, path, { key, body });
  return { status: r.status, body: (r.status === 204 ? null : await r.json()) as T };
}

export async function getJson<T>(engine: TestEngine, key: string, path: string): Promise<{ status: number; body: T }> {
  const r = await engine.request('GET', path, { key });
  return { status: r.status, body: (await r.json()) as T };
}

export interface ErrorBody {
  error: { code: string; message: string; details?: { field?: string } };
}

/** A 400 whose message names the field. */
export function expect400(r: { status: number; body: unknown }, field: string, label = field) {
  expect(r.status, label).toBe(400);
  expect((r.body as ErrorBody).error.message, label).toContain(field);
}

export interface BudgetJson {
  id: string;
  name: string;
  scope_type: string;
  scope_value: string | null;
  period: string;
  metric: string;
  limit: string;
  thresholds: number[];
  created_at: string;
  updated_at: string;
}

export async function createBudget(engine: TestEngine, t: TestTenant, body: object): Promise<BudgetJson> {
  const r = await postJson<BudgetJson>(engine, t.admin, BUDGETS, body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}
