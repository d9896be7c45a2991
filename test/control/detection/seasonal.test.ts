import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { impactCap, logScore, mad, median, medianBig, robustScore, severityOf, zBand, type Bands } from '../../../src/control/detection/seasonal.js';
import { closedHourFor as closedHour } from '../../../src/control/detection/hourly.js';
import { baselineHours, seriesFindings, type Cell, type SeasonalSettings, type Series } from '../../../src/control/detection/spikes.js';

const BANDS: Bands = { z: [3, 5, 8, 12] };
const FLOOR = { relative: 0.1, absolute: 0.01 };
const positive = fc.double({ min: 0.01, max: 1e6, noNaN: true, noDefaultInfinity: true });

describe('median, MAD, robust z', () => {
  it('median and MAD of small lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(mad([1, 2, 3, 4, 100])).toBe(1);
    expect(medianBig([4n, 1n, 3n, 2n])).toBe(2n);
    expect(() => median([])).toThrow(RangeError);
  });

  it('z = 0.6745·(x − median)/MAD when the MAD is above the floor', () => {
    const s = robustScore(30, [10, 12, 8, 10], { relative: 0, absolute: 0.001 });
    expect(s.expected).toBe(10);
    expect(s.mad).toBe(1);
    expect(s.z).toBeCloseTo(0.6745 * 20, 9);
  });

  it('a constant baseline uses the floor: 2× scores ≈ 6.7, 3× ≈ 13.5, a baseline of zeros the absolute part', () => {
    expect(robustScore(200, [100, 100, 100, 100], FLOOR).z).toBeCloseTo(6.745, 6);
    expect(robustScore(300, [100, 100, 100, 100], FLOOR).z).toBeCloseTo(13.49, 6);
    expect(robustScore(0.05, [0, 0, 0, 0], FLOOR).z).toBeCloseTo(0.6745 * 5, 6);
    // Poisson floor for counts: 3 requests instead of 6 is noise.
    expect(Math.abs(robustScore(3, [6, 6, 6, 6], { relative: 0.1, absolute: 1, poisson: true }).z)).toBeLessThan(3);
  });

  it('property: a series equal to its constant baseline never flags', () => {
    fc.assert(
      fc.property(positive, fc.integer({ min: 1, max: 8 }), (v, n) => {
        const s = robustScore(v, Array(n).fill(v), FLOOR);
        expect(s.z).toBe(0);
        expect(zBand(s.z, BANDS)).toBeNull();
      }),
    );
  });

  it('property: z is invariant under scaling x and the baseline by the same factor (relative floor binding)', () => {
    fc.assert(
      fc.property(fc.array(positive, { minLength: 3, maxLength: 6 }), positive, fc.double({ min: 0.5, max: 1000, noNaN: true }), (base, x, k) => {
        const tiny = { relative: 0.1, absolute: 1e-12 };
        const a = robustScore(x, base, tiny).z;
        const b = robustScore(x * k, base.map((v) => v * k), tiny).z;
        expect(b).toBeCloseTo(a, 6);
      }),
    );
  });

  it('property: z is invariant under shifting x and the baseline (absolute floor only) and odd in the deviation', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 6 }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true }), (base, x, c) => {
        const abs = { relative: 0, absolute: 0.5 };
        const a = robustScore(x, base, abs);
        expect(robustScore(x + c, base.map((v) => v + c), abs).z).toBeCloseTo(a.z, 6);
        expect(robustScore(2 * a.expected - x, base, abs).z).toBeCloseTo(-a.z, 6);
      }),
    );
  });

  it('log scores: 2×/3×/6× and falls to ½/⅓/⅙ score alike; a fall to 0 is far out; 6 → 3 requests is Poisson noise', () => {
    const f = { offset: 1e-9, minSpread: 0.1 };
    const flat = [100, 100, 100, 100];
    for (const [k, z] of [[2, 4.675], [3, 7.41], [6, 12.085]] as const) {
      expect(logScore(100 * k, flat, f).z).toBeCloseTo(z, 2);
      expect(logScore(100 / k, flat, f).z).toBeCloseTo(-z, 2);
    }
    expect(logScore(0, flat, { offset: 1, minSpread: 0.1 }).z).toBeLessThan(-30);
    expect(logScore(0, flat, { offset: 1, minSpread: 0.1 }).expected).toBe(100);
    expect(Math.abs(logScore(3, [6, 6, 6, 6], { offset: 1, minSpread: 0.1, poisson: true }).z)).toBeLessThan(3);
  });

  it('property: log z is invariant under scaling x, the baseline and the offset together; a constant series never flags', () => {
    fc.assert(
      fc.property(fc.array(positive, { minLength: 3, maxLength: 6 }), positive, fc.double({ min: 0.01, max: 1000, noNaN: true }), (base, x, k) => {
        const f = { offset: 0.01, minSpread: 0.1 };
        const a = logScore(x, base, f).z;
        expect(logScore(x * k, base.map((v) => v * k), { ...f, offset: f.offset * k }).z).toBeCloseTo(a, 6);
        expect(logScore(base[0]!, Array(4).fill(base[0]), f).z).toBe(0);
      }),
    );
  });

  it('property: z grows with x (monotone) and is finite even for a MAD of 0', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 5 }), fc.double({ min: 0, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1e4, noNaN: true }), (base, x, dx) => {
        const a = robustScore(x, base, FLOOR).z;
        const b = robustScore(x + dx, base, FLOOR).z;
        expect(Number.isFinite(a)).toBe(true);
        expect(b).toBeGreaterThanOrEqual(a);
      }),
    );
  });
});

