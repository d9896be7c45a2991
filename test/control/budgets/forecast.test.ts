import { describe, expect, it } from 'vitest';
import { divRound, formatAmount } from '../../../src/control/budgets/amounts.js';
import { crossed, forecast, pctUsed } from '../../../src/control/budgets/status.js';

const DAY = 86_400_000;
const NANO = 1_000_000_000n;

describe('budget forecast arithmetic', () => {
  // A 30-day period, 10 days elapsed, $20 spent: $2/day so far.
  const w = { fromMs: 0, toMs: 30 * DAY };
  const now = 10 * DAY;
  const spent = 20n * NANO;

  it('without data in the last period: the current rate, linearly', () => {
    const f = forecast(spent, w, now, { usage: { spent: 0n, events: 0 }, window: { fromMs: -30 * DAY, toMs: 0 } });
    expect(f.method).toBe('current_rate');
    expect(f.burnPerDay).toBe(2n * NANO);
    expect(f.projection).toBe(60n * NANO); // 20 + 2 × 20 days
    expect(forecast(spent, w, now, null)).toEqual(f);
  });

  it('blends the rate so far with the last period by elapsed share', () => {
    // Last period: 31 days, $93 → $3/day. w = 1/3:
    // burn = 1/3 × 2 + 2/3 × 3 = 8/3 $/day; projection = 20 + 8/3 × 20 = 73.333333333 (half up).
    const f = forecast(spent, w, now, { usage: { spent: 93n * NANO, events: 5 }, window: { fromMs: -31 * DAY, toMs: 0 } });
    expect(f.method).toBe('blended');
    expect(f.burnPerDay).toBe(2_666_666_667n);
    expect(f.projection).toBe(73_333_333_333n);
    expect(formatAmount('cost', f.projection)).toBe('73.333333333');
    // A last period with events but no spend still counts as data: burn = 1/3 × 2.
    const zero = forecast(spent, w, now, { usage: { spent: 0n, events: 3 }, window: { fromMs: -31 * DAY, toMs: 0 } });
    expect(zero.method).toBe('blended');
    expect(zero.burnPerDay).toBe(666_666_667n);
    expect(zero.projection).toBe(33_333_333_333n);
  });

  it('at the period start the last period alone; at its end the spend itself', () => {
    const last = { usage: { spent: 93n * NANO, events: 1 }, window: { fromMs: -31 * DAY, toMs: 0 } };
    const start = forecast(0n, w, 0, last);
    expect(start.burnPerDay).toBe(3n * NANO);
    expect(start.projection).toBe(90n * NANO);
    const end = forecast(spent, w, 30 * DAY, last);
    expect(end.projection).toBe(spent);
    expect(forecast(0n, w, 0, null)).toEqual({ projection: 0n, burnPerDay: 0n, method: 'current_rate' });
  });

  it('percent used, thresholds crossed and counts are exact', () => {
    expect(pctUsed(2n * NANO, 3n * NANO)).toBe(66.67);
    expect(pctUsed(150n * NANO, 100n * NANO)).toBe(150);
    const limit = 100n * NANO;
    expect(crossed(79_999_999_999n, limit, ['50', '80', '100'])).toEqual(['50']);
    expect(crossed(80n * NANO, limit, ['50.000000', '80.000000', '100.000000'])).toEqual(['50.000000', '80.000000']);
    expect(crossed(80n * NANO, limit, ['80.5'])).toEqual([]);
    expect(formatAmount('tokens', 2_500_000_000n, 3)).toBe('2.5');
    expect(formatAmount('requests', 1_234_567_890_123n)).toBe('1235');
    expect(formatAmount('tokens', -5n * NANO)).toBe('-5');
    expect(divRound(-3n, 2n)).toBe(-2n);
  });
});
