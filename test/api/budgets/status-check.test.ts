import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';
import { awayFromMidnight, BUDGETS, createBudget, expect400, getJson, type BudgetJson } from './dataset.js';

interface Status {
  budget: BudgetJson;
  as_of: string;
  period: { from: string; to: string; tz: string };
  spent: string;
  pct_used: number;
  remaining: string;
  forecast: { period_end_projection: string; burn_rate_per_day: string; method: string; exceeds_limit: boolean };
  thresholds_crossed: number[];
}
interface Checked {
  id: string;
  limit: string;
  spent: string;
  pct_used: number;
  remaining: string;
  allowed: boolean;
}
interface Check {
  allowed: boolean;
  binding_budget: Checked | null;
  remaining: string | null;
  budgets: Checked[];
}

const NANO = 1_000_000_000n;
const DAY_MS = 86_400_000n;
const usd = (s: string) => {
  const [w, f = ''] = s.split('.');
  return BigInt(w!) * NANO + BigInt((f + '000000000').slice(0, 9));
};
const fmtUsd = (n: bigint) => {
  const frac = (n % NANO).toString().padStart(9, '0').replace(/0+$/, '');
  return `${n / NANO}.${frac.length < 2 ? frac.padEnd(2, '0') : frac}`;
};
const divHalfUp = (n: bigint, d: bigint) => (n * 2n + d) / (2n * d);
const startOf = (ms: number, unit: 'day' | 'week' | 'month', zone: string) => DateTime.fromMillis(ms, { zone }).startOf(unit);

/**
 * The documented forecast, recomputed here from the response's own as_of and period:
 * burn = w·spent/elapsed + (1−w)·lastTotal/lastLength with w = elapsed/length (blended), or
 * spent/elapsed without last-period data; projection = spent + burn × time left.
 */
