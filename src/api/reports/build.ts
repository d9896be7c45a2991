import type { Services } from '../../services.js';
import { loadUnitRates } from '../../tenancy/unit-rates.js';
import type { Tenant } from '../../tenancy/tenant-store.js';
import { costsFrom, type Costs } from './costs/report.js';
import { byEventType, daily, distinctRuns, sourcesOf } from './data.js';
import { overviewFrom, type Overview } from './overview/report.js';
import { trendsFrom, type Trends } from './trends/report.js';
import type { ReportWindow } from './window.js';

/**
 * Each report built from its planner answers, timed into the query-duration histogram under
 * the asking endpoint and the tables that answered. The routes and the CSV export share these,
 * so a CSV carries exactly the numbers of its JSON report.
 */
async function timed<T>(s: Services, endpoint: string, run: () => Promise<{ report: T; sources: string }>): Promise<T> {
  const started = performance.now();
  const { report, sources } = await run();
  s.metrics.queryDuration.observe({ endpoint, source: sources }, (performance.now() - started) / 1000);
  return report;
}

export const buildOverview = (s: Services, tenant: Tenant, w: ReportWindow, endpoint: string): Promise<Overview> =>
  timed(s, endpoint, async () => {
    const [t, d, r] = await Promise.all([byEventType(s.ch, tenant.id, w), daily(s.ch, tenant.id, w), distinctRuns(s.ch, tenant.id, w)]);
    return { report: overviewFrom(tenant.id, w, t, d, r), sources: sourcesOf(t, d, r) };
  });

export const buildTrends = (s: Services, tenant: Tenant, w: ReportWindow, endpoint: string): Promise<Trends> =>
  timed(s, endpoint, async () => {
    const d = await daily(s.ch, tenant.id, w);
    return { report: trendsFrom(tenant.id, w, d), sources: sourcesOf(d) };
  });

export const buildCosts = (s: Services, tenant: Tenant, w: ReportWindow, endpoint: string): Promise<Costs> =>
  timed(s, endpoint, async () => {
    const [t, rates] = await Promise.all([byEventType(s.ch, tenant.id, w), loadUnitRates(s.pg.pool, tenant.id)]);
    return { report: costsFrom(tenant.id, w, t, rates), sources: sourcesOf(t) };
  });

export interface TenantReport {
  tenant_id: string;
  tenant_name: string;
  window: Overview['window'];
  overview: Overview;
  costs: Costs;
  trends: Trends;
}

/** All three reports of one tenant from one set of answers (each question asked once). */
export const buildTenantReport = (s: Services, tenant: Tenant, w: ReportWindow, endpoint: string): Promise<TenantReport> =>
  timed(s, endpoint, async () => {
    const [t, d, r] = await Promise.all([byEventType(s.ch, tenant.id, w), daily(s.ch, tenant.id, w), distinctRuns(s.ch, tenant.id, w)]);
    const rates = await loadUnitRates(s.pg.pool, tenant.id);
    const overview = overviewFrom(tenant.id, w, t, d, r);
    return {
      report: {
        tenant_id: tenant.id,
        tenant_name: tenant.name,
        window: overview.window,
        overview,
        costs: costsFrom(tenant.id, w, t, rates),
        trends: trendsFrom(tenant.id, w, d),
      },
      sources: sourcesOf(t, d, r),
    };
  });
