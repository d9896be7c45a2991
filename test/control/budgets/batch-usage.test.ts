import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchUsage, usageAt, type UsageAsk } from '../../../src/control/budgets/batch-usage.js';
import { BUDGET_METRICS, PERIODS, SCOPE_TYPES, type Budget } from '../../../src/control/budgets/budget.js';
import { budgetStatus, statusFrom, statusWindows, type Ask } from '../../../src/control/budgets/status.js';
import { answer } from '../../../src/query/execute.js';
import { startTestEngine, type TestEngine } from '../../helpers/engine.js';

const DAY = 86_400_000;
// Zones whose midnights fall on the hour, the half hour (raw edges) and a quarter hour, and DST ones.
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];
const VALUES = {
  project: ['web', 'api', 'nope'],
  feature: ['chat', 'search', ''],
  user: ['u1', 'u2', 'u3', 'nope'],
  model: ['gpt-4o', 'gpt-4o-mini'],
  api_key: ['nope'],
} as const;

/** A small deterministic PRNG: the same cases every run, many shapes. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

describe('batchUsage: the same spend and forecast as budgetStatus, budget by budget', () => {
  let engine: TestEngine;
  const tenants: { id: string; keyIds: string[] }[] = [];
  const nowMs = Date.now();

  beforeAll(async () => {
    engine = await startTestEngine();
    const r = rng(7);
    for (let i = 0; i < 3; i++) {
      const t = await engine.newTenant();
      const events = Array.from({ length: 300 }, (_, j) => ({
        event_id: `bu-${process.pid}-${i}-${j}`,
        // Up to 70 days back (this and last month, week, day), at any millisecond.
        ts: new Date(nowMs - Math.floor(r.next() * 70 * DAY)).toISOString(),
        event_type: 'llm.call',
        project: r.pick(['web', 'api']),
        feature: r.pick(['chat', 'search', undefined]),
        user_id: r.pick(['u1', 'u2', 'u3', undefined]),
        model: r.pick(['gpt-4o', 'gpt-4o-mini']),
        requests: 1 + Math.floor(r.next() * 3),
        input_tokens: Math.floor(r.next() * 5000),
        output_tokens: Math.floor(r.next() * 500),
        cost: (r.next() * 3).toFixed(9),
      }));
      const res = await engine.request('POST', '/api/v1/events', { key: t.ingest, body: events });
      expect(res.status, await res.clone().text()).toBe(202);
      const keys = await engine.services.ch.query<{ k: string }>('SELECT DISTINCT api_key_id AS k FROM events WHERE tenant_id = {t:String}', { t: t.id });
      tenants.push({ id: t.id, keyIds: keys.map((k) => k.k) });
    }
  });
  afterAll(() => engine?.close());

  /** Random budgets (scopes, periods, metrics, limits) as of `at(r)` in a zone of `zones`. */
  function randomCases(seed: number, n: number, zones: readonly string[], at: (r: ReturnType<typeof rng>) => number) {
    const r = rng(seed);
    return Array.from({ length: n }, (_, i) => {
      const t = r.pick(tenants);
      const scopeType = r.pick(SCOPE_TYPES);
      const scopeValue = scopeType === 'tenant' ? null : scopeType === 'api_key' ? r.pick([...t.keyIds, ...VALUES.api_key]) : r.pick(VALUES[scopeType]);
      const budget: Budget = {
        id: `b${i}`,
        tenantId: t.id,
        name: `b${i}`,
        scopeType,
        scopeValue,
        period: r.pick(PERIODS),
        metric: r.pick(BUDGET_METRICS),
        limit: r.pick(['1', '50.5', '100000']),
        thresholds: ['50', '80', '100'],
        createdAt: '',
        updatedAt: '',
      };
      return { budget, tz: r.pick(zones), at: at(r) };
    });
  }

  async function compare(cases: ReturnType<typeof randomCases>) {
    const ask: Ask = (q) => answer(engine.services.ch, q);
    const asksOf = (c: (typeof cases)[number]): [UsageAsk, UsageAsk] => {
      const w = statusWindows(c.budget, c.tz, c.at);
      const base = { tenantId: c.budget.tenantId, scopeType: c.budget.scopeType, scopeValue: c.budget.scopeValue, tz: c.tz };
      return [{ ...base, window: w.current }, { ...base, window: w.previous }];
    };
    const batch = await batchUsage(engine.services.ch, cases.flatMap(asksOf));
    expect([...batch.failed.values()]).toEqual([]);

    let withSpend = 0;
    for (const c of cases) {
      const [cur, prev] = asksOf(c);
      const u = usageAt(batch.usage, cur, c.budget.metric)!;
      const l = usageAt(batch.usage, prev, c.budget.metric)!;
      const label = JSON.stringify({ ...c.budget, tz: c.tz, at: new Date(c.at).toISOString() });
      expect(statusFrom(c.budget, c.tz, c.at, u, l), label).toEqual(await budgetStatus(ask, c.budget, c.tz, c.at));
      if (u.spent > 0n) withSpend++;
    }
    // The cases are not vacuous: most read real spend.
    expect(withSpend).toBeGreaterThan(cases.length / 3);
    return batch.statements;
  }

  // Each case asks the planner twice more (the per-budget path): slow on a loaded machine.
  it('250 random budgets in every zone kind, as of random instants (on the hour or any millisecond): equal statuses', { timeout: 240_000 }, async () => {
    // Some instants exactly on the hour (whole-hour windows), most anywhere in the last 30 days.
    await compare(randomCases(42, 250, ZONES, (r) => (r.next() < 0.2 ? Math.floor(nowMs / 3_600_000) * 3_600_000 : nowMs - Math.floor(r.next() * 30 * DAY))));
  });

  it('one run (one instant): 200 budgets read in at most one statement per (zone, period, window, scope)', { timeout: 240_000 }, async () => {
    const zones = ['UTC', 'Asia/Kolkata'];
    const statements = await compare(randomCases(9, 200, zones, () => nowMs));
    expect(statements).toBeLessThanOrEqual(zones.length * PERIODS.length * 2 * SCOPE_TYPES.length);
  });

  it('an ask that cannot be batched is reported in `failed` (its budget is then read on its own); the others still answer', async () => {
    const t = tenants[0]!;
    const good: UsageAsk = { tenantId: t.id, scopeType: 'tenant', scopeValue: null, window: statusWindows({ period: 'month' }, 'UTC', nowMs).current, tz: 'UTC' };
    const bad: UsageAsk = { ...good, tz: 'Not/AZone', window: statusWindows({ period: 'month' }, 'Not/AZone', nowMs).current };
    const batch = await batchUsage(engine.services.ch, [bad, good]);
    expect([...batch.failed.values()]).toEqual(['window is not a valid instant range']);
    expect(usageAt(batch.usage, bad, 'cost')).toBeUndefined();
    expect(usageAt(batch.usage, good, 'cost')!.events).toBeGreaterThan(0);
    expect(batch.statements).toBe(1);
  });
});
