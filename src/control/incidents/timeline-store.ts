import type { Queryable } from '../timeline.js';
import { cursorTs, cursorUs, pageOf, type Cursor, type Page } from './store.js';

export interface TimelineEntry {
  id: string;
  ts: string;
  source_domain: string;
  event_type: string;
  entity_id: string;
  related: Record<string, string | null>;
  summary: string;
  data: Record<string, unknown>;
}

const COLS = 'id, ts, source_domain, event_type, entity_id, related, summary, data';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const toEntry = (r: any): TimelineEntry => ({
  id: r.id,
  ts: (r.ts as Date).toISOString(),
  source_domain: r.source_domain,
  event_type: r.event_type,
  entity_id: r.entity_id,
  related: r.related,
  summary: r.summary,
  data: r.data,
});

/** A tenant's domain events (seed 004 §5 query 5), newest first, keyset-paginated by (ts, id). */
export async function timelinePage(
  db: Queryable,
  tenantId: string,
  f: { from?: Date; to?: Date; eventType?: string; cursor: Cursor | null; limit: number },
): Promise<Page<TimelineEntry>> {
  const { rows } = await db.query(
    `SELECT ${COLS}, ${cursorUs('ts')} FROM domain_events
     WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR ts >= $2) AND ($3::timestamptz IS NULL OR ts < $3)
       AND ($4::text IS NULL OR event_type = $4)
       AND ($5::bigint IS NULL OR (ts, id) < (${cursorTs('$5')}, $6::uuid))
     ORDER BY ts DESC, id DESC LIMIT $7`,
    [tenantId, f.from ?? null, f.to ?? null, f.eventType ?? null, f.cursor?.us ?? null, f.cursor?.id ?? null, f.limit],
  );
  return pageOf(rows, f.limit, toEntry);
}

/** Everything that happened to one incident or names it among its related entities, oldest first. */
export async function incidentTimeline(db: Queryable, tenantId: string, incidentId: string): Promise<TimelineEntry[]> {
  const { rows } = await db.query(
    `SELECT ${COLS} FROM domain_events
     WHERE tenant_id = $1 AND (entity_id = $2 OR related->>'incident_id' = $2)
     ORDER BY ts, id`,
    [tenantId, incidentId],
  );
  return rows.map(toEntry);
}
