import type { Config } from '../../config.js';
import { NANO_PER_USD, nanoToUsd, usdToNano } from '../../ingest/money.js';
import { DAY_MS, HOUR_MS } from '../../query/time-buckets.js';
import type { Services } from '../../services.js';
import { recordAnomaly } from '../incidents/record.js';
import type { AnomalyInput, AnomalyType, Severity } from '../incidents/types.js';
import { impactCap, logScore, median, medianBig, robustScore, severityOf, type Bands, type LogFloor } from './seasonal.js';

/**
 * Seasonal detection (issue 4 §2): spend spikes, usage drops and error-rate spikes of one closed
 * hour H, per tenant and per dimension value, against the same hour of the week over the 4
 * previous weeks (H − 7 d … H − 28 d), scored with the robust z of seasonal.ts.
 *
 *  - SPEND_SPIKE: cost above the baseline (tenant, model, feature, user_id, api_key_id, endpoint).
 *    Impact = cost(H) − median cost of the baseline.
 *  - USAGE_DROP: requests below the baseline (same dimensions), a value that vanished entirely
 *    included (its H is 0). Impact = the spend that did not happen: median baseline cost − cost(H).
 *  - ERROR_RATE_SPIKE: failed share of requests above the baseline's (endpoint, model), only with
 *    ≥ DETECTION_MIN_ERROR_REQUESTS requests in H (a few failures of a few calls are noise). Its
 *    impact is failures, not dollars: severity from z alone, impact_usd 0, always notified.
 *
 * Missing weeks. A baseline week whose hour has no row for the value counts as 0 — but only if
 * the tenant already existed then (its first rollup row within the 28 days is at or before that
 * hour); weeks before the tenant's first data are left out, and fewer than 3 weeks left means no
 * seasonal baseline: no finding. So a brand-new model of an established tenant has a baseline of
 * zeros: its first hour scores a high z, and the impact cap (seasonal.ts) keeps it LOW unless its
 * spend is large. A new tenant is not judged until it has 3 weeks of history.
 *
 * Severity: the z band, capped by the impact against DETECTION_MIN_IMPACT_USD (seasonal.ts);
 * below the minimum the anomaly is still recorded, with notify=false and never an incident.
 * HIGH/CRITICAL open (or join) the incident `spike|drop|errors:<dimension>:<value>` (types.ts).
 * Idempotent: dedup_key = type:hour:dimension:value, so re-running an hour records nothing new.
 *
 * Reads the hourly rollups only, except user_id, which rollup_hourly does not carry: users come
 * from raw events restricted to the 5 hours (a primary-key range of (tenant_id, ts) each).
 */

export interface SeasonalSettings {
  minImpactNano: bigint;
  bands: Bands;
  minErrorRequests: number;
}

export const settingsOf = (d: Config['detection']): SeasonalSettings => ({
  minImpactNano: usdToNano(d.minImpactUsd),
  bands: { z: d.zBands },
  minErrorRequests: d.minErrorRequests,
});

export const WEEK_MS = 7 * DAY_MS;
export const BASELINE_WEEKS = 4;
export const MIN_BASELINE_WEEKS = 3;

/** The dimensions checked; 'tenant' is the tenant as a whole. */
export const SPIKE_DIMENSIONS = ['tenant', 'model', 'feature', 'user_id', 'api_key_id', 'endpoint'] as const;
export const ERROR_RATE_DIMENSIONS = new Set(['endpoint', 'model']);

/** Log-scale floors (seasonal.ts logScore): cost in USD (offset 1 cent), requests as counts. */
const COST_FLOOR: LogFloor = { offset: 0.01, minSpread: 0.1 };
const REQUESTS_FLOOR: LogFloor = { offset: 1, minSpread: 0.1, poisson: true };
/** Failure share: at least 1 percentage point, a quarter of the usual rate, and binomial noise. */
const ERROR_FLOOR = { relative: 0.25, absolute: 0.01 };

export interface Cell {
  costNano: bigint;
  requests: bigint;
  failed: bigint;
}
const ZERO: Cell = { costNano: 0n, requests: 0n, failed: 0n };

/** One tenant × dimension value over the hours read (hour start ms → totals). */
export interface Series {
  tenantId: string;
  dimension: string;
  /** null for dimension 'tenant'. */
  value: string | null;
  cells: Map<number, Cell>;
}

const usd = (nano: bigint) => Number(nano) / Number(NANO_PER_USD);
const dec = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(9));
const round = (z: number) => Math.round(z * 1e4) / 1e4;

/** The baseline hours of H that count for a tenant first seen at `firstSeenMs` (see the header). */
export function baselineHours(hourMs: number, firstSeenMs: number): number[] {
  const hours: number[] = [];
  for (let k = 1; k <= BASELINE_WEEKS; k++) if (hourMs - k * WEEK_MS >= firstSeenMs) hours.push(hourMs - k * WEEK_MS);
  return hours;
}

