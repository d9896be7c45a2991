import { describe, expect, it } from 'vitest';
import { centsFromNano, ExactNumber, pctOfTotal, scaledDecimal, stringifyExact, usdFromNano } from '../../../src/api/analytics/exact-json.js';

describe('exact money in JSON', () => {
  it('prints nano-USD as the shortest exact decimal in dollars and cents', () => {
    expect(usdFromNano(40_000_000n).text).toBe('0.04');
    expect(centsFromNano(40_000_000n).text).toBe('4');
    expect(usdFromNano(4_000_000_000n).text).toBe('4');
    expect(usdFromNano(0n).text).toBe('0');
    expect(usdFromNano(1n).text).toBe('0.000000001');
    expect(centsFromNano(1n).text).toBe('0.0000001');
    expect(scaledDecimal(-12_345n, 3)).toBe('-12.345');
  });

  it('keeps amounts a float cannot hold exactly', () => {
    // 12,345,678.123456789 USD: 17 significant digits, past what a double carries.
    const usd = usdFromNano(12_345_678_123_456_789n);
    expect(usd.text).toBe('12345678.123456789');
    expect(stringifyExact({ spend_usd: usd })).toBe('{"spend_usd":12345678.123456789}');
    expect(JSON.stringify({ spend_usd: Number(usd.text) })).toBe('{"spend_usd":12345678.12345679}');
  });

  it('stringifies like JSON.stringify otherwise', () => {
    const value = { a: [1, 'x', null, true, { b: new ExactNumber('2.50') }], c: undefined, d: 'q"\n' };
    expect(stringifyExact(value)).toBe('{"a":[1,"x",null,true,{"b":2.50}],"d":"q\\"\\n"}');
    expect(() => new ExactNumber('1e-7')).toThrow(RangeError);
  });

  it('rounds pct_of_total half up to 2 decimals in integers, 0 for an empty total', () => {
    expect(pctOfTotal(1n, 3n)).toBe(33.33);
    expect(pctOfTotal(2n, 3n)).toBe(66.67);
    expect(pctOfTotal(1n, 8n)).toBe(12.5);
    expect(pctOfTotal(1n, 20_001n)).toBe(0); // 0.0049998 % → 0.00
    expect(pctOfTotal(1n, 20_000n)).toBe(0.01); // 0.005 % → 0.01 (half up)
    expect(pctOfTotal(5n, 5n)).toBe(100);
    expect(pctOfTotal(0n, 0n)).toBe(0);
  });
});
