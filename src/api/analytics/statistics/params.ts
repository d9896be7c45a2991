import { z } from '@hono/zod-openapi';
import type { Answer, AnswerOptions } from '../../../query/execute.js';
import type { DimensionFilter, Question } from '../../../query/planner.js';
import { DAY_MS, isTimeZone } from '../../../query/time-buckets.js';
import { ApiError } from '../../errors.js';
import { resolveWindow } from '../../time-window.js';

/**
 * The query parameters of the seed 000 statistics routes (and their exports), and their
 * translation into the planner's terms. Codes are the seeds': INVALID_DATE_RANGE,
 * INVALID_GRANULARITY; anything else names the field.
 */
export const RESOLUTIONS = ['hour', 'day', 'week', 'month'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const SCOPES = ['org', 'project', 'env'] as const;
export type Scope = (typeof SCOPES)[number];

export const DEFAULT_WINDOW_DAYS = 7;

const isoTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z' });
const dimValue = z.string().min(1, 'must not be empty').max(256, 'at most 256 characters');

export const windowFields = {
  from: isoTime.optional().openapi({ description: `Inclusive start (default: ${DEFAULT_WINDOW_DAYS} days before \`to\`)`, example: '2026-11-01T00:00:00Z' }),
  to: isoTime.optional().openapi({ description: 'Exclusive end (default: now)', example: '2026-11-08T00:00:00Z' }),
};

export const statisticsQuery = z.object({
  ...windowFields,
  resolution: z.string().optional().openapi({ description: `Bucket: ${RESOLUTIONS.join(' | ')} (default day)`, example: 'day' }),
  scope: z.string().optional().openapi({
    description: 'org (whole tenant) | project (needs `project`) | env (needs `env`; `project` narrows it further). Default: the narrowest the parameters name.',
    example: 'org',
  }),
  project: dimValue.optional().openapi({ description: 'Project, with scope=project or scope=env' }),
  env: dimValue.optional().openapi({ description: 'Environment, with scope=env' }),
  tz: z.string().max(64).optional().openapi({ description: 'IANA time zone of the buckets (default UTC)', example: 'Europe/Berlin' }),
  source: z.enum(['auto', 'raw']).optional().openapi({ description: 'raw forces the raw events table (to compare with the rollups); default auto' }),
});
export type StatisticsQuery = z.infer<typeof statisticsQuery>;

/** Asks the planner (a request's timedPlanner().ask, so the query duration is recorded). */
export type Ask = (q: Question, opts?: AnswerOptions) => Promise<Answer>;

export interface Window {
  fromMs: number;
  toMs: number;
}

export interface StatisticsParams extends Window {
  tenantId: string;
  resolution: Resolution;
  tz: string;
  scope: Scope;
  /** The scope as planner filters (project / environment equality). */
  filters: DimensionFilter[];
  source: 'auto' | 'raw';
}

/** [from, to): defaults to the last DEFAULT_WINDOW_DAYS days ending now; at most MAX_WINDOW_DAYS. */
export const parseWindow = (from: string | undefined, to: string | undefined, nowMs = Date.now()): Window => resolveWindow(from, to, DEFAULT_WINDOW_DAYS, nowMs);

/** An IANA zone in its canonical spelling (ClickHouse wants "Europe/Berlin", not "europe/berlin"). */
export function parseTz(tz: string | undefined): string {
  if (tz === undefined) return 'UTC';
  if (!isTimeZone(tz)) throw new ApiError(400, 'INVALID_TIMEZONE', `tz must be an IANA time zone such as Europe/Berlin; got "${tz}"`, { field: 'tz' });
  return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
}

export function parseResolution(resolution: string | undefined): Resolution {
  const r = resolution ?? 'day';
  if (!(RESOLUTIONS as readonly string[]).includes(r)) {
    throw new ApiError(400, 'INVALID_GRANULARITY', `resolution must be one of ${RESOLUTIONS.join(', ')}; got "${r}"`, { field: 'resolution', valid: RESOLUTIONS });
  }
  return r as Resolution;
}

/**
 * scope → filters. A parameter the scope would ignore is refused rather than dropped: a
 * dashboard sending project=x with scope=org would otherwise show the whole tenant as x.
 */
export function parseScope(q: Pick<StatisticsQuery, 'scope' | 'project' | 'env'>): { scope: Scope; filters: DimensionFilter[] } {
  const scope = q.scope ?? (q.env !== undefined ? 'env' : q.project !== undefined ? 'project' : 'org');
  if (!(SCOPES as readonly string[]).includes(scope)) {
    throw new ApiError(400, 'INVALID_REQUEST', `scope must be one of ${SCOPES.join(', ')}; got "${scope}"`, { field: 'scope', valid: SCOPES });
  }
  const filters: DimensionFilter[] = [];
  if (scope === 'org') {
    if (q.project !== undefined) throw new ApiError(400, 'INVALID_REQUEST', 'project applies with scope=project or scope=env, not scope=org', { field: 'project' });
    if (q.env !== undefined) throw new ApiError(400, 'INVALID_REQUEST', 'env applies with scope=env, not scope=org', { field: 'env' });
  } else if (scope === 'project') {
    if (q.project === undefined) throw new ApiError(400, 'INVALID_REQUEST', 'scope=project needs the project parameter', { field: 'project' });
    if (q.env !== undefined) throw new ApiError(400, 'INVALID_REQUEST', 'env applies with scope=env, not scope=project', { field: 'env' });
  } else if (q.env === undefined) {
    throw new ApiError(400, 'INVALID_REQUEST', 'scope=env needs the env parameter', { field: 'env' });
  }
  if (q.project !== undefined) filters.push({ dimension: 'project', op: 'eq', values: [q.project] });
  if (q.env !== undefined) filters.push({ dimension: 'environment', op: 'eq', values: [q.env] });
  return { scope: scope as Scope, filters };
}

export function parseStatistics(tenantId: string, q: StatisticsQuery, nowMs = Date.now()): StatisticsParams {
  const resolution = parseResolution(q.resolution);
  const tz = parseTz(q.tz);
  const { scope, filters } = parseScope(q);
  const { fromMs, toMs } = parseWindow(q.from, q.to, nowMs);
  return { tenantId, fromMs, toMs, resolution, tz, scope, filters, source: q.source ?? 'auto' };
}