/** What one series says about hour H. Pure: the rules of the header, no I/O. */
export function seriesFindings(s: Series, hourMs: number, firstSeenMs: number, cfg: SeasonalSettings): AnomalyInput[] {
  const weeks = baselineHours(hourMs, firstSeenMs);
  if (weeks.length < MIN_BASELINE_WEEKS) return [];
  const now = s.cells.get(hourMs) ?? ZERO;
  const base = weeks.map((h) => s.cells.get(h) ?? ZERO);
  const out: AnomalyInput[] = [];
  const expectedCost = medianBig(base.map((c) => c.costNano));
  const common = { tenantId: s.tenantId, dimension: s.dimension, dimensionValue: s.value, windowStart: new Date(hourMs), windowEnd: new Date(hourMs + HOUR_MS) };
  const finding = (type: AnomalyType, severity: Severity, z: number, observed: string, expected: string, impactNano: bigint, notify: boolean): AnomalyInput => ({
    ...common,
    type,
    severity,
    zScore: round(z),
    observed,
    expected,
    impactUsd: nanoToUsd(impactNano),
    notify,
    dedupKey: `${type}:${new Date(hourMs).toISOString()}:${s.dimension}:${s.value ?? '*'}`,
  });

  const cost = logScore(usd(now.costNano), base.map((c) => usd(c.costNano)), COST_FLOOR);
  if (cost.z > 0) {
    // z is on logs, the impact on dollars: a z just above 0 can sit under the arithmetic median.
    const impact = now.costNano > expectedCost ? now.costNano - expectedCost : 0n;
    const sev = severityOf(cost.z, cfg.bands, impactCap(impact, cfg.minImpactNano));
    if (sev) out.push(finding('SPEND_SPIKE', sev, cost.z, nanoToUsd(now.costNano), nanoToUsd(expectedCost), impact, impact >= cfg.minImpactNano));
  }

  const req = logScore(Number(now.requests), base.map((c) => Number(c.requests)), REQUESTS_FLOOR);
  if (req.z < 0) {
    const impact = expectedCost > now.costNano ? expectedCost - now.costNano : 0n;
    const sev = severityOf(req.z, cfg.bands, impactCap(impact, cfg.minImpactNano));
    if (sev) out.push(finding('USAGE_DROP', sev, req.z, String(now.requests), dec(req.expected), impact, impact >= cfg.minImpactNano));
  }

  if (ERROR_RATE_DIMENSIONS.has(s.dimension) && now.requests >= BigInt(cfg.minErrorRequests)) {
    const rate = (c: Cell) => Number(c.failed) / Number(c.requests);
    const ratios = base.filter((c) => c.requests > 0n).map(rate);
    if (ratios.length >= MIN_BASELINE_WEEKS) {
      const n = Number(now.requests);
      const p = Math.min(Math.max(median(ratios), 1 / n), 1);
      // Binomial noise of n requests at the usual rate: σ = √(p(1−p)/n); MAD ≈ 0.6745σ.
      const floor = { ...ERROR_FLOOR, absolute: Math.max(ERROR_FLOOR.absolute, 0.6745 * Math.sqrt((p * (1 - p)) / n)) };
      const err = robustScore(rate(now), ratios, floor);
      const sev = err.z > 0 ? severityOf(err.z, cfg.bands) : null;
      if (sev) out.push(finding('ERROR_RATE_SPIKE', sev, err.z, dec(rate(now)), dec(err.expected), 0n, true));
    }
  }
  return out;
}

interface Row {
  tenant_id: string;
  dimension: string;
  value: string;
  h: number | string;
  cost_total: string;
  requests_total: string;
  failed_total: string;
}

/** The five hours read: H and the four weeks before, as UInt32 parameters h0…h4. */
function hourParams(hourMs: number): Record<string, number> {
  const p: Record<string, number> = {};
  for (let k = 0; k <= BASELINE_WEEKS; k++) p[`h${k}`] = (hourMs - k * WEEK_MS) / 1000;
  return p;
}
const HOUR_LIST = Array.from({ length: BASELINE_WEEKS + 1 }, (_, k) => `toDateTime({h${k}:UInt32}, 'UTC')`).join(', ');
const RAW_RANGES = Array.from(
  { length: BASELINE_WEEKS + 1 },
  (_, k) => `(ts >= toDateTime64({h${k}:UInt32}, 3, 'UTC') AND ts < toDateTime64({h${k}:UInt32} + 3600, 3, 'UTC'))`,
).join(' OR ');

/**
 * One query for every tenant and dimension: the rollup dimensions through an ARRAY JOIN over
 * rollup_hourly's five hours, users from raw events' five hours. Failed requests are the
 * requests of rows with success = false (one event may carry many requests). Result aliases
 * differ from column names: ClickHouse lets an alias shadow a column inside the aggregate.
 */