describe('severity bands', () => {
  it('|z| bands 3/5/8/12 → LOW/MEDIUM/HIGH/CRITICAL, below 3 nothing', () => {
    expect([2.99, 3, 4.9, 5, 8, 11.9, 12, 40, -13].map((z) => zBand(z, BANDS))).toEqual([null, 'LOW', 'LOW', 'MEDIUM', 'HIGH', 'HIGH', 'CRITICAL', 'CRITICAL', 'CRITICAL']);
  });

  it('impact caps: below the minimum LOW, below 5× HIGH, from 5× uncapped', () => {
    const min = 10n;
    expect([0n, 9n, 10n, 49n, 50n].map((i) => impactCap(i, min))).toEqual(['LOW', 'LOW', 'HIGH', 'HIGH', 'CRITICAL']);
    expect(severityOf(20, BANDS, 'LOW')).toBe('LOW');
    expect(severityOf(20, BANDS, 'HIGH')).toBe('HIGH');
    expect(severityOf(6, BANDS, 'CRITICAL')).toBe('MEDIUM');
    expect(severityOf(1, BANDS, 'CRITICAL')).toBeNull();
  });
});

describe('seriesFindings (the per-series rules, without the engine)', () => {
  const H = Date.parse('2026-03-02T14:00:00Z');
  const WEEK = 7 * 86_400_000;
  const cfg: SeasonalSettings = { minImpactNano: 10_000_000_000n, bands: BANDS, minErrorRequests: 50 };
  const usd = (n: number) => BigInt(Math.round(n * 1e9));
  const cell = (cost: number, requests: number, failed = 0): Cell => ({ costNano: usd(cost), requests: BigInt(requests), failed: BigInt(failed) });
  const series = (dimension: string, value: string | null, cells: [number, Cell][]): Series => ({ tenantId: 't', dimension, value, cells: new Map(cells) });
  const weeks = (c: Cell) => [1, 2, 3, 4].map((k) => [H - k * WEEK, c] as [number, Cell]);

  it('baseline weeks start at the tenant\'s first data; fewer than 3 → no finding', () => {
    expect(baselineHours(H, H - 30 * 86_400_000)).toHaveLength(4);
    expect(baselineHours(H, H - 2 * WEEK)).toEqual([H - WEEK, H - 2 * WEEK]);
    expect(seriesFindings(series('model', 'm', [[H, cell(1000, 10)]]), H, H - 2 * WEEK, cfg)).toEqual([]);
  });

  it('an 8× spend spike with $700 impact is CRITICAL, notified, with a dedup key from type/hour/dimension/value', () => {
    const [f] = seriesFindings(series('model', 'gpt-4o', [...weeks(cell(100, 100)), [H, cell(800, 100)]]), H, 0, cfg);
    expect(f).toMatchObject({ type: 'SPEND_SPIKE', severity: 'CRITICAL', observed: '800.00', expected: '100.00', impactUsd: '700.00', notify: true, dedupKey: 'SPEND_SPIKE:2026-03-02T14:00:00.000Z:model:gpt-4o' });
    expect(f!.zScore).toBeCloseTo(0.6745 * Math.log(800.01 / 100.01) / 0.1, 3);
    // 4× the same spend is HIGH: z ≈ 9.35.
    expect(seriesFindings(series('model', 'gpt-4o', [...weeks(cell(100, 100)), [H, cell(400, 100)]]), H, 0, cfg)[0]).toMatchObject({ severity: 'HIGH' });
  });

  it('the same spike on a tiny tenant ($0.30 impact) is recorded LOW and not notified', () => {
    const [f] = seriesFindings(series('tenant', null, [...weeks(cell(0.1, 100)), [H, cell(0.4, 100)]]), H, 0, cfg);
    expect(f).toMatchObject({ type: 'SPEND_SPIKE', severity: 'LOW', notify: false, dedupKey: 'SPEND_SPIKE:2026-03-02T14:00:00.000Z:tenant:*' });
  });

  it('a brand-new model is LOW at $2 and HIGH at $20 (baseline of zeros, impact-capped)', () => {
    expect(seriesFindings(series('model', 'new', [[H, cell(2, 10)]]), H, 0, cfg)[0]).toMatchObject({ type: 'SPEND_SPIKE', severity: 'LOW' });
    expect(seriesFindings(series('model', 'new', [[H, cell(20, 10)]]), H, 0, cfg)[0]).toMatchObject({ type: 'SPEND_SPIKE', severity: 'HIGH' });
  });

  it('a value that vanished is a usage drop whose impact is the spend that did not happen', () => {
    const [f] = seriesFindings(series('api_key_id', 'k1', weeks(cell(80, 1000))), H, 0, cfg);
    expect(f).toMatchObject({ type: 'USAGE_DROP', severity: 'CRITICAL', observed: '0', expected: '1000', impactUsd: '80.00' });
  });

  it('error-rate spikes need the minimum request count; 1 % → 30 % failed is CRITICAL', () => {
    const base = weeks(cell(1, 200, 2));
    expect(seriesFindings(series('endpoint', '/v1/chat', [...base, [H, cell(1, 200, 60)]]), H, 0, cfg)).toEqual([
      expect.objectContaining({ type: 'ERROR_RATE_SPIKE', severity: 'CRITICAL', observed: '0.300000000', expected: '0.010000000', impactUsd: '0.00' }),
    ]);
    expect(seriesFindings(series('endpoint', '/v1/chat', [...base, [H, cell(0.2, 40, 12)]]), H, 0, cfg).filter((f) => f.type === 'ERROR_RATE_SPIKE')).toEqual([]);
    // Not scored on feature.
    expect(seriesFindings(series('feature', 'chat', [...base, [H, cell(1, 200, 60)]]), H, 0, cfg)).toEqual([]);
  });

  it('the job checks the hour before the window\'s hour, from the grace minute on', () => {
    const at = (iso: string) => Date.parse(iso);
    expect(closedHour(at('2026-03-02T15:04:00Z'), 5)).toBeNull();
    expect(closedHour(at('2026-03-02T15:05:00Z'), 5)).toBe(at('2026-03-02T14:00:00Z'));
    expect(closedHour(at('2026-03-02T15:59:00Z'), 5)).toBe(at('2026-03-02T14:00:00Z'));
  });
});

describe('detection settings (env)', () => {
  it('defaults: $10 minimum impact, z bands 3/5/8/12, 50 requests for error rates, 5 grace minutes', () => {
    expect(loadConfig({}).detection).toEqual({ minImpactUsd: '10', zBands: [3, 5, 8, 12], minErrorRequests: 50, graceMinutes: 5 });
    expect(loadConfig({ DETECTION_MIN_IMPACT_USD: '2.5', DETECTION_Z_BANDS: '2,4,6,10' }).detection).toMatchObject({ minImpactUsd: '2.5', zBands: [2, 4, 6, 10] });
  });

  it('bad values name the variable', () => {
    for (const [k, v] of [['DETECTION_Z_BANDS', '3,5,5,12'], ['DETECTION_Z_BANDS', '3,5,8'], ['DETECTION_MIN_IMPACT_USD', '-1'], ['DETECTION_GRACE_MINUTES', '60']]) {
      expect(() => loadConfig({ [k!]: v })).toThrow(ConfigError);
      expect(() => loadConfig({ [k!]: v })).toThrow(k);
    }
  });
});
