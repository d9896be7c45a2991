import type { Severity } from '../incidents/types.js';

/**
 * The statistics of spike, drop and error-rate detection (issue 4 §2): a value of the last closed
 * hour against a seasonal baseline (the same hour of the week over the previous weeks), scored
 * with the robust z-score 0.6745·(x − median)/MAD. Median and MAD, not mean and standard
 * deviation, because the baseline is 3–4 points: one earlier incident in it would drag a mean
 * and inflate a standard deviation until the next incident looks normal; the median ignores it.
 * Pure functions (no I/O), floats: these are scores, the money stays exact in the callers.
 */

/** Median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation from the median. */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/**
 * The smallest spread a baseline is credited with. Why a floor at all: four weeks that happened
 * to be nearly equal give a MAD of (almost) 0, and then any wobble of the current hour scores an
 * infinite z. Real hourly traffic never repeats that exactly; a 4-point MAD just got lucky.
 *  - relative: a fraction of the median — a change has to be large against the level itself
 *    (0.1: a 2× value on a perfectly flat baseline scores z ≈ 6.7, 3× ≈ 13.5; error rates use
 *    0.25 of the usual failed share);
 *  - absolute: a minimum in the metric's unit, for baselines at or near 0 (a brand-new model, a
 *    quiet hour), where the relative floor vanishes;
 *  - poisson (counts): 0.6745·√median, the MAD of Poisson noise alone — 3 requests instead of the
 *    usual 6 is not a drop.
 */
export interface SpreadFloor {
  relative: number;
  absolute: number;
  poisson?: boolean;
}

export interface Score {
  /** The seasonal expectation: median of the baseline. */
  expected: number;
  /** The baseline's own MAD, before the floor. */
  mad: number;
  /** The MAD actually divided by (≥ the floor, > 0). */
  scale: number;
  /** Robust z-score: positive above the expectation, negative below. */
  z: number;
}

/** Scores `x` against `baseline` (at least one point). The floor's absolute part must be > 0. */
export function robustScore(x: number, baseline: readonly number[], floor: SpreadFloor): Score {
  if (!(floor.absolute > 0)) throw new RangeError('the spread floor needs an absolute part > 0');
  const expected = median(baseline);
  const m = mad(baseline);
  const scale = Math.max(m, floor.relative * Math.abs(expected), floor.absolute, floor.poisson ? 0.6745 * Math.sqrt(Math.max(expected, 0)) : 0);
  return { expected, mad: m, scale, z: (0.6745 * (x - expected)) / scale };
}

/**
 * Spend and request counts are scored on a log scale: z of ln(x + offset) against the baseline's
 * ln(b + offset). Why: traffic is multiplicative (a tenant twice the size has twice the noise),
 * and on a linear scale a drop can never score far: going to 0 is a deviation of one median, so
 * with a 10 % floor a total outage would top out at z ≈ 6.7 (MEDIUM) while spikes are unbounded.
 * In logs a 2× spike and a fall to half score the same, and a fall to 0 scores very high.
 *  - offset: one unit of the metric (1 request, $0.01), so a baseline of zeros is finite;
 *  - minSpread: the MAD floor in log units (0.1 ≈ ±10 %): 2× → z 4.7, 3× → 7.4, 4× → 9.4,
 *    6× → 12.1 (and the same for falls to ½, ⅓, ¼, ⅙) on a flat baseline;
 *  - poisson (counts): the log-MAD of Poisson noise, 0.6745/√median, which dominates below ~45
 *    requests an hour (6 → 3 requests is not a drop).
 * `expected` stays the median of the raw baseline: that is the number a person reads.
 */
export interface LogFloor {
  offset: number;
  minSpread: number;
  poisson?: boolean;
}

export function logScore(x: number, baseline: readonly number[], f: LogFloor): Score {
  if (!(f.offset > 0) || !(f.minSpread > 0)) throw new RangeError('log scores need an offset and a minimum spread > 0');
  const ln = (v: number) => Math.log(Math.max(v, 0) + f.offset);
  const expected = median(baseline);
  const poisson = f.poisson ? 0.6745 / Math.sqrt(Math.max(expected, 1)) : 0;
  const s = robustScore(ln(x), baseline.map(ln), { relative: 0, absolute: Math.max(f.minSpread, poisson) });
  return { ...s, expected };
}

/**
 * Severity bands. From |z| (config DETECTION_Z_BANDS, default 3,5,8,12): below the first, no
 * anomaly; then LOW, MEDIUM, HIGH, CRITICAL. The cost impact caps it (DETECTION_MIN_IMPACT_USD):
 * below the minimum impact at most LOW (recorded, never notified, never an incident: tiny tenants
 * do not page); below 5× the minimum at most HIGH; CRITICAL needs z ≥ its band and an impact of
 * at least 5× the minimum. HIGH and CRITICAL open incidents (opensIncident).
 */
export interface Bands {
  /** |z| lower bounds of LOW, MEDIUM, HIGH, CRITICAL, increasing. */
  z: readonly [number, number, number, number];
}

export const CRITICAL_IMPACT_MULTIPLE = 5;
const ORDER: readonly Severity[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

/** The band of |z| alone, or null below the first. */
export function zBand(z: number, bands: Bands): Severity | null {
  const a = Math.abs(z);
  let found: Severity | null = null;
  for (let i = 0; i < ORDER.length; i++) if (a >= bands.z[i]!) found = ORDER[i]!;
  return found;
}

/** The highest severity an impact allows (impact and minimum in the same unit, e.g. nano-USD). */
export function impactCap(impact: bigint, minImpact: bigint): Severity {
  if (impact < minImpact) return 'LOW';
  if (impact < minImpact * BigInt(CRITICAL_IMPACT_MULTIPLE)) return 'HIGH';
  return 'CRITICAL';
}

/** Severity of a finding: the z band, capped by the impact when there is one. */
export function severityOf(z: number, bands: Bands, cap?: Severity): Severity | null {
  const s = zBand(z, bands);
  if (s === null || cap === undefined) return s;
  return ORDER[Math.min(ORDER.indexOf(s), ORDER.indexOf(cap))]!;
}

/** Median of exact amounts (nano-USD): the two middle values' mean, rounded down, for an even count. */
export function medianBig(xs: readonly bigint[]): bigint {
  if (xs.length === 0) throw new RangeError('median of an empty list');
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2n;
}
