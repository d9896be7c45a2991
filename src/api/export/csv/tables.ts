import type { TenantReport } from '../../reports/build.js';
import type { Costs } from '../../reports/costs/report.js';
import type { Overview } from '../../reports/overview/report.js';
import type { Trends } from '../../reports/trends/report.js';

/** A CSV table: its header and rows (null is an empty cell). */
export interface Table {
  columns: string[];
  rows: (string | number | null)[][];
}

/** Seed 001's overview CSV header, byte for byte; the full overview is the JSON report and the tenant CSV. */
export function overviewTable(o: Overview, tenantName: string): Table {
  return { columns: ['tenant_id', 'tenant_name', 'total_workflows', 'failure_rate_percent'], rows: [[o.tenant_id, tenantName, o.total_workflows, o.failure_rate_percent]] };
}

export const TREND_COLUMNS = ['date', 'events', 'requests', 'failures', 'failure_rate_percent', 'cost_usd', 'p95_latency_ms'] as const;

export function trendsTable(t: Trends): Table {
  return { columns: [...TREND_COLUMNS], rows: t.series.map((p) => TREND_COLUMNS.map((c) => p[c])) };
}

export const COST_COLUMNS = ['service_type', 'events', 'requests', 'cost_usd', 'unit_rate_usd', 'estimated_cost_usd'] as const;

export function costsTable(c: Costs): Table {
  return { columns: [...COST_COLUMNS], rows: c.services.map((s) => COST_COLUMNS.map((k) => s[k])) };
}

/**
 * The whole tenant report in one long table (section, date, service_type, metric, value): three
 * reports of different shapes cannot share one wide header, and a long table loads into any
 * spreadsheet or dataframe as it is.
 */
export function tenantTable(r: TenantReport): Table {
  const rows: Table['rows'] = [];
  const add = (section: string, date: string, service: string, metric: string, value: string | number | null) => rows.push([section, date, service, metric, value]);
  add('report', '', '', 'tenant_id', r.tenant_id);
  add('report', '', '', 'tenant_name', r.tenant_name);
  add('report', '', '', 'from', r.window.from);
  add('report', '', '', 'to', r.window.to);
  for (const [k, v] of Object.entries(r.overview)) if (k !== 'tenant_id' && k !== 'window') add('overview', '', '', k, v as number | null);
  for (const s of r.costs.services) {
    for (const k of COST_COLUMNS) if (k !== 'service_type') add('costs', '', s.service_type, k, s[k]);
  }
  for (const [k, v] of Object.entries(r.costs.total)) add('costs', '', '', `total_${k}`, v);
  add('costs', '', '', 'cost_per_hour_usd', r.costs.cost_per_hour_usd);
  add('costs', '', '', 'estimated_cost_per_hour_usd', r.costs.estimated_cost_per_hour_usd);
  for (const p of r.trends.series) {
    for (const k of TREND_COLUMNS) if (k !== 'date') add('trends', p.date, '', k, p[k]);
  }
  return { columns: ['section', 'date', 'service_type', 'metric', 'value'], rows };
}
