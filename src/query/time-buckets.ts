import { DateTime, IANAZone } from 'luxon';
import type { Granularity } from './catalog.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const isTimeZone = (tz: string): boolean => IANAZone.isValidZone(tz);

const UNIT: Record<Granularity, 'minute' | 'hour' | 'day' | 'week' | 'month'> = {
  minute: 'minute',
  hour: 'hour',
  day: 'day',
  week: 'week', // luxon weeks are ISO weeks: Monday first, as toMonday() in ClickHouse
  month: 'month',
};

/** Start of the bucket holding `ms`, in the time zone (DST-aware: a Berlin day can be 23 or 25 h). */
export function bucketStart(ms: number, g: Granularity, tz: string): number {
  return DateTime.fromMillis(ms, { zone: tz }).startOf(UNIT[g]).toMillis();
}

/**
 * Starts of every bucket that overlaps [from, to), in order. The first may start before
 * `from` (a partial bucket keeps its calendar start, as the SQL bucket expression gives it).
 */
export function bucketStarts(fromMs: number, toMs: number, g: Granularity, tz: string, max = 100_000): number[] {
  const out: number[] = [];
  let d = DateTime.fromMillis(fromMs, { zone: tz }).startOf(UNIT[g]);
  while (d.toMillis() < toMs) {
    out.push(d.toMillis());
    if (out.length > max) throw new RangeError(`more than ${max} buckets`);
    d = d.plus({ [UNIT[g] + 's']: 1 }).startOf(UNIT[g]);
  }
  return out;
}

export const ceilTo = (ms: number, step: number) => Math.ceil(ms / step) * step;
export const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;
