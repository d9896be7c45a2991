import type { Pool } from 'pg';
import { withTransaction } from '../../stores/postgres/transaction.js';
import { recordDomainEvent, type Queryable } from '../timeline.js';
import { formatAmount, parseAmount } from './amounts.js';
import { DEFAULT_THRESHOLDS, type Budget, type BudgetFields, type BudgetMetric, type ScopeType } from './budget.js';
import { validateBudget } from './validate.js';

/**
 * Budgets in Postgres. Every change records its domain event (budget.created / updated /
 * deleted) in the same transaction, so the timeline never misses a change nor shows one that
 * rolled back. Deletion stamps deleted_at; deleted budgets are invisible to every read here.
 */

const COLS = `id, tenant_id, name, scope_type, scope_value, period, metric, limit_value::text AS limit_value,
  thresholds::text[] AS thresholds, created_at, updated_at`;

type Row = Record<string, unknown>;
const toBudget = (r: Row): Budget => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  name: String(r.name),
  scopeType: r.scope_type as Budget['scopeType'],
  scopeValue: (r.scope_value as string | null) ?? null,
  period: r.period as Budget['period'],
  metric: r.metric as Budget['metric'],
  limit: String(r.limit_value),
  thresholds: (r.thresholds as string[]).map(String),
  createdAt: (r.created_at as Date).toISOString(),
  updatedAt: (r.updated_at as Date).toISOString(),
});

/** Who made a change, kept in the timeline event. */
export interface Actor {
  apiKeyId: string;
}

/** The limit as the API shows it ("100.50", "1000000"). */
const shownLimit = (b: Budget) => formatAmount(b.metric, parseAmount(b.limit));

/** The part of a budget the timeline shows, in the API's field names and formats. */
export const budgetSnapshot = (b: Budget) => ({
  name: b.name,
  scope_type: b.scopeType,
  scope_value: b.scopeValue,
  period: b.period,
  metric: b.metric,
  limit: shownLimit(b),
  thresholds: b.thresholds.map(Number),
});

const scopeText = (b: Budget) => (b.scopeType === 'tenant' ? 'tenant' : `${b.scopeType} ${b.scopeValue}`);

async function record(db: Queryable, type: 'created' | 'updated' | 'deleted', b: Budget, actor: Actor | undefined, data: Record<string, unknown>) {
  await recordDomainEvent(db, {
    tenantId: b.tenantId,
    sourceDomain: 'budgets',
    eventType: `budget.${type}`,
    entityId: b.id,
    related: { budget_id: b.id, ...(actor ? { api_key_id: actor.apiKeyId } : {}) },
    summary: `Budget "${b.name}" ${type} (${b.metric} per ${b.period} on ${scopeText(b)}, limit ${shownLimit(b)})`,
    data,
  });
}

export async function createBudget(pool: Pool, tenantId: string, fields: Omit<BudgetFields, 'thresholds'> & { thresholds?: number[] }, actor?: Actor): Promise<Budget> {
  const all: BudgetFields = { ...fields, thresholds: fields.thresholds ?? DEFAULT_THRESHOLDS };
  const { limit, thresholds } = validateBudget(all);
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query(
      `INSERT INTO budgets (tenant_id, name, scope_type, scope_value, period, metric, limit_value, thresholds)
       VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8::numeric[]) RETURNING ${COLS}`,
      [tenantId, all.name, all.scopeType, all.scopeValue, all.period, all.metric, limit, thresholds],
    );
    const b = toBudget(rows[0]);
    await record(client, 'created', b, actor, { budget: budgetSnapshot(b) });
    return b;
  });
}