function expectedForecast(s: Status, spent: bigint, last: { total: bigint; fromMs: number; toMs: number } | null) {
  const from = BigInt(Date.parse(s.period.from));
  const length = BigInt(Date.parse(s.period.to)) - from;
  const elapsed = BigInt(Date.parse(s.as_of)) - from;
  const left = length - elapsed;
  const [num, den] = last ? [spent * BigInt(last.toMs - last.fromMs) + left * last.total, length * BigInt(last.toMs - last.fromMs)] : [spent, elapsed];
  return { projection: spent + divHalfUp(num * left, den), burnPerDay: divHalfUp(num * DAY_MS, den) };
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`budget status and check (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let berlin: TestTenant;
    let other: TestTenant;
    let nowMs: number;
    let prevMonthUtc: { fromMs: number; toMs: number };
    const budgets: Record<string, BudgetJson> = {};

    beforeAll(async () => {
      await awayFromMidnight();
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      other = await engine.newTenant();
      const t = await engine.services.tenants.createTenant({ name: `berlin-${mode}-${process.pid}`, timezone: 'Europe/Berlin' });
      const key = async (scopes: ('admin' | 'read')[]) => (await engine.services.tenants.createKey({ tenantId: t.id, scopes })).key;
      berlin = { id: t.id, name: t.name, admin: await key(['admin']), read: await key(['read']), ingest: '' };

      nowMs = Date.now();
      // Tenant A (UTC): three events at the start of today (so in today, this week and this
      // month), and one at the first instant of last month (in no current period).
      const d0 = startOf(nowMs, 'day', 'UTC').toMillis();
      const m0 = startOf(nowMs, 'month', 'UTC');
      prevMonthUtc = { fromMs: m0.minus({ months: 1 }).toMillis(), toMs: m0.toMillis() };
      const ev = (id: string, ts: number, f: object) => ({ event_id: id, event_type: 'llm.call', ts, ...f });
      const r = await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: 'k-default' }, [
        ev('e1', d0 + 1, { project: 'alpha', feature: 'chat', model: 'gpt-4o', user_id: 'u1', api_key_id: 'k1', cost: '1.250000001', input_tokens: 100, output_tokens: 50, requests: 1 }),
        ev('e2', d0 + 2, { project: 'alpha', feature: 'search', model: 'gpt-4o-mini', user_id: 'u2', api_key_id: 'k2', cost: '0.75', input_tokens: 1000, output_tokens: 200, requests: 2 }),
        ev('e3', d0 + 3, { project: 'beta', feature: 'chat', model: 'gpt-4o', user_id: 'u1', api_key_id: 'k2', cost: '3.000000002', input_tokens: 10, output_tokens: 5, requests: 1 }),
        ev('p1', prevMonthUtc.fromMs, { project: 'alpha', feature: 'chat', model: 'gpt-4o', user_id: 'u1', api_key_id: 'k1', cost: '31', input_tokens: 3000, output_tokens: 100, requests: 4 }),
      ]);
      expect(r).toEqual({ accepted: 4, duplicates: 0, rejected: [] });

      // Berlin: one event just after the local month start (still last month in UTC), one half
      // an hour before it (last month in Berlin).
      const bm0 = startOf(nowMs, 'month', 'Europe/Berlin').toMillis();
      const offset = Math.min(1_800_000, Math.floor((nowMs - bm0) / 2));
      const rb = await engine.services.ingest.ingest({ tenantId: berlin.id, apiKeyId: 'kb' }, [
        ev('in', bm0 + offset, { cost: '7', requests: 1 }),
        ev('out', bm0 - 1_800_000, { cost: '40', requests: 1 }),
      ]);
      expect(rb.accepted).toBe(2);

      const mk = async (name: string, t: TestTenant, body: object) => (budgets[name] = await createBudget(engine, t, { name, ...body }));
      await mk('alpha-month-cost', a, { scope_type: 'project', scope_value: 'alpha', period: 'month', metric: 'cost', limit: '10' });
      await mk('tenant-month-cost', a, { scope_type: 'tenant', period: 'month', metric: 'cost', limit: '6' });
      await mk('chat-week-tokens', a, { scope_type: 'feature', scope_value: 'chat', period: 'week', metric: 'tokens', limit: 200 });
      await mk('u1-day-requests', a, { scope_type: 'user', scope_value: 'u1', period: 'day', metric: 'requests', limit: 4 });
      await mk('gpt4o-day-cost', a, { scope_type: 'model', scope_value: 'gpt-4o', period: 'day', metric: 'cost', limit: '4.25', thresholds: [50, 100, 120] });
      await mk('k1-month-cost', a, { scope_type: 'api_key', scope_value: 'k1', period: 'month', metric: 'cost', limit: '1.25' });
      await mk('berlin-month-cost', berlin, { scope_type: 'tenant', period: 'month', metric: 'cost', limit: '100' });
    }, 200_000);
    afterAll(() => engine?.close());

    const status = async (name: string, t: TestTenant = a) => {
      const r = await getJson<Status>(engine, t.read, `${BUDGETS}/${budgets[name]!.id}/status`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };

    it('project cost per month: exact spend, % used, remaining, thresholds, and a forecast blended with last month', async () => {
      const s = await status('alpha-month-cost');
      const m0 = startOf(nowMs, 'month', 'UTC');
      expect(s.period).toEqual({ from: m0.toUTC().toISO(), to: m0.plus({ months: 1 }).toUTC().toISO(), tz: 'UTC' });
      expect(s.budget).toEqual(budgets['alpha-month-cost']);
      // e1 + e2 = 1.250000001 + 0.75
      expect(s.spent).toBe('2.000000001');
      expect(s.pct_used).toBe(20);
      expect(s.remaining).toBe('7.999999999');
      expect(s.thresholds_crossed).toEqual([]);
      const f = expectedForecast(s, usd('2.000000001'), { total: usd('31'), ...prevMonthUtc });
      expect(s.forecast).toEqual({ method: 'blended', period_end_projection: fmtUsd(f.projection), burn_rate_per_day: fmtUsd(f.burnPerDay), exceeds_limit: f.projection > usd('10') });
      expect(Date.parse(s.as_of)).toBeGreaterThanOrEqual(nowMs);
    });

    it('tenant-wide, feature, user, model and api-key scopes read their own slice', async () => {
      const t = await status('tenant-month-cost');
      expect([t.spent, t.pct_used, t.remaining, t.thresholds_crossed]).toEqual(['5.000000003', 83.33, '0.999999997', [50, 80]]);
      expect(t.forecast.method).toBe('blended');

      const chat = await status('chat-week-tokens');
      // e1 (100 + 50) + e3 (10 + 5); last week had no events → the current rate alone.
      expect([chat.spent, chat.pct_used, chat.remaining, chat.thresholds_crossed]).toEqual(['165', 82.5, '35', [50, 80]]);
      const w0 = startOf(nowMs, 'week', 'UTC');
      expect(chat.period.from).toBe(w0.toUTC().toISO());
      expect(DateTime.fromISO(chat.period.from, { zone: 'UTC' }).weekday).toBe(1);
      const fc = expectedForecast(chat, 165n * NANO, null);
      expect(chat.forecast.method).toBe('current_rate');
      expect(chat.forecast.period_end_projection).toBe(String(divHalfUp(fc.projection, NANO)));
      expect(chat.forecast.burn_rate_per_day).toBe(String(Number(divHalfUp(fc.burnPerDay, 1_000_000n)) / 1000));

      const u1 = await status('u1-day-requests');
      expect([u1.spent, u1.pct_used, u1.remaining, u1.thresholds_crossed]).toEqual(['2', 50, '2', [50]]);
      expect(u1.period.from).toBe(startOf(nowMs, 'day', 'UTC').toUTC().toISO());

      const model = await status('gpt4o-day-cost');
      // e1 + e3 = 4.250000003 against 4.25: just over, so 100 is crossed and 120 is not.
      expect([model.spent, model.pct_used, model.remaining, model.thresholds_crossed]).toEqual(['4.250000003', 100, '-0.000000003', [50, 100]]);
      expect(model.forecast.exceeds_limit).toBe(true);

      const k1 = await status('k1-month-cost');
      expect([k1.spent, k1.remaining, k1.thresholds_crossed]).toEqual(['1.250000001', '-0.000000001', [50, 80, 100]]);
    });

    it('a Berlin tenant counts its own month, which starts the evening before in UTC', async () => {
      const s = await status('berlin-month-cost', berlin);
      const bm0 = startOf(nowMs, 'month', 'Europe/Berlin');
      expect(s.period).toEqual({ from: bm0.toUTC().toISO(), to: bm0.plus({ months: 1 }).toUTC().toISO(), tz: 'Europe/Berlin' });
      expect(s.period.from).not.toBe(startOf(nowMs, 'month', 'UTC').toUTC().toISO());
      expect(DateTime.fromISO(s.period.from, { zone: 'Europe/Berlin' }).toFormat('dd HH:mm')).toBe('01 00:00');
      // "in" is counted although it is still last month in UTC; "out" (30 min earlier) is last month's.
      expect([s.spent, s.pct_used, s.remaining, s.thresholds_crossed]).toEqual(['7.00', 7, '93.00', []]);
      const last = bm0.minus({ months: 1 });
      const f = expectedForecast(s, usd('7'), { total: usd('40'), fromMs: last.toMillis(), toMs: bm0.toMillis() });
      expect(s.forecast).toEqual({ method: 'blended', period_end_projection: fmtUsd(f.projection), burn_rate_per_day: fmtUsd(f.burnPerDay), exceeds_limit: f.projection > usd('100') });
    });

    const check = async (query: string, key = a.read) => {
      const r = await getJson<Check>(engine, key, `${BUDGETS}/check?${query}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };

    it('check: the scope’s budgets plus every tenant-wide one, the amount added, the tightest one binds', async () => {
      const fits = await check('scope_type=project&scope_value=alpha&metric=cost&amount=0.5');
      expect(fits.allowed).toBe(true);
      expect(fits.budgets.map((b) => [b.id, b.spent, b.remaining, b.allowed])).toEqual([
        [budgets['alpha-month-cost']!.id, '2.000000001', '7.499999999', true],
        [budgets['tenant-month-cost']!.id, '5.000000003', '0.499999997', true],
      ]);
      expect(fits.binding_budget?.id).toBe(budgets['tenant-month-cost']!.id);
      expect(fits.remaining).toBe('0.499999997');

      const over = await check('scope_type=project&scope_value=alpha&metric=cost&amount=1');
      expect([over.allowed, over.binding_budget?.id, over.remaining]).toEqual([false, budgets['tenant-month-cost']!.id, '-0.000000003']);
      expect(over.budgets.map((b) => b.allowed)).toEqual([true, false]);

      // Exactly filling a budget is allowed; one more is not; no amount asks for any headroom.
      const exact = await check('scope_type=user&scope_value=u1&metric=requests&amount=2');
      expect([exact.allowed, exact.remaining, exact.binding_budget?.id]).toEqual([true, '0', budgets['u1-day-requests']!.id]);
      expect((await check('scope_type=user&scope_value=u1&metric=requests&amount=3')).allowed).toBe(false);
      expect([(await check('scope_type=user&scope_value=u1&metric=requests')).remaining]).toEqual(['2']);
      expect((await check('scope_type=feature&scope_value=chat&metric=tokens&amount=35')).allowed).toBe(true);
      expect((await check('scope_type=feature&scope_value=chat&metric=tokens&amount=36')).allowed).toBe(false);

      // Over already: the model budget and the exhausted api key.
      const model = await check('scope_type=model&scope_value=gpt-4o&metric=cost');
      expect([model.allowed, model.budgets.length]).toEqual([false, 2]);
      const k1 = await check('scope_type=api_key&scope_value=k1&metric=cost');
      expect([k1.allowed, k1.binding_budget?.id, k1.remaining]).toEqual([false, budgets['k1-month-cost']!.id, '-0.000000001']);

      // Another project has only the tenant-wide budget; a metric without budgets allows.
      const gamma = await check('scope_type=project&scope_value=gamma&metric=cost');
      expect(gamma.budgets.map((b) => b.id)).toEqual([budgets['tenant-month-cost']!.id]);
      expect(await check('scope_type=project&scope_value=alpha&metric=requests&amount=1000')).toEqual({ allowed: true, binding_budget: null, remaining: null, budgets: [] });
      expect((await check('scope_type=tenant&metric=cost')).budgets.map((b) => b.id)).toEqual([budgets['tenant-month-cost']!.id]);
      // Another tenant sees none of A's budgets.
      expect(await check('scope_type=project&scope_value=alpha&metric=cost', other.read)).toEqual({ allowed: true, binding_budget: null, remaining: null, budgets: [] });
    });

    it('check refuses bad queries naming the field', async () => {
      const bad: [string, string][] = [
        ['metric=cost', 'scope_type'],
        ['scope_type=team&scope_value=x&metric=cost', 'scope_type'],
        ['scope_type=project&metric=cost', 'scope_value'],
        ['scope_type=tenant&scope_value=x&metric=cost', 'scope_value'],
        ['scope_type=tenant', 'metric'],
        ['scope_type=tenant&metric=dollars', 'metric'],
        ['scope_type=tenant&metric=cost&amount=-1', 'amount'],
        ['scope_type=tenant&metric=cost&amount=abc', 'amount'],
        ['scope_type=tenant&metric=cost&amount=0.0000000001', 'amount'],
        ['scope_type=tenant&metric=tokens&amount=1.5', 'amount'],
      ];
      for (const [q, field] of bad) expect400(await getJson(engine, a.read, `${BUDGETS}/check?${q}`), field, q);
    });

    it('check latency on this dataset (one Postgres query + one planner question per period and scope)', async () => {
      const q = 'scope_type=project&scope_value=alpha&metric=cost&amount=0.5';
      await check(q);
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        await check(q);
        times.push(performance.now() - t0);
      }
      times.sort((x, y) => x - y);
      const p50 = times[15]!;
      const p95 = times[28]!;
      console.log(`budgets/check latency (${mode}): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${times[29]!.toFixed(1)} ms over 30 calls`);
      expect(p50).toBeLessThan(1000);
    });
  });
}