export const SEASONAL_SQL = `
SELECT tenant_id, d.1 AS dimension, d.2 AS value, toUnixTimestamp(hour) AS h,
       toString(sum(cost_nano)) AS cost_total, toString(sum(requests)) AS requests_total, toString(sumIf(requests, NOT success)) AS failed_total
FROM rollup_hourly
ARRAY JOIN [('tenant', ''), ('model', model), ('feature', feature), ('api_key_id', api_key_id), ('endpoint', endpoint)] AS d
WHERE hour IN (${HOUR_LIST}) AND (d.1 = 'tenant' OR d.2 != '')
GROUP BY tenant_id, dimension, value, h
UNION ALL
SELECT tenant_id, 'user_id' AS dimension, user_id AS value, toUnixTimestamp(toStartOfHour(ts)) AS h,
       toString(sum(cost_nano)) AS cost_total, toString(sum(requests)) AS requests_total, toString(sumIf(requests, NOT success)) AS failed_total
FROM events
WHERE (${RAW_RANGES}) AND user_id != ''
GROUP BY tenant_id, dimension, value, h`;

/** Each tenant's first rollup hour within the 28 days (the "did it exist then" of the header). */
export const FIRST_SEEN_SQL = `
SELECT tenant_id, toUnixTimestamp(min(hour)) AS first
FROM totals_hourly
WHERE hour >= toDateTime({h${BASELINE_WEEKS}:UInt32}, 'UTC') AND hour <= toDateTime({h0:UInt32}, 'UTC')
GROUP BY tenant_id`;

export async function readSeries(ch: Services['ch'], hourMs: number): Promise<{ series: Series[]; firstSeen: Map<string, number> }> {
  const params = hourParams(hourMs);
  const firstRows = await ch.query<{ tenant_id: string; first: number | string }>(FIRST_SEEN_SQL, params);
  const firstSeen = new Map(firstRows.map((r) => [r.tenant_id, Number(r.first) * 1000]));
  const rows = await ch.query<Row>(SEASONAL_SQL, params);
  const byKey = new Map<string, Series>();
  for (const r of rows) {
    const key = `${r.tenant_id}\u0000${r.dimension}\u0000${r.value}`;
    let s = byKey.get(key);
    if (!s) byKey.set(key, (s = { tenantId: r.tenant_id, dimension: r.dimension, value: r.dimension === 'tenant' ? null : r.value, cells: new Map() }));
    s.cells.set(Number(r.h) * 1000, { costNano: BigInt(r.cost_total), requests: BigInt(r.requests_total), failed: BigInt(r.failed_total) });
  }
  return { series: [...byKey.values()], firstSeen };
}

export interface SeasonalSummary {
  /** The hour checked (ISO). */
  hour: string;
  series: number;
  /** Findings of this run, new or already recorded. */
  findings: number;
  /** Anomalies newly recorded (a re-run: 0). */
  anomalies: number;
  incidentsOpened: number;
  bySeverity: Record<Severity, number>;
  /** Milliseconds spent in the two ClickHouse queries. */
  queryMs: number;
}

export class SeasonalDetectionError extends Error {}

/** Checks the closed hour starting at `hour` (hour-aligned) for every tenant; see the header. */
export async function detectSeasonal(services: Pick<Services, 'ch' | 'pg' | 'notifications' | 'config'>, hour: Date, now = new Date()): Promise<SeasonalSummary> {
  const hourMs = hour.getTime();
  if (hourMs % HOUR_MS !== 0) throw new RangeError(`detectSeasonal: ${hour.toISOString()} is not the start of an hour`);
  const cfg = settingsOf(services.config.detection);
  const t0 = performance.now();
  const { series, firstSeen } = await readSeries(services.ch, hourMs);
  const queryMs = Math.round(performance.now() - t0);
  const summary: SeasonalSummary = {
    hour: hour.toISOString(),
    series: series.length,
    findings: 0,
    anomalies: 0,
    incidentsOpened: 0,
    bySeverity: { LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 },
    queryMs,
  };
  const deps = { pool: services.pg.pool, notifications: services.notifications };
  // Rollups outlive a deleted tenant: its rows must not fail every run on the anomalies' foreign key.
  const { rows: known } = await services.pg.pool.query<{ id: string }>('SELECT id::text AS id FROM tenants WHERE id::text = ANY($1::text[])', [[...firstSeen.keys()]]);
  const live = new Set(known.map((r) => r.id));
  const errors: string[] = [];
  for (const s of series) {
    const first = firstSeen.get(s.tenantId);
    if (first === undefined || !live.has(s.tenantId)) continue;
    for (const input of seriesFindings(s, hourMs, first, cfg)) {
      summary.findings++;
      try {
        const r = await recordAnomaly(deps, input, now);
        if (r.created) {
          summary.anomalies++;
          summary.bySeverity[input.severity]++;
        }
        if (r.openedIncident) summary.incidentsOpened++;
      } catch (e) {
        errors.push(`${input.dedupKey} (tenant ${input.tenantId}): ${(e as Error).message}`);
      }
    }
  }
  if (errors.length) throw new SeasonalDetectionError(`seasonal detection of ${summary.hour}: ${errors.length} findings failed to record: ${errors.slice(0, 5).join('; ')}`);
  return summary;
}
