import { ApiError } from './errors.js';

/**
 * The [from, to) windows every analytics, report and export route accepts: one check, so a window
 * the engine cannot represent is a 400 everywhere rather than a ClickHouse parameter error (a
 * window ending just after 1970 used to start before it, and UInt32 hours refused the negative).
 */
export const DAY_MS = 86_400_000;
/** Retention is 400 days: a longer window could only add empty days. */
export const MAX_WINDOW_DAYS = 400;
/** DateTime (UInt32 seconds) covers 1970-01-01 to 2106-02-07; rollup hours and days use it. */
export const MIN_TIME_MS = Date.UTC(1970, 0, 1);
export const MAX_TIME_MS = Date.UTC(2106, 0, 1);

export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

export function checkWindow(fromMs: number, toMs: number): TimeWindow {
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) {
    throw new ApiError(400, 'INVALID_DATE_RANGE', '`from` and `to` must be RFC 3339 date-times', { field: Number.isFinite(fromMs) ? 'to' : 'from' });
  }
  if (fromMs >= toMs) throw new ApiError(400, 'INVALID_DATE_RANGE', '`from` must be before `to` (the window is [from, to))', { field: 'from' });
  if (toMs - fromMs > MAX_WINDOW_DAYS * DAY_MS) {
    throw new ApiError(400, 'INVALID_DATE_RANGE', `the window spans more than ${MAX_WINDOW_DAYS} days`, { field: 'to', max_days: MAX_WINDOW_DAYS });
  }
  if (fromMs < MIN_TIME_MS || toMs > MAX_TIME_MS) {
    const field = fromMs < MIN_TIME_MS ? 'from' : 'to';
    throw new ApiError(400, 'INVALID_DATE_RANGE', `the window must lie within ${new Date(MIN_TIME_MS).toISOString()} and ${new Date(MAX_TIME_MS).toISOString()}`, {
      field,
      min: new Date(MIN_TIME_MS).toISOString(),
      max: new Date(MAX_TIME_MS).toISOString(),
    });
  }
  return { fromMs, toMs };
}

/** `from` defaults to `defaultDays` before `to`, `to` to now; then checkWindow. */
export function resolveWindow(from: string | undefined, to: string | undefined, defaultDays: number, nowMs = Date.now()): TimeWindow {
  const toMs = to ? Date.parse(to) : nowMs;
  const fromMs = from ? Date.parse(from) : toMs - defaultDays * DAY_MS;
  return checkWindow(fromMs, toMs);
}
