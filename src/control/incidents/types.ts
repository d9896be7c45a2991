export const ANOMALY_TYPES = ['BUDGET_THRESHOLD', 'BUDGET_FORECAST_EXCEEDED', 'BUDGET_EXCEEDED', 'SPEND_SPIKE', 'USAGE_DROP', 'ERROR_RATE_SPIKE'] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];
export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const INCIDENT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** What detection hands to recordAnomaly. Amounts are exact decimal strings (or integers). */
export interface AnomalyInput {
  tenantId: string;
  type: AnomalyType;
  severity: Severity;
  /** 'tenant' for the whole tenant, else model, feature, user_id, api_key_id, endpoint, budget… */
  dimension: string;
  dimensionValue?: string | null;
  windowStart: Date;
  windowEnd: Date;
  observed: string | number;
  expected?: string | number | null;
  zScore?: number | null;
  impactUsd?: string | number;
  budgetId?: string | null;
  thresholdPct?: string | number | null;
  runId?: string | null;
  /** Derived from the finding (type, window, dimension, threshold…): the same finding twice is one anomaly. */
  dedupKey: string;
  /** Groups anomalies into one incident; derived from budget / type / dimension when absent. */
  incidentKey?: string;
  /** Incident title when this anomaly opens one; derived when absent. */
  title?: string;
  /** false: record it (and its timeline event) without a webhook, e.g. below the impact floor. */
  notify?: boolean;
}

export interface Anomaly {
  id: string;
  tenantId: string;
  type: AnomalyType;
  severity: Severity;
  dimension: string;
  dimensionValue: string | null;
  windowStart: string;
  windowEnd: string;
  observed: string;
  expected: string | null;
  zScore: number | null;
  impactUsd: string;
  budgetId: string | null;
  thresholdPct: string | null;
  runId: string | null;
  dedupKey: string;
  incidentId: string | null;
  createdAt: string;
}

export interface Incident {
  id: string;
  tenantId: string;
  key: string;
  title: string;
  category: string;
  severity: Severity;
  status: IncidentStatus;
  sourceRunId: string | null;
  dimension: string;
  dimensionValue: string | null;
  windowStart: string;
  windowEnd: string;
  openedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

export const SEVERITY_RANK: Record<Severity, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

/** Seed 004 §6.2: HIGH/CRITICAL anomalies and every budget breach need a person. */
export const opensIncident = (a: Pick<AnomalyInput, 'type' | 'severity'>) =>
  a.type === 'BUDGET_EXCEEDED' || SEVERITY_RANK[a.severity] >= SEVERITY_RANK.HIGH;

const KIND: Record<AnomalyType, string> = {
  BUDGET_THRESHOLD: 'budget',
  BUDGET_FORECAST_EXCEEDED: 'budget',
  BUDGET_EXCEEDED: 'budget',
  SPEND_SPIKE: 'spike',
  USAGE_DROP: 'drop',
  ERROR_RATE_SPIKE: 'errors',
};

/** One open incident per budget, or per kind of finding on one dimension value. */
export function incidentKeyOf(a: AnomalyInput): string {
  if (a.incidentKey) return a.incidentKey;
  if (KIND[a.type] === 'budget' && a.budgetId) return `budget:${a.budgetId}`;
  return `${KIND[a.type]}:${a.dimension}:${a.dimensionValue ?? '*'}`;
}

export function titleOf(a: AnomalyInput): string {
  if (a.title) return a.title;
  const on = a.dimension === 'tenant' ? 'the tenant' : `${a.dimension} ${a.dimensionValue ?? '(none)'}`;
  switch (a.type) {
    case 'BUDGET_EXCEEDED':
      return `Budget exceeded on ${on}`;
    case 'BUDGET_FORECAST_EXCEEDED':
      return `Budget forecast to be exceeded on ${on}`;
    case 'BUDGET_THRESHOLD':
      return `Budget threshold crossed on ${on}`;
    case 'SPEND_SPIKE':
      return `Spend spike on ${on}`;
    case 'USAGE_DROP':
      return `Usage drop on ${on}`;
    case 'ERROR_RATE_SPIKE':
      return `Error-rate spike on ${on}`;
  }
}
