import { z } from '@hono/zod-openapi';
import { DateTime } from 'luxon';
import { ApiError } from '../../errors.js';

/**
 * The seed-002 date range: `from` and `to` are calendar days (YYYY-MM-DD) and `to` is inclusive,
 * so the window is [from 00:00, to+1 00:00) in the time zone (UTC unless a route offers `tz`).
 * Defaults: `to` = today, `from` = 30 days before `to`. The length limit counts the days from
 * `from` to `to` (today−30 .. today is "30 days"). Every refusal is 400 INVALID_DATE_RANGE naming
 * the field.
 */
export interface Period {
  from: string;
  to: string;
  tz: string;
  fromMs: number;
  toMs: number;
  /** Every day of the period, YYYY-MM-DD, in order. */
  dates: string[];
}

export const DEFAULT_SPAN_DAYS = 30;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const periodQuery = {
  from: z.string().optional().openapi({ description: 'First day, YYYY-MM-DD (default: 30 days before `to`)', example: '2026-03-01' }),
  to: z.string().optional().openapi({ description: 'Last day, inclusive, YYYY-MM-DD; not after today (default: today)', example: '2026-03-30' }),
};

export const periodSchema = z.object({ from: z.string(), to: z.string() }).openapi('AnalyticsPeriod');

function parseDay(field: 'from' | 'to', value: string, tz: string): DateTime {
  const d = DAY.test(value) ? DateTime.fromISO(value, { zone: tz }) : null;
  // fromISO accepts 2026-02-30 as invalid but "2026-02-3" never reaches it; the round trip
  // refuses anything that is not exactly the day it names.
  if (!d || !d.isValid || d.toISODate() !== value) {
    throw new ApiError(400, 'INVALID_DATE_RANGE', `\`${field}\` must be a calendar day YYYY-MM-DD; got "${value}"`, { field });
  }
  return d;
}

export function parsePeriod(query: { from?: string; to?: string }, opts: { maxDays: number; tz?: string; nowMs?: number }): Period {
  const tz = opts.tz ?? 'UTC';
  const today = DateTime.fromMillis(opts.nowMs ?? Date.now(), { zone: tz }).startOf('day');
  const to = query.to === undefined ? today : parseDay('to', query.to, tz);
  const from = query.from === undefined ? to.minus({ days: DEFAULT_SPAN_DAYS }) : parseDay('from', query.from, tz);
  if (to > today) {
    throw new ApiError(400, 'INVALID_DATE_RANGE', `\`to\` (${to.toISODate()}) is after today (${today.toISODate()}${tz === 'UTC' ? ' UTC' : ` in ${tz}`})`, { field: 'to' });
  }
  if (from > to) {
    throw new ApiError(400, 'INVALID_DATE_RANGE', `\`from\` (${from.toISODate()}) is after \`to\` (${to.toISODate()})`, { field: 'from' });
  }
  const span = Math.round(to.diff(from, 'days').days);
  if (span > opts.maxDays) {
    throw new ApiError(400, 'INVALID_DATE_RANGE', `the range ${from.toISODate()} .. ${to.toISODate()} spans ${span} days; at most ${opts.maxDays}`, {
      field: 'from',
      maxDays: opts.maxDays,
    });
  }
  const dates: string[] = [];
  for (let d = from; d <= to; d = d.plus({ days: 1 })) dates.push(d.toISODate()!);
  return { from: from.toISODate()!, to: to.toISODate()!, tz, fromMs: from.toMillis(), toMs: to.plus({ days: 1 }).startOf('day').toMillis(), dates };
}

/** The calendar day (in the period's zone) a bucket start falls on. */
export const dayOf = (ms: number, tz: string) => DateTime.fromMillis(ms, { zone: tz }).toISODate()!;