export async function listBudgets(pool: Pool, tenantId: string): Promise<Budget[]> {
  const { rows } = await pool.query(`SELECT ${COLS} FROM budgets WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, [tenantId]);
  return rows.map(toBudget);
}

export async function getBudget(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<Budget | null> {
  const { rows } = await db.query(
    `SELECT ${COLS} FROM budgets WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return rows[0] ? toBudget(rows[0]) : null;
}

export type BudgetPatch = Partial<Omit<BudgetFields, 'scopeValue'>> & { scopeValue?: string | null };

/** Merges the patch into the stored budget and validates the result as a whole; null when absent. */
export async function updateBudget(pool: Pool, tenantId: string, id: string, patch: BudgetPatch, actor?: Actor): Promise<Budget | null> {
  return withTransaction(pool, async (client) => {
    const before = await getBudget(client, tenantId, id, true);
    if (!before) return null;
    const merged: BudgetFields = {
      name: patch.name ?? before.name,
      scopeType: patch.scopeType ?? before.scopeType,
      // Turning a budget tenant-wide drops its scope value unless the patch sets one itself.
      scopeValue: patch.scopeValue !== undefined ? patch.scopeValue : patch.scopeType === 'tenant' ? null : before.scopeValue,
      period: patch.period ?? before.period,
      metric: patch.metric ?? before.metric,
      limit: patch.limit ?? before.limit,
      thresholds: patch.thresholds ?? before.thresholds.map(Number),
    };
    const { limit, thresholds } = validateBudget(merged);
    const { rows } = await client.query(
      `UPDATE budgets SET name = $3, scope_type = $4, scope_value = $5, period = $6, metric = $7, limit_value = $8::numeric,
         thresholds = $9::numeric[], updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
      [tenantId, id, merged.name, merged.scopeType, merged.scopeValue, merged.period, merged.metric, limit, thresholds],
    );
    const after = toBudget(rows[0]);
    const was = budgetSnapshot(before);
    const now = budgetSnapshot(after);
    const changed = (Object.keys(now) as (keyof typeof now)[]).filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]));
    await record(client, 'updated', after, actor, { changed, before: was, after: now });
    return after;
  });
}

export async function deleteBudget(pool: Pool, tenantId: string, id: string, actor?: Actor): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query(
      `UPDATE budgets SET deleted_at = now() WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${COLS}`,
      [tenantId, id],
    );
    if (!rows[0]) return false;
    const b = toBudget(rows[0]);
    await record(client, 'deleted', b, actor, { budget: budgetSnapshot(b) });
    return true;
  });
}

/**
 * The live budgets of one metric that apply to a scope: its own, plus every tenant-wide one
 * (tenant-wide budgets cap every scope). One indexed query, for the enforcer's check.
 */
export async function applicableBudgets(pool: Pool, tenantId: string, scopeType: ScopeType, scopeValue: string | null, metric: BudgetMetric): Promise<Budget[]> {
  const { rows } = await pool.query(
    `SELECT ${COLS} FROM budgets
     WHERE tenant_id = $1 AND deleted_at IS NULL AND metric = $4
       AND (scope_type = 'tenant' OR (scope_type = $2 AND scope_value = $3))
     ORDER BY created_at, id`,
    [tenantId, scopeType, scopeValue, metric],
  );
  return rows.map(toBudget);
}

/** Every tenant's live budgets with the tenant's time zone (their periods' calendar), for detection. */
export async function liveBudgetsOfAllTenants(pool: Pool): Promise<{ budget: Budget; timezone: string }[]> {
  const { rows } = await pool.query(
    `SELECT b.id, b.tenant_id, b.name, b.scope_type, b.scope_value, b.period, b.metric, b.limit_value::text AS limit_value,
            b.thresholds::text[] AS thresholds, b.created_at, b.updated_at, t.timezone AS tenant_timezone
     FROM budgets b JOIN tenants t ON t.id = b.tenant_id
     WHERE b.deleted_at IS NULL ORDER BY b.tenant_id, b.created_at, b.id`,
  );
  return rows.map((r) => ({ budget: toBudget(r), timezone: String(r.tenant_timezone) }));
}
