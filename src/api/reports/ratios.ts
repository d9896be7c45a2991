/**
 * Exact ratios for report fields: integer arithmetic, rounded half up at the stated decimals,
 * so a rate is the same number in JSON and CSV and does not drift with float error.
 */
export function roundedRatio(numerator: bigint, denominator: bigint, decimals: number): number | null {
  if (denominator === 0n) return null;
  const scale = 10n ** BigInt(decimals);
  const scaled = (numerator * scale * 2n + denominator) / (2n * denominator);
  return Number(scaled) / Number(scale);
}

/** n / d × 100 with 2 decimals; null when d is 0 (no rate, not a 0 % rate). */
export const percent = (n: bigint, d: bigint) => roundedRatio(n * 100n, d, 2);
