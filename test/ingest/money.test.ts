import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NANO_PER_USD, nanoToUsd, pricePerMtokToNano, tokenCostNano, usdToNano } from '../../src/ingest/money.js';

/** Reference rounding, all in bigint: round `digits` × 10^exp10 to an integer, half away from zero. */
function scaleRound(digits: bigint, exp10: number): bigint {
  if (exp10 >= 0) return digits * 10n ** BigInt(exp10);
  const div = 10n ** BigInt(-exp10);
  const neg = digits < 0n;
  const abs = neg ? -digits : digits;
  let q = abs / div;
  if ((abs % div) * 2n >= div) q += 1n;
  return neg ? -q : q;
}

describe('usdToNano', () => {
  it('reads decimal strings exactly', () => {
    expect(usdToNano('0')).toBe(0n);
    expect(usdToNano('0.0123')).toBe(12_300_000n);
    expect(usdToNano('1')).toBe(NANO_PER_USD);
    expect(usdToNano('12.5')).toBe(12_500_000_000n);
    expect(usdToNano('0.000000001')).toBe(1n);
    expect(usdToNano(' 3.25 ')).toBe(3_250_000_000n);
    expect(usdToNano('+2')).toBe(2_000_000_000n);
    expect(usdToNano('-0.5')).toBe(-500_000_000n);
  });

  it('rounds beyond 9 decimals half away from zero', () => {
    expect(usdToNano('0.0000000004')).toBe(0n);
    expect(usdToNano('0.0000000005')).toBe(1n);
    expect(usdToNano('0.0000000014999')).toBe(1n);
    expect(usdToNano('0.0000000015')).toBe(2n);
    expect(usdToNano('1.9999999995')).toBe(2_000_000_000n);
    expect(usdToNano('0.123456789499999')).toBe(123_456_789n);
    expect(usdToNano('-0.0000000005')).toBe(-1n);
    expect(usdToNano('-0.0000000004')).toBe(0n);
  });

  it('reads numbers through their shortest decimal form, never through float arithmetic', () => {
    expect(usdToNano(0.1 + 0.2)).toBe(300_000_000n); // 0.30000000000000004
    expect(usdToNano(0.1)).toBe(100_000_000n);
    expect(usdToNano(1.005)).toBe(1_005_000_000n); // 1.005 * 1e9 in floats is 1004999999.9999999
    expect(usdToNano(0.0123)).toBe(12_300_000n);
    expect(usdToNano(4.35)).toBe(4_350_000_000n); // 4.35 * 1e9 in floats is 4349999999.999999
    expect(usdToNano(123456.789)).toBe(123_456_789_000_000n);
  });

  it('reads exponent notation', () => {
    expect(usdToNano(1e-7)).toBe(100n);
    expect(usdToNano(1.5e-9)).toBe(2n);
    expect(usdToNano(1.4e-9)).toBe(1n);
    expect(usdToNano(5e-10)).toBe(1n);
    expect(usdToNano(4e-10)).toBe(0n);
    expect(usdToNano(1.23e-8)).toBe(12n);
    expect(usdToNano(-1e-7)).toBe(-100n);
    expect(usdToNano(-5e-10)).toBe(-1n);
    // The shortest form is 0.0000000004999999999999, which rounds down. Rounding the float to
    // 20 places first (toFixed) would make it 0.0000000005 and round up.
    expect(usdToNano(4.999999999999e-10)).toBe(0n);
    expect(usdToNano(1e21)).toBe(10n ** 30n);
    expect(usdToNano(1.5e22)).toBe(15n * 10n ** 30n);
  });

  it('handles big amounts exactly', () => {
    expect(usdToNano('999999999.999999999')).toBe(999_999_999_999_999_999n);
    expect(usdToNano('9223372036.854775807')).toBe(9_223_372_036_854_775_807n); // Int64 max
    expect(usdToNano('123456789012345678901234567890.123456789')).toBe(123456789012345678901234567890123456789n);
    expect(usdToNano(1e9)).toBe(10n ** 18n);
    expect(usdToNano(2 ** 53 + 1)).toBe(2n ** 53n * NANO_PER_USD); // 2^53 + 1 is not a double: 2^53
  });

  it('refuses what is not an amount', () => {
    for (const bad of ['', 'abc', '1.2.3', '1e5', '0x10', '.5', '5.', '1,5', 'NaN']) {
      expect(() => usdToNano(bad), bad).toThrow(RangeError);
    }
    expect(() => usdToNano(Number.NaN)).toThrow(RangeError);
    expect(() => usdToNano(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('matches a bigint reference for any decimal string (property)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 18 }),
        (neg, whole, frac) => {
          const text = `${neg ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
          const digits = BigInt(`${whole}${frac}`) * (neg ? -1n : 1n);
          expect(usdToNano(text)).toBe(scaleRound(digits, 9 - frac.length));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches a bigint reference for any number m × 10^e (property)', () => {
    // Up to 15 significant digits, so the number's shortest decimal form is exactly m × 10^e.
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }), fc.integer({ min: -25, max: 12 }), (m, e) => {
        const n = Number(`${m}e${e}`);
        expect(usdToNano(n)).toBe(scaleRound(m, e + 9));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('nanoToUsd', () => {
  it('formats with 2 to 9 decimals', () => {
    expect(nanoToUsd(0n)).toBe('0.00');
    expect(nanoToUsd(1n)).toBe('0.000000001');
    expect(nanoToUsd(12_300_000n)).toBe('0.0123');
    expect(nanoToUsd(1_000_000_000n)).toBe('1.00');
    expect(nanoToUsd(1_500_000_000n)).toBe('1.50');
    expect(nanoToUsd(-1_234_567_891n)).toBe('-1.234567891');
    expect(nanoToUsd('7500000')).toBe('0.0075');
    expect(nanoToUsd(42)).toBe('0.000000042');
    expect(nanoToUsd('9223372036854775807')).toBe('9223372036.854775807');
    expect(nanoToUsd('-9223372036854775808')).toBe('-9223372036.854775808');
  });

  it('round-trips with usdToNano (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (n) => {
        const usd = nanoToUsd(n);
        expect(usd).toMatch(/^-?\d+\.\d{2,9}$/);
        expect(usdToNano(usd)).toBe(n);
        expect(nanoToUsd(usdToNano(usd))).toBe(usd);
      }),
      { numRuns: 1000 },
    );
  });

  it('normalises any decimal string of at most 9 decimals (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: 9 }),
        (whole, frac) => {
          const usd = nanoToUsd(usdToNano(`${whole}.${frac || '0'}`));
          const trimmed = frac.replace(/0+$/, '').padEnd(2, '0');
          expect(usd).toBe(`${whole}.${trimmed}`);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('tokenCostNano', () => {
  it('prices tokens per million exactly', () => {
    // gpt-4o: $2.50 in / $10 out per 1M tokens → 0.0025 + 0.005 = $0.0075 for 1000 in / 500 out
    expect(tokenCostNano(1000, 500, pricePerMtokToNano('2.500000000'), pricePerMtokToNano('10.000000000'))).toBe(7_500_000n);
    expect(tokenCostNano(0, 0, 2_500_000_000n, 10_000_000_000n)).toBe(0n);
    expect(tokenCostNano(1_000_000, 0, pricePerMtokToNano('0.15'), 0n)).toBe(150_000_000n);
  });

  it('rounds half up to the nano-dollar', () => {
    // 1 token at $0.0005/Mtok = 0.5 nano → 1; at $0.0004/Mtok = 0.4 nano → 0
    expect(tokenCostNano(1, 0, pricePerMtokToNano('0.0005'), 0n)).toBe(1n);
    expect(tokenCostNano(1, 0, pricePerMtokToNano('0.0004'), 0n)).toBe(0n);
    expect(tokenCostNano(3, 0, pricePerMtokToNano('0.0005'), 0n)).toBe(2n); // 1.5 → 2
    // Input and output are summed before rounding: 0.4 + 0.4 = 0.8 → 1
    expect(tokenCostNano(1, 1, 400_000n, 400_000n)).toBe(1n);
  });

  it('stays exact for token counts far beyond 2^53 nano-dollars', () => {
    // 1e12 tokens at $75/Mtok = $75,000,000 = 7.5e16 nano, above Number.MAX_SAFE_INTEGER.
    expect(tokenCostNano(1e12, 1e12, pricePerMtokToNano('15'), pricePerMtokToNano('75'))).toBe(90_000_000n * NANO_PER_USD);
    expect(tokenCostNano(999_999_999_999, 1, pricePerMtokToNano('0.123456789'), pricePerMtokToNano('0.000000001'))).toBe(
      (999_999_999_999n * 123_456_789n + 1n + 500_000n) / 1_000_000n,
    );
  });

  it('equals the exact product rounded half up (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 0, max: 1e12 }),
        fc.bigInt({ min: 0n, max: 1000n * NANO_PER_USD }),
        fc.bigInt({ min: 0n, max: 1000n * NANO_PER_USD }),
        (i, o, pi, po) => {
          const exact = BigInt(i) * pi + BigInt(o) * po; // nano-USD × 1e6
          const got = tokenCostNano(i, o, pi, po);
          // got is the integer nearest to exact / 1e6, ties up
          expect(got * 1_000_000n - exact <= 500_000n).toBe(true);
          expect(exact - got * 1_000_000n < 500_000n).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
