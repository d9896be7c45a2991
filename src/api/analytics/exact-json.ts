import type { Context } from 'hono';

/**
 * Money as JSON numbers whose text is the exact decimal (seed 000 shows `"spend_usd": 0.04`).
 * c.json would send every value through a float, and past ~15 significant digits (a spend of
 * $1M in nano precision) the printed number would no longer be the amount. An ExactNumber is
 * written as its decimal text instead.
 */
export class ExactNumber {
  constructor(readonly text: string) {
    if (!/^-?\d+(\.\d+)?$/.test(text)) throw new RangeError(`not a plain decimal: ${text}`);
  }
  toJSON(): number {
    return Number(this.text); // only for callers that stringify without stringifyExact
  }
}

/** `nano / 10^scale` as the shortest exact decimal: 40_000_000n at scale 9 → "0.04", 4e9 → "4". */
export function scaledDecimal(nano: bigint, scale: number): string {
  const neg = nano < 0n;
  const abs = neg ? -nano : nano;
  const unit = 10n ** BigInt(scale);
  const frac = (abs % unit).toString().padStart(scale, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / unit}${frac ? `.${frac}` : ''}`;
}

export const usdFromNano = (nano: bigint) => new ExactNumber(scaledDecimal(nano, 9));
/** One cent is 10^7 nano-USD. */
export const centsFromNano = (nano: bigint) => new ExactNumber(scaledDecimal(nano, 7));

/** part / total as a percentage rounded half up to 2 decimals, in integers; 0 when the total is 0. */
export function pctOfTotal(part: bigint, total: bigint): number {
  if (total <= 0n) return 0;
  const hundredths = (2n * 10_000n * part + total) / (2n * total);
  return Number(hundredths) / 100; // at most 5 significant digits: the float prints exactly
}

export function stringifyExact(value: unknown): string {
  if (value instanceof ExactNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stringifyExact(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyExact(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A 200 JSON response written by stringifyExact. */
export function exactJson(c: Context, value: unknown): Response {
  return c.body(stringifyExact(value), 200, { 'Content-Type': 'application/json' });
}
