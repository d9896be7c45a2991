import { describe, expect, it } from 'vitest';
import { mttrBySeverity, mttrStats } from '../../../src/control/incidents/mttr.js';

describe('mttrStats', () => {
  it('is all null for no incidents', () => {
    expect(mttrStats([])).toEqual({ count: 0, mean_sec: null, median_sec: null, p95_sec: null });
  });

  it('mean, median (mean of the middle two) and nearest-rank p95 from exact milliseconds', () => {
    expect(mttrStats([300_000n, 60_000n, 3_600_000n, 120_000n])).toEqual({ count: 4, mean_sec: 1020, median_sec: 210, p95_sec: 3600 });
    expect(mttrStats([5_000n])).toEqual({ count: 1, mean_sec: 5, median_sec: 5, p95_sec: 5 });
    // Odd count: the middle one; p95 of 3 is the ⌈2.85⌉ = 3rd.
    expect(mttrStats([1_000n, 9_000n, 2_000n])).toEqual({ count: 3, mean_sec: 4, median_sec: 2, p95_sec: 9 });
  });

  it('rounds the mean and an even median half up to the millisecond', () => {
    expect(mttrStats([1_001n, 1_002n])).toEqual({ count: 2, mean_sec: 1.002, median_sec: 1.002, p95_sec: 1.002 });
    expect(mttrStats([1n, 1n, 2n])).toEqual({ count: 3, mean_sec: 0.001, median_sec: 0.001, p95_sec: 0.002 });
  });

  it('p95 of 20 durations is the 19th shortest, of 21 the 20th', () => {
    const ms = (n: number) => Array.from({ length: n }, (_, i) => BigInt((i + 1) * 1000));
    expect(mttrStats(ms(20)).p95_sec).toBe(19);
    expect(mttrStats(ms(21)).p95_sec).toBe(20);
  });

  it('breaks down by severity, every severity present', () => {
    const r = mttrBySeverity([
      { severity: 'HIGH', ms: 60_000n },
      { severity: 'CRITICAL', ms: 3_600_000n },
      { severity: 'HIGH', ms: 120_000n },
    ]);
    expect(r.overall).toEqual({ count: 3, mean_sec: 1260, median_sec: 120, p95_sec: 3600 });
    expect(r.by_severity).toEqual({
      LOW: { count: 0, mean_sec: null, median_sec: null, p95_sec: null },
      MEDIUM: { count: 0, mean_sec: null, median_sec: null, p95_sec: null },
      HIGH: { count: 2, mean_sec: 90, median_sec: 90, p95_sec: 120 },
      CRITICAL: { count: 1, mean_sec: 3600, median_sec: 3600, p95_sec: 3600 },
    });
  });
});
