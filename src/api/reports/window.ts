import { z } from '@hono/zod-openapi';
import { resolveWindow as resolveTimeWindow } from '../time-window.js';

export const DEFAULT_WINDOW_DAYS = 30;

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

export const resolveWindow = (q: z.infer<typeof reportWindowQuery>, nowMs = Date.now()): ReportWindow => resolveTimeWindow(q.from, q.to, DEFAULT_WINDOW_DAYS, nowMs);

export const windowJson = (w: ReportWindow) => ({ from: new Date(w.fromMs).toISOString(), to: new Date(w.toMs).toISOString() });
