import type { Pool, PoolClient } from 'pg';

/** A pool, or a client inside a transaction (so an event commits with the change it records). */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

export interface DomainEventInput {
  tenantId: string;
  /** 'budgets' | 'anomalies' | 'incidents' | 'keys' | … */
  sourceDomain: string;
  /** e.g. 'budget.created', 'incident.opened' */
  eventType: string;
  entityId: string;
  /** Ids of linked entities, e.g. { incident_id, run_id, budget_id }. */
  related?: Record<string, string | null>;
  summary: string;
  data?: Record<string, unknown>;
  /** When it happened; the insert time when absent. */
  ts?: Date;
}

export interface DomainEvent {
  id: string;
  tenantId: string;
  ts: string;
  sourceDomain: string;
  eventType: string;
  entityId: string;
  related: Record<string, string | null>;
  summary: string;
  data: Record<string, unknown>;
}

/** One row of the unified timeline (seed 004 §6.3). */
export async function recordDomainEvent(db: Queryable, e: DomainEventInput): Promise<DomainEvent> {
  const { rows } = await db.query(
    `INSERT INTO domain_events (tenant_id, ts, source_domain, event_type, entity_id, related, summary, data)
     VALUES ($1, coalesce($2::timestamptz, clock_timestamp()), $3, $4, $5, $6::jsonb, $7, $8::jsonb)
     RETURNING id, tenant_id, ts, source_domain, event_type, entity_id, related, summary, data`,
    [e.tenantId, e.ts ?? null, e.sourceDomain, e.eventType, e.entityId, JSON.stringify(e.related ?? {}), e.summary, JSON.stringify(e.data ?? {})],
  );
  const r = rows[0];
  return {
    id: r.id,
    tenantId: r.tenant_id,
    ts: (r.ts as Date).toISOString(),
    sourceDomain: r.source_domain,
    eventType: r.event_type,
    entityId: r.entity_id,
    related: r.related,
    summary: r.summary,
    data: r.data,
  };
}
