import type { Dimension } from '../../query/catalog.js';

export const SCOPE_TYPES = ['tenant', 'project', 'feature', 'user', 'model', 'api_key'] as const;
export type ScopeType = (typeof SCOPE_TYPES)[number];
export const PERIODS = ['day', 'week', 'month'] as const;
export type Period = (typeof PERIODS)[number];
export const BUDGET_METRICS = ['cost', 'tokens', 'requests'] as const;
export type BudgetMetric = (typeof BUDGET_METRICS)[number];

export const DEFAULT_THRESHOLDS = [50, 80, 100];

/** The event dimension a scope filters on (a tenant-wide budget filters on nothing). */
export const SCOPE_DIMENSION: Record<Exclude<ScopeType, 'tenant'>, Dimension> = {
  project: 'project',
  feature: 'feature',
  user: 'user_id',
  model: 'model',
  api_key: 'api_key_id',
};

export interface Budget {
  id: string;
  tenantId: string;
  name: string;
  scopeType: ScopeType;
  scopeValue: string | null;
  period: Period;
  metric: BudgetMetric;
  /** Exact decimal text as Postgres holds it (numeric(30, 9)). */
  limit: string;
  /** % of the limit, strictly increasing, as exact decimal text. */
  thresholds: string[];
  createdAt: string;
  updatedAt: string;
}

/** What a caller sets (create), or the whole budget after a patch is merged into it. */
export interface BudgetFields {
  name: string;
  scopeType: ScopeType;
  scopeValue: string | null;
  period: Period;
  metric: BudgetMetric;
  /** Decimal text or a JSON number (read through its shortest decimal form, never float math). */
  limit: string | number;
  thresholds: number[];
}
