import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../../stores/postgres/transaction.js';
import { recordDomainEvent } from '../timeline.js';
import { ANOMALY_COLS, INCIDENT_COLS, isUuid, toAnomaly, toIncident } from './store.js';
import { SEVERITY_RANK, incidentKeyOf, opensIncident, titleOf, type Anomaly, type AnomalyInput, type Incident } from './types.js';

/** What recordAnomaly and the transitions need: the pool and the webhook queue. */
export interface IncidentDeps {
  pool: Pool;
  notifications: { enqueueNotification(tenantId: string, eventType: string, payload: unknown, now?: Date, db?: Pick<Pool, 'query'>): Promise<string[]> };
}

export interface RecordedAnomaly {
  anomaly: Anomaly;
  incident?: Incident;
  /** false: an anomaly with this dedup_key existed already; nothing was written or sent. */
  created: boolean;
  /** true when this anomaly opened the incident (false: attached to the open one). */
  openedIncident: boolean;
}

export const anomalyJson = (a: Anomaly) => ({
  id: a.id,
  type: a.type,
  severity: a.severity,
  dimension: a.dimension,
  dimension_value: a.dimensionValue,
  window_start: a.windowStart,
  window_end: a.windowEnd,
  observed: a.observed,
  expected: a.expected,
  z_score: a.zScore,
  impact_usd: a.impactUsd,
  budget_id: a.budgetId,
  threshold_pct: a.thresholdPct,
  run_id: a.runId,
  dedup_key: a.dedupKey,
  incident_id: a.incidentId,
  created_at: a.createdAt,
});

export const incidentJson = (i: Incident) => ({
  id: i.id,
  key: i.key,
  title: i.title,
  category: i.category,
  severity: i.severity,
  status: i.status,
  source_run_id: i.sourceRunId,
  dimension: i.dimension,
  dimension_value: i.dimensionValue,
  window_start: i.windowStart,
  window_end: i.windowEnd,
  opened_at: i.openedAt,
  acknowledged_at: i.acknowledgedAt,
  acknowledged_by: i.acknowledgedBy,
  resolved_at: i.resolvedAt,
  resolved_by: i.resolvedBy,
  resolution_note: i.resolutionNote,
});

/**
 * Records one finding of detection (seed 004 §2.5, §6.2), idempotently by dedup_key. A
 * HIGH/CRITICAL anomaly or any BUDGET_EXCEEDED opens an incident for its key, or attaches to the
 * open one (raising its severity if this one is worse); the anomaly then carries incident_id.
 * Timeline events and webhook deliveries commit in the same transaction, so a rolled-back
 * finding sends nothing. `now` stamps the anomaly and the incident; timeline events carry the
 * time they were recorded (clock_timestamp), which keeps anomaly.detected before incident.opened.
 */
export async function recordAnomaly(deps: IncidentDeps, input: AnomalyInput, now = new Date()): Promise<RecordedAnomaly> {
  return withTransaction(deps.pool, async (db) => {
    const ins = await db.query(
      `INSERT INTO anomalies (tenant_id, type, severity, dimension, dimension_value, window_start, window_end, observed, expected, z_score,
                              impact_usd, budget_id, threshold_pct, run_id, dedup_key, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (tenant_id, dedup_key) DO NOTHING
       RETURNING ${ANOMALY_COLS}`,
      [
        input.tenantId, input.type, input.severity, input.dimension, input.dimensionValue ?? null, input.windowStart, input.windowEnd,
        String(input.observed), input.expected == null ? null : String(input.expected), input.zScore ?? null, String(input.impactUsd ?? 0),
        input.budgetId ?? null, input.thresholdPct == null ? null : String(input.thresholdPct), input.runId ?? null, input.dedupKey, now,
      ],
    );
    if (!ins.rows[0]) {
      const { rows } = await db.query(`SELECT ${ANOMALY_COLS} FROM anomalies WHERE tenant_id = $1 AND dedup_key = $2`, [input.tenantId, input.dedupKey]);
      const existing = toAnomaly(rows[0]);
      const incident = existing.incidentId ? await incidentById(db, existing.incidentId) : undefined;
      return { anomaly: existing, incident, created: false, openedIncident: false };
    }
    let anomaly = toAnomaly(ins.rows[0]);
    let incident: Incident | undefined;
    let opened = false;
    if (opensIncident(input)) {
      ({ incident, opened } = await openOrAttach(db, input, now));
      const upd = await db.query(`UPDATE anomalies SET incident_id = $2 WHERE id = $1 RETURNING ${ANOMALY_COLS}`, [anomaly.id, incident.id]);
      anomaly = toAnomaly(upd.rows[0]);
    }
    const related = { anomaly_id: anomaly.id, incident_id: incident?.id ?? null, run_id: anomaly.runId, budget_id: anomaly.budgetId };
    await recordDomainEvent(db, {
      tenantId: input.tenantId,
      sourceDomain: 'anomalies',
      eventType: 'anomaly.detected',
      entityId: anomaly.id,
      related,
      summary: `${anomaly.severity} ${anomaly.type} on ${anomaly.dimension}${anomaly.dimensionValue ? ` ${anomaly.dimensionValue}` : ''}`,
      data: { observed: anomaly.observed, expected: anomaly.expected, impact_usd: anomaly.impactUsd, threshold_pct: anomaly.thresholdPct },
    });
    if (input.notify !== false) {
      await deps.notifications.enqueueNotification(input.tenantId, 'anomaly.detected', { anomaly: anomalyJson(anomaly) }, now, db);
    }
    if (incident && opened) {
      await recordDomainEvent(db, {
        tenantId: input.tenantId,
        sourceDomain: 'incidents',
        eventType: 'incident.opened',
        entityId: incident.id,
        related,
        summary: incident.title,
        data: { key: incident.key, severity: incident.severity },
        });
      await deps.notifications.enqueueNotification(input.tenantId, 'incident.opened', { incident: incidentJson(incident), anomaly: anomalyJson(anomaly) }, now, db);
    }
    return { anomaly, incident, created: true, openedIncident: opened };
  });
}

