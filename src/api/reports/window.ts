import { z } from '@hono/zod-openapi';
import { ApiError } from '../errors.js';

const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_DAYS = 30;
/** Retention is 400 days: a longer report window could only add empty days. */
export const MAX_WINDOW_DAYS = 400;

const isoTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z' });

/** `from` / `to` of every report: RFC 3339, the window is [from, to). */
export const reportWindowQuery = z.object({
  from: isoTime.optional().openapi({ description: `Inclusive start, RFC 3339 (default: ${DEFAULT_WINDOW_DAYS} days before \`to\`)`, example: '2026-01-01T00:00:00Z' }),
  to: isoTime.optional().openapi({ description: 'Exclusive end, RFC 3339 (default: now)', example: '2026-01-31T00:00:00Z' }),
});

export interface ReportWindow {
  fromMs: number;
  toMs: number;
}

export const windowSchema = z.object({ from: z.string(), to: z.string() }).openapi('ReportWindow');

export function resolveWindow(q: z.infer<typeof reportWindowQuery>, nowMs = Date.now()): ReportWindow {
  const toMs = q.to ? Date.parse(q.to) : nowMs;
  const fromMs = q.from ? Date.parse(q.from) : toMs - DEFAULT_WINDOW_DAYS * DAY_MS;
  if (fromMs >= toMs) throw new ApiError(400, 'INVALID_DATE_RANGE', '`from` must be before `to` (the window is [from, to))', { field: 'from' });
  if (toMs - fromMs > MAX_WINDOW_DAYS * DAY_MS) {
    throw new ApiError(400, 'INVALID_DATE_RANGE', `the window spans more than ${MAX_WINDOW_DAYS} days`, { field: 'to' });
  }
  return { fromMs, toMs };
}

export const windowJson = (w: ReportWindow) => ({ from: new Date(w.fromMs).toISOString(), to: new Date(w.toMs).toISOString() });
