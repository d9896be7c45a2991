import type { Severity } from './types.js';

export interface MttrStats {
  count: number;
  mean_sec: number | null;
  median_sec: number | null;
  p95_sec: number | null;
}

const sec = (ms: bigint) => Number(ms) / 1000;

/**
 * Mean, median and p95 time to resolve (seed 001), from exact millisecond durations. The mean is
 * rounded to the millisecond; the median of an even count is the mean of the middle two; p95 is
 * the nearest rank (the ⌈0.95·n⌉-th smallest), so it is always a real incident's duration.
 */
export function mttrStats(durationsMs: bigint[]): MttrStats {
  const n = durationsMs.length;
  if (n === 0) return { count: 0, mean_sec: null, median_sec: null, p95_sec: null };
  const sorted = [...durationsMs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sum = sorted.reduce((a, b) => a + b, 0n);
  const N = BigInt(n);
  const mean = (sum * 2n + N) / (2n * N); // half up
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]! + 1n) / 2n;
  const p95 = sorted[Math.ceil(0.95 * n) - 1]!;
  return { count: n, mean_sec: sec(mean), median_sec: sec(median), p95_sec: sec(p95) };
}

export function mttrBySeverity(rows: { severity: Severity; ms: bigint }[]): { overall: MttrStats; by_severity: Record<Severity, MttrStats> } {
  const of = (s: Severity) => mttrStats(rows.filter((r) => r.severity === s).map((r) => r.ms));
  return {
    overall: mttrStats(rows.map((r) => r.ms)),
    by_severity: { LOW: of('LOW'), MEDIUM: of('MEDIUM'), HIGH: of('HIGH'), CRITICAL: of('CRITICAL') },
  };
}
