/** Arguments and results of the engine phases (bench/suite/engine-phase.ts), and the ingest events both sides generate. */
import { generateEvents } from '../../src/cli/seed-data.js';

export interface PrepareArgs {
  events: number;
  tenants: number;
  days: number;
  exportRows: number;
  /** Events the file() baseline loads: the same generator and seed as the HTTP ingest section. */
  ingestEvents: number;
  ingestSeed: number;
  nowMs: number;
}

export interface PrepareResult {
  tenantIds: string[];
  keys: { read: string; admin: string; ingest: string; usageUser: string; exportRead: string };
  ingestTenantId: string;
  exportTenant: { id: string; startMs: number; stepMs: number; rows: number };
  generate: { events: number; seconds: number; exportRows: number; exportSeconds: number };
  fileBaseline: { events: number; seconds: number; ndjsonMb: number; rowsMb: number };
  tables: Record<string, number>;
  largestTenant: { events: number; last30d: number; users30d: number; agents30d: number };
}

/** The ingest section's events (seed-shaped, unique ids per seed) as API NDJSON lines. */
export function ingestEvents(count: number, seed: number, nowMs: number): Record<string, unknown>[] {
  return [...generateEvents(0, count, { events: count, days: 2, tenants: 1, seed, nowMs })];
}

export interface JobsArgs {
  tenants: number;
  budgetsPerTenant: number;
}

export interface JobsResult {
  tenants: number;
  budgets: number;
  createSeconds: number;
  detectionFirst: { seconds: number; anomalies: number; incidentsOpened: number; failed: number };
  detectionSteady: { seconds: number; anomalies: number; failed: number };
  reconciliation: { seconds: number; tenants: number; hoursChecked: number; hoursRepaired: number };
}

