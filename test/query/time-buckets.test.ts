import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketStarts } from '../../src/query/time-buckets.js';

describe('bucketStarts', () => {
  it('UTC minute/hour/day buckets (plain arithmetic) equal the calendar ones (luxon, Etc/UTC)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2105, 0, 1) }),
        fc.integer({ min: 1, max: 40 * 86_400_000 }),
        fc.constantFrom('minute', 'hour', 'day'),
        (fromMs, span, g) => {
          const toMs = fromMs + (g === 'minute' ? Math.min(span, 3 * 86_400_000) : span);
          expect(bucketStarts(fromMs, toMs, g, 'UTC')).toEqual(bucketStarts(fromMs, toMs, g, 'Etc/UTC'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('answers repeated windows from its memo without sharing the array', () => {
    const a = bucketStarts(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2), 'hour', 'Europe/Berlin');
    a.push(1);
    const b = bucketStarts(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2), 'hour', 'Europe/Berlin');
    expect(b).toHaveLength(24);
    expect(() => bucketStarts(0, 86_400_000 * 400, 'minute', 'UTC', 1000)).toThrow(RangeError);
  });
});
