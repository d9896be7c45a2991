import type { Pool } from 'pg';

/** A pool or a client inside the caller's transaction. */
export type Queryable = Pick<Pool, 'query'>;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

export interface WebhookEndpoint {
  id: string;
  tenantId: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  createdAt: string;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventType: string;
  payload: unknown;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** A delivery claimed for sending, with what the sender needs from its endpoint. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  tenantId: string;
  eventType: string;
  payloadJson: string;
  attempts: number;
  createdAt: string;
  url: string;
  secret: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const ENDPOINT_COLS = 'id, tenant_id, url, event_types, enabled, created_at';
const toEndpoint = (r: { id: string; tenant_id: string; url: string; event_types: string[]; enabled: boolean; created_at: Date }): WebhookEndpoint => ({
  id: r.id,
  tenantId: r.tenant_id,
  url: r.url,
  eventTypes: r.event_types,
  enabled: r.enabled,
  createdAt: r.created_at.toISOString(),
});

/** webhook_endpoints and webhook_deliveries. Every endpoint query is scoped by tenant. */
export class WebhookStore {
  constructor(private readonly pool: Pool) {}

  async createEndpoint(tenantId: string, e: { url: string; eventTypes: string[]; enabled: boolean; secret: string }): Promise<WebhookEndpoint> {
    const { rows } = await this.pool.query(
      `INSERT INTO webhook_endpoints (tenant_id, url, secret, event_types, enabled) VALUES ($1, $2, $3, $4, $5) RETURNING ${ENDPOINT_COLS}`,
      [tenantId, e.url, e.secret, e.eventTypes, e.enabled],
    );
    return toEndpoint(rows[0]);
  }

  async listEndpoints(tenantId: string): Promise<WebhookEndpoint[]> {
    const { rows } = await this.pool.query(`SELECT ${ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
    return rows.map(toEndpoint);
  }

  async getEndpoint(tenantId: string, id: string): Promise<WebhookEndpoint | null> {
    const { rows } = await this.pool.query(`SELECT ${ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return rows[0] ? toEndpoint(rows[0]) : null;
  }

  async updateEndpoint(tenantId: string, id: string, patch: { url?: string; eventTypes?: string[]; enabled?: boolean }): Promise<WebhookEndpoint | null> {
    const { rows } = await this.pool.query(
      `UPDATE webhook_endpoints SET url = COALESCE($3, url), event_types = COALESCE($4, event_types), enabled = COALESCE($5, enabled)
       WHERE tenant_id = $1 AND id = $2 RETURNING ${ENDPOINT_COLS}`,
      [tenantId, id, patch.url ?? null, patch.eventTypes ?? null, patch.enabled ?? null],
    );
    return rows[0] ? toEndpoint(rows[0]) : null;
  }

  /** Its deliveries go with it (ON DELETE CASCADE): nothing is sent to a removed endpoint. */
  async deleteEndpoint(tenantId: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    return (rowCount ?? 0) > 0;
  }

  /** One pending delivery per enabled endpoint of the tenant whose filter admits the event type. */
  async enqueueForMatching(tenantId: string, eventType: string, payloadJson: string, now: Date, db: Queryable = this.pool): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_type, payload, next_attempt_at, created_at)
       SELECT id, tenant_id, $2, $3::jsonb, $4, $4 FROM webhook_endpoints
       WHERE tenant_id = $1 AND enabled AND (cardinality(event_types) = 0 OR $2 = ANY (event_types))
       RETURNING id`,
      [tenantId, eventType, payloadJson, now],
    );
    return rows.map((r) => r.id);
  }

  /** One pending delivery to one endpoint of the tenant, whatever its filter; null if not the tenant's. */
  async enqueueForEndpoint(tenantId: string, endpointId: string, eventType: string, payloadJson: string, now: Date): Promise<string | null> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_type, payload, next_attempt_at, created_at)
       SELECT id, tenant_id, $3, $4::jsonb, $5, $5 FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2
       RETURNING id`,
      [tenantId, endpointId, eventType, payloadJson, now],
    );
    return rows[0]?.id ?? null;
  }

  /**
   * Claims due deliveries of enabled endpoints: at most `perEndpoint` per endpoint (so one
   * endpoint's backlog cannot take every sending slot), none of `busyEndpoints`, `limit` in all.
   * A claim is a lease: next_attempt_at moves to `leaseUntil`, so another poller or worker
   * (SKIP LOCKED, then the moved time) does not send it too, and a sender that dies mid-send
   * leaves it to be retried once the lease expires.
   */
  async claimDue(now: Date, opts: { limit: number; perEndpoint: number; busyEndpoints: string[]; leaseUntil: Date }): Promise<ClaimedDelivery[]> {
    if (opts.limit <= 0) return [];
    const { rows } = await this.pool.query(
      `WITH ranked AS (
         SELECT d.id, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.created_at, d.id) AS rn
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= $1 AND e.enabled AND d.endpoint_id <> ALL ($2::uuid[])
       ), picked AS (
         SELECT d.id FROM webhook_deliveries d
         WHERE d.id IN (SELECT id FROM ranked WHERE rn <= $3) AND d.status IN ('pending', 'failed') AND d.next_attempt_at <= $1
         ORDER BY d.next_attempt_at, d.created_at, d.id
         LIMIT $4
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE webhook_deliveries w SET next_attempt_at = $5
       FROM picked, webhook_endpoints e
       WHERE w.id = picked.id AND e.id = w.endpoint_id
       RETURNING w.id, w.endpoint_id, w.tenant_id, w.event_type, w.payload::text AS payload, w.attempts, w.created_at, e.url, e.secret`,
      [now, opts.busyEndpoints, opts.perEndpoint, opts.limit, opts.leaseUntil],
    );
    return rows.map((r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      tenantId: r.tenant_id,
      eventType: r.event_type,
      payloadJson: r.payload,
      attempts: r.attempts,
      createdAt: r.created_at.toISOString(),
      url: r.url,
      secret: r.secret,
    }));
  }

  async markDelivered(id: string, attempts: number, statusCode: number, at: Date): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET status = 'delivered', attempts = $2, last_status_code = $3, last_error = NULL, delivered_at = $4, next_attempt_at = NULL WHERE id = $1`,
      [id, attempts, statusCode, at],
    );
  }

  /** A failed attempt: `failed` (retried at `nextAttemptAt`), or `dead` when that is null. */
  async markFailed(id: string, attempts: number, statusCode: number | null, error: string, nextAttemptAt: Date | null): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET status = CASE WHEN $5::timestamptz IS NULL THEN 'dead' ELSE 'failed' END,
         attempts = $2, last_status_code = $3, last_error = $4, next_attempt_at = $5 WHERE id = $1`,
      [id, attempts, statusCode, error, nextAttemptAt],
    );
  }

  async listDeliveries(tenantId: string, endpointId: string, opts: { limit: number; status?: DeliveryStatus }): Promise<WebhookDelivery[]> {
    const { rows } = await this.pool.query(
      `SELECT id, endpoint_id, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error, created_at, delivered_at
       FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::text IS NULL OR status = $3)
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [tenantId, endpointId, opts.status ?? null, opts.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      eventType: r.event_type,
      payload: r.payload,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: iso(r.next_attempt_at),
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      createdAt: r.created_at.toISOString(),
      deliveredAt: iso(r.delivered_at),
    }));
  }
}