async function incidentById(db: PoolClient, id: string): Promise<Incident | undefined> {
  const { rows } = await db.query(`SELECT ${INCIDENT_COLS} FROM incidents WHERE id = $1`, [id]);
  return rows[0] ? toIncident(rows[0]) : undefined;
}

async function openOrAttach(db: PoolClient, input: AnomalyInput, now: Date): Promise<{ incident: Incident; opened: boolean }> {
  const key = incidentKeyOf(input);
  // The open incident can be resolved between our losing insert and the lookup: then open anew.
  for (let attempt = 0; ; attempt++) {
    const got = await tryOpenOrAttach(db, input, key, now);
    if (got || attempt === 2) {
      if (!got) throw new Error(`incident ${key}: the open incident kept changing under us`);
      return got;
    }
  }
}

async function tryOpenOrAttach(db: PoolClient, input: AnomalyInput, key: string, now: Date): Promise<{ incident: Incident; opened: boolean } | null> {
  // The partial unique index makes a concurrent opener lose here and attach below instead.
  const ins = await db.query(
    `INSERT INTO incidents (tenant_id, key, title, category, severity, source_run_id, dimension, dimension_value, window_start, window_end, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (tenant_id, key) WHERE status <> 'resolved' DO NOTHING
     RETURNING ${INCIDENT_COLS}`,
    [input.tenantId, key, titleOf(input), input.type, input.severity, input.runId ?? null, input.dimension, input.dimensionValue ?? null, input.windowStart, input.windowEnd, now],
  );
  if (ins.rows[0]) return { incident: toIncident(ins.rows[0]), opened: true };
  const { rows } = await db.query(`SELECT ${INCIDENT_COLS} FROM incidents WHERE tenant_id = $1 AND key = $2 AND status <> 'resolved' FOR UPDATE`, [input.tenantId, key]);
  if (!rows[0]) return null;
  let incident = toIncident(rows[0]);
  // A worse finding raises the incident; its window grows to cover both; the first run that caused it stays.
  const severity = SEVERITY_RANK[input.severity] > SEVERITY_RANK[incident.severity] ? input.severity : incident.severity;
  const upd = await db.query(
    `UPDATE incidents SET severity = $2, window_start = least(window_start, $3), window_end = greatest(window_end, $4),
            source_run_id = coalesce(source_run_id, $5)
     WHERE id = $1 RETURNING ${INCIDENT_COLS}`,
    [incident.id, severity, input.windowStart, input.windowEnd, input.runId ?? null],
  );
  incident = toIncident(upd.rows[0]);
  return { incident, opened: false };
}

export class IncidentTransitionError extends Error {
  constructor(
    readonly code: 'INCIDENT_ALREADY_ACKNOWLEDGED' | 'INCIDENT_ALREADY_RESOLVED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * open → acknowledged → resolved (open → resolved too). Anything else throws
 * IncidentTransitionError; null when the tenant has no such incident.
 */
export async function transitionIncident(
  deps: IncidentDeps,
  tenantId: string,
  id: string,
  to: 'acknowledged' | 'resolved',
  who: string,
  opts: { note?: string | null; at?: Date } = {},
): Promise<Incident | null> {
  if (!isUuid(id)) return null;
  const at = opts.at ?? new Date();
  return withTransaction(deps.pool, async (db) => {
    const { rows } = await db.query(`SELECT ${INCIDENT_COLS} FROM incidents WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
    if (!rows[0]) return null;
    const cur = toIncident(rows[0]);
    if (cur.status === 'resolved') throw new IncidentTransitionError('INCIDENT_ALREADY_RESOLVED', `incident ${id} was resolved at ${cur.resolvedAt}; it cannot be ${to} again`);
    if (to === 'acknowledged' && cur.status === 'acknowledged') {
      throw new IncidentTransitionError('INCIDENT_ALREADY_ACKNOWLEDGED', `incident ${id} was acknowledged at ${cur.acknowledgedAt} by ${cur.acknowledgedBy}`);
    }
    const upd =
      to === 'acknowledged'
        ? await db.query(`UPDATE incidents SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 RETURNING ${INCIDENT_COLS}`, [id, at, who])
        : await db.query(`UPDATE incidents SET status = 'resolved', resolved_at = $2, resolved_by = $3, resolution_note = $4 WHERE id = $1 RETURNING ${INCIDENT_COLS}`, [
            id,
            at,
            who,
            opts.note ?? null,
          ]);
    const inc = toIncident(upd.rows[0]);
    const eventType = to === 'acknowledged' ? 'incident.acknowledged' : 'incident.resolved';
    await recordDomainEvent(db, {
      tenantId,
      sourceDomain: 'incidents',
      eventType,
      entityId: inc.id,
      related: { incident_id: inc.id, run_id: inc.sourceRunId },
      summary: `${inc.title} ${to} by ${who}`,
      data: to === 'resolved' ? { by: who, note: inc.resolutionNote } : { by: who },
      ts: at,
    });
    await deps.notifications.enqueueNotification(tenantId, eventType, { incident: incidentJson(inc) }, at, db);
    return inc;
  });
}


