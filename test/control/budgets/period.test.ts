import { describe, expect, it } from 'vitest';
import { periodAt, previousPeriod } from '../../../src/control/budgets/period.js';

const at = (iso: string) => Date.parse(iso);
const iso = (w: { fromMs: number; toMs: number }) => [new Date(w.fromMs).toISOString(), new Date(w.toMs).toISOString()];

describe('budget periods in the tenant time zone', () => {
  it('a Berlin month starts at local midnight, the evening before in UTC', () => {
    // 2026-10-31T23:30Z is already November 1st, 00:30 in Berlin (CET, +1).
    expect(iso(periodAt(at('2026-10-31T23:30:00Z'), 'month', 'Europe/Berlin'))).toEqual(['2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z']);
    // In UTC the same instant still belongs to October.
    expect(iso(periodAt(at('2026-10-31T23:30:00Z'), 'month', 'UTC'))).toEqual(['2026-10-01T00:00:00.000Z', '2026-11-01T00:00:00.000Z']);
    // October in Berlin starts in summer time (+2) and ends in winter time (+1): 31 days + 1 hour.
    const oct = periodAt(at('2026-10-15T12:00:00Z'), 'month', 'Europe/Berlin');
    expect(iso(oct)).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z']);
    expect(oct.toMs - oct.fromMs).toBe((31 * 24 + 1) * 3_600_000);
  });

  it('days across DST are 23 and 25 hours', () => {
    const spring = periodAt(at('2026-03-29T12:00:00Z'), 'day', 'Europe/Berlin');
    expect(iso(spring)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(spring.toMs - spring.fromMs).toBe(23 * 3_600_000);
    const autumn = periodAt(at('2026-10-25T12:00:00Z'), 'day', 'Europe/Berlin');
    expect(autumn.toMs - autumn.fromMs).toBe(25 * 3_600_000);
    expect(iso(previousPeriod(at('2026-10-26T12:00:00Z'), 'day', 'Europe/Berlin'))).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
  });

  it('weeks are ISO weeks (Monday first)', () => {
    // Sunday 2026-11-22 belongs to the week of Monday 2026-11-16.
    expect(iso(periodAt(at('2026-11-22T20:00:00Z'), 'week', 'UTC'))).toEqual(['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
    // 23:30 UTC on Sunday is already Monday in Berlin: the next week.
    expect(iso(periodAt(at('2026-11-22T23:30:00Z'), 'week', 'Europe/Berlin'))).toEqual(['2026-11-22T23:00:00.000Z', '2026-11-29T23:00:00.000Z']);
    expect(iso(previousPeriod(at('2026-11-22T20:00:00Z'), 'week', 'UTC'))).toEqual(['2026-11-09T00:00:00.000Z', '2026-11-16T00:00:00.000Z']);
  });

  it('the previous month has its own length', () => {
    const prev = previousPeriod(at('2026-03-10T00:00:00Z'), 'month', 'UTC');
    expect(iso(prev)).toEqual(['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
    expect(iso(previousPeriod(at('2026-01-10T00:00:00Z'), 'month', 'Europe/Berlin'))).toEqual(['2025-11-30T23:00:00.000Z', '2025-12-31T23:00:00.000Z']);
  });
});
