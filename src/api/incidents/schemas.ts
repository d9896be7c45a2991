import { z } from '@hono/zod-openapi';
import { ANOMALY_TYPES, INCIDENT_STATUSES, SEVERITIES } from '../../control/incidents/types.js';
import { decodeCursor, type Cursor } from '../../control/incidents/store.js';
import { ApiError, errorSchema } from '../errors.js';

export const isoTime = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z' });

export const anomalySchema = z
  .object({
    id: z.string(),
    type: z.enum(ANOMALY_TYPES),
    severity: z.enum(SEVERITIES),
    dimension: z.string().openapi({ description: "'tenant' or the dimension the finding is about (model, feature, user_id, api_key_id, endpoint, budget…)" }),
    dimension_value: z.string().nullable(),
    window_start: z.string(),
    window_end: z.string(),
    observed: z.string().openapi({ description: 'Exact decimal (USD for cost findings, a count or ratio otherwise)' }),
    expected: z.string().nullable(),
    z_score: z.number().nullable(),
    impact_usd: z.string().openapi({ description: 'Exact decimal USD' }),
    budget_id: z.string().nullable(),
    threshold_pct: z.string().nullable(),
    run_id: z.string().nullable(),
    dedup_key: z.string(),
    incident_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Anomaly');

export const incidentSchema = z
  .object({
    id: z.string(),
    key: z.string().openapi({ description: 'Grouping key: anomalies with the same key attach to the open incident, e.g. budget:<id>, spike:model:gpt-4o' }),
    title: z.string(),
    category: z.string().openapi({ description: 'The anomaly type that opened it' }),
    severity: z.enum(SEVERITIES).openapi({ description: 'The worst severity among its anomalies' }),
    status: z.enum(INCIDENT_STATUSES),
    source_run_id: z.string().nullable(),
    dimension: z.string(),
    dimension_value: z.string().nullable(),
    window_start: z.string().openapi({ description: 'Start of the earliest window among its anomalies' }),
    window_end: z.string().openapi({ description: 'End of the latest window among its anomalies' }),
    opened_at: z.string(),
    acknowledged_at: z.string().nullable(),
    acknowledged_by: z.string().nullable(),
    resolved_at: z.string().nullable(),
    resolved_by: z.string().nullable(),
    resolution_note: z.string().nullable(),
  })
  .openapi('Incident');

export const idParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' } }) });
export const runIdParam = z.object({ run_id: z.string().min(1).max(256).openapi({ param: { name: 'run_id', in: 'path' } }) });

export const pageFields = {
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: 'Rows per page (default 100, at most 1000)' }),
  cursor: z.string().max(100).optional().openapi({ description: 'next_cursor of the previous page' }),
};

export function parseCursor(s: string | undefined): Cursor | null {
  if (s === undefined) return null;
  const c = decodeCursor(s);
  if (!c) throw new ApiError(400, 'INVALID_CURSOR', 'cursor must be a next_cursor returned by the previous page', { field: 'cursor' });
  return c;
}

export function parseRange(from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  const f = from ? new Date(from) : undefined;
  const t = to ? new Date(to) : undefined;
  if (f && t && f >= t) throw new ApiError(400, 'INVALID_DATE_RANGE', '`from` must be before `to` (the window is [from, to))', { field: 'from' });
  return { from: f, to: t };
}

export const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
export const notFound = (code: string, what: string) => ({
  404: { description: `${code}: no such ${what} for this tenant (also for another tenant’s id)`, content: { 'application/json': { schema: errorSchema } } },
});
export const incidentNotFound = (id: string) => new ApiError(404, 'INCIDENT_NOT_FOUND', `incident ${JSON.stringify(id)} not found`, { field: 'id' });
