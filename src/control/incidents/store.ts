import type { Queryable } from '../timeline.js';
import type { Anomaly, AnomalyType, Incident, IncidentStatus, Severity } from './types.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
// numeric comes back as text; print it without trailing zeros (observed "12.500000000" → "12.5").
const dec = (v: string | null) => (v === null ? null : v.includes('.') ? v.replace(/\.?0+$/, '') : v);

export const ANOMALY_COLS =
  'id, tenant_id, type, severity, dimension, dimension_value, window_start, window_end, observed, expected, z_score, impact_usd, budget_id, threshold_pct, run_id, dedup_key, incident_id, created_at';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toAnomaly(r: any): Anomaly {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    type: r.type as AnomalyType,
    severity: r.severity as Severity,
    dimension: r.dimension,
    dimensionValue: r.dimension_value,
    windowStart: iso(r.window_start)!,
    windowEnd: iso(r.window_end)!,
    observed: dec(r.observed)!,
    expected: dec(r.expected),
    zScore: r.z_score === null ? null : Number(r.z_score),
    impactUsd: dec(r.impact_usd)!,
    budgetId: r.budget_id,
    thresholdPct: dec(r.threshold_pct),
    runId: r.run_id,
    dedupKey: r.dedup_key,
    incidentId: r.incident_id,
    createdAt: iso(r.created_at)!,
  };
}

