import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { windowQuestion, type Question } from '../../query/planner.js';
import type { AppEnv } from '../env.js';
import { ApiError } from '../errors.js';
import { requireScope } from '../auth.js';
import { cached, SUMMARY_TTL_MS } from '../response-cache.js';

/**
 * Seed 003's usage monitoring window: the last `days` days up to now, [now − days, now).
 * `days` defaults to USAGE_RETENTION_DAYS (30) and may not exceed it: that setting is the
 * longest window the monitoring summaries promise (and its 250 ms budget is for that window).
 * Admin keys only; not an /analytics route, so the analytics flags and plan gate do not apply.
 */
const DAY_MS = 86_400_000;

export const usageQuery = z.object({
  days: z.string().optional().openapi({ description: 'Window length in days, 1..USAGE_RETENTION_DAYS (default USAGE_RETENTION_DAYS)', example: '7' }),
});

export interface UsageWindow {
  days: number;
  fromMs: number;
  toMs: number;
}

export function usageWindow(c: Context<AppEnv>, days: string | undefined, nowMs = Date.now()): UsageWindow {
  const max = c.get('services').config.usageRetentionDays;
  const n = days === undefined ? max : /^\d{1,6}$/.test(days) ? Number(days) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ApiError(400, 'INVALID_REQUEST', `days must be a whole number from 1 to ${max} (USAGE_RETENTION_DAYS); got "${days}"`, {
      field: 'days',
      min: 1,
      max,
    });
  }
  return { days: n, fromMs: nowMs - n * DAY_MS, toMs: nowMs };
}

/** The middleware every /usage summary route runs: admin key (rate-limited), then the 60 s cache. */
export const usageMiddleware = (endpoint: string) => [requireScope('admin'), cached(endpoint, SUMMARY_TTL_MS)];

export const windowSchema = z.object({ from: z.string(), to: z.string() });

/** The fields every /usage answer carries besides its dict. */
export const envelope = (w: UsageWindow) => ({
  days: w.days,
  window: { from: new Date(w.fromMs).toISOString(), to: new Date(w.toMs).toISOString() },
  generated_at: new Date().toISOString(),
});

/** A planner question over the window, for the key's tenant. */
export const usageQuestion = (c: Context<AppEnv>, w: UsageWindow, q: Partial<Question> & Pick<Question, 'metrics'>): Question =>
  windowQuestion({ tenantId: c.get('principal').tenant.id, fromMs: w.fromMs, toMs: w.toMs }, q);

/** A dict without prototype, so a user or dashboard id like "__proto__" is just a key. */
export const dict = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;
