import { DateTime } from 'luxon';
import type { Period } from './budget.js';

export interface PeriodWindow {
  fromMs: number;
  toMs: number;
}

/**
 * The calendar period holding `nowMs` in the time zone: a local day, an ISO week (Monday
 * first, as luxon's and ClickHouse's weeks) or a local month. Boundaries are local midnights,
 * so a Berlin day is 23 or 25 hours across a DST change and a Berlin month starts at 22:00 or
 * 23:00 UTC the evening before.
 */
export function periodAt(nowMs: number, period: Period, tz: string): PeriodWindow {
  const start = DateTime.fromMillis(nowMs, { zone: tz }).startOf(period);
  return { fromMs: start.toMillis(), toMs: start.plus({ [`${period}s`]: 1 }).toMillis() };
}

/** The period before the one holding `nowMs` ("the same period last cycle"). */
export function previousPeriod(nowMs: number, period: Period, tz: string): PeriodWindow {
  const current = periodAt(nowMs, period, tz);
  const start = DateTime.fromMillis(current.fromMs, { zone: tz }).minus({ [`${period}s`]: 1 });
  return { fromMs: start.toMillis(), toMs: current.fromMs };
}