export const INCIDENT_COLS =
  'id, tenant_id, key, title, category, severity, status, source_run_id, dimension, dimension_value, window_start, window_end, opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution_note';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toIncident(r: any): Incident {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    key: r.key,
    title: r.title,
    category: r.category,
    severity: r.severity as Severity,
    status: r.status as IncidentStatus,
    sourceRunId: r.source_run_id,
    dimension: r.dimension,
    dimensionValue: r.dimension_value,
    windowStart: iso(r.window_start)!,
    windowEnd: iso(r.window_end)!,
    openedAt: iso(r.opened_at)!,
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: iso(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolutionNote: r.resolution_note,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids are uuids: anything else is simply not found (rather than a uuid cast error). */
export const isUuid = (id: string) => UUID.test(id);

export async function getAnomaly(db: Queryable, tenantId: string, id: string): Promise<Anomaly | null> {
  if (!isUuid(id)) return null;
  const { rows } = await db.query(`SELECT ${ANOMALY_COLS} FROM anomalies WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return rows[0] ? toAnomaly(rows[0]) : null;
}

export async function getIncident(db: Queryable, tenantId: string, id: string): Promise<Incident | null> {
  if (!isUuid(id)) return null;
  const { rows } = await db.query(`SELECT ${INCIDENT_COLS} FROM incidents WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return rows[0] ? toIncident(rows[0]) : null;
}

/**
 * Keyset page cursor: `<epoch µs>:<uuid>` of the last row of the previous page. Microseconds,
 * because Postgres keeps them: a millisecond cursor would skip rows within the same millisecond.
 */
export interface Cursor {
  us: string;
  id: string;
}
export function decodeCursor(s: string): Cursor | null {
  const m = /^(\d{1,18}):([0-9a-f-]{36})$/i.exec(s);
  return m && isUuid(m[2]!) ? { us: m[1]!, id: m[2]! } : null;
}
/** SQL for a timestamptz column's cursor value, and for a cursor parameter back into a timestamptz. */
export const cursorUs = (col: string) => `(extract(epoch FROM ${col}) * 1000000)::bigint AS cursor_us`;
export const cursorTs = (param: string) => `('epoch'::timestamptz + ${param}::bigint * interval '1 microsecond')`;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function pageOf<T>(rows: any[], limit: number, map: (r: any) => T): Page<T> {
  const last = rows[rows.length - 1];
  return { items: rows.map(map), nextCursor: rows.length === limit && last ? `${last.cursor_us}:${last.id}` : null };
}

export interface AnomalyFilter {
  type?: AnomalyType;
  severity?: Severity;
  from?: Date;
  to?: Date;
  runId?: string;
  incidentId?: string;
  cursor?: Cursor | null;
  limit: number;
}

/** Newest first by created_at, keyset-paginated. */
export async function listAnomalies(db: Queryable, tenantId: string, f: AnomalyFilter): Promise<Page<Anomaly>> {
  const { rows } = await db.query(
    `SELECT ${ANOMALY_COLS}, ${cursorUs('created_at')} FROM anomalies
     WHERE tenant_id = $1
       AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR severity = $3)
       AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
       AND ($6::text IS NULL OR run_id = $6) AND ($7::uuid IS NULL OR incident_id = $7)
       AND ($8::bigint IS NULL OR (created_at, id) < (${cursorTs('$8')}, $9::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $10`,
    [tenantId, f.type ?? null, f.severity ?? null, f.from ?? null, f.to ?? null, f.runId ?? null, f.incidentId ?? null, f.cursor?.us ?? null, f.cursor?.id ?? null, f.limit],
  );
  return pageOf(rows, f.limit, toAnomaly);
}

export interface IncidentFilter {
  status?: IncidentStatus;
  severity?: Severity;
  cursor?: Cursor | null;
  limit: number;
}

/** Newest first by opened_at, keyset-paginated. */
export async function listIncidents(db: Queryable, tenantId: string, f: IncidentFilter): Promise<Page<Incident>> {
  const { rows } = await db.query(
    `SELECT ${INCIDENT_COLS}, ${cursorUs('opened_at')} FROM incidents
     WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR severity = $3)
       AND ($4::bigint IS NULL OR (opened_at, id) < (${cursorTs('$4')}, $5::uuid))
     ORDER BY opened_at DESC, id DESC LIMIT $6`,
    [tenantId, f.status ?? null, f.severity ?? null, f.cursor?.us ?? null, f.cursor?.id ?? null, f.limit],
  );
  return pageOf(rows, f.limit, toIncident);
}

/** Incidents a run caused: its source run, or one of its anomalies names the run (seed 004 §2.1). */
export async function incidentsOfRun(db: Queryable, tenantId: string, runId: string): Promise<Incident[]> {
  const { rows } = await db.query(
    `SELECT ${INCIDENT_COLS} FROM incidents i
     WHERE tenant_id = $1 AND (source_run_id = $2 OR EXISTS (SELECT 1 FROM anomalies a WHERE a.incident_id = i.id AND a.run_id = $2))
     ORDER BY opened_at DESC, id DESC`,
    [tenantId, runId],
  );
  return rows.map(toIncident);
}

/**
 * Incidents related to one: the same tenant's other incidents on the same dimension value, from
 * the same source run, or whose [opened, resolved-or-now) span overlaps this one's.
 */
export async function relatedIncidents(db: Queryable, inc: Incident, now: Date): Promise<{ incident: Incident; reasons: string[] }[]> {
  const { rows } = await db.query(
    `SELECT ${INCIDENT_COLS},
            (dimension = $3 AND dimension_value IS NOT DISTINCT FROM $4) AS same_dimension,
            ($5::text IS NOT NULL AND source_run_id = $5) AS same_run,
            (opened_at < coalesce($7::timestamptz, $8::timestamptz) AND coalesce(resolved_at, $8::timestamptz) > $6::timestamptz) AS overlapping
     FROM incidents
     WHERE tenant_id = $1 AND id <> $2
       AND ((dimension = $3 AND dimension_value IS NOT DISTINCT FROM $4)
         OR ($5::text IS NOT NULL AND source_run_id = $5)
         OR (opened_at < coalesce($7::timestamptz, $8::timestamptz) AND coalesce(resolved_at, $8::timestamptz) > $6::timestamptz))
     ORDER BY opened_at DESC, id DESC LIMIT 100`,
    [inc.tenantId, inc.id, inc.dimension, inc.dimensionValue, inc.sourceRunId, inc.openedAt, inc.resolvedAt, now],
  );
  return rows.map((r) => ({
    incident: toIncident(r),
    reasons: [r.same_dimension && 'same_dimension', r.same_run && 'same_source_run', r.overlapping && 'overlapping_time'].filter(Boolean) as string[],
  }));
}

/** Seconds from open to resolution of the incidents resolved in [from, to). */
export async function resolutionTimes(db: Queryable, tenantId: string, from: Date, to: Date): Promise<{ severity: Severity; ms: bigint }[]> {
  const { rows } = await db.query(
    `SELECT severity, (extract(epoch FROM resolved_at - opened_at) * 1000)::bigint AS ms
     FROM incidents WHERE tenant_id = $1 AND resolved_at >= $2 AND resolved_at < $3`,
    [tenantId, from, to],
  );
  return rows.map((r) => ({ severity: r.severity as Severity, ms: BigInt(r.ms) }));
}
