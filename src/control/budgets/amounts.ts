import { nanoToUsd, usdToNano } from '../../ingest/money.js';
import type { BudgetMetric } from './budget.js';

/**
 * Budget amounts as bigint in units of 1e-9 of the metric's unit: nano-USD for cost (the unit
 * every cost is kept in), nano-tokens and nano-requests for the counts. One scale lets the
 * status and forecast arithmetic be the same exact integer math for every metric.
 */
export const SCALE = 1_000_000_000n;

/** Decimal text (≤ 9 decimals) → scaled units. */
export const parseAmount = (text: string): bigint => usdToNano(text);

export const countToScaled = (n: bigint | number): bigint => BigInt(n) * SCALE;

/** Integer division rounded half away from zero. */
export function divRound(n: bigint, d: bigint): bigint {
  if (d < 0n) return divRound(-n, -d);
  const q = n / d;
  const r = n % d;
  if (r * 2n >= d) return q + 1n;
  if (-r * 2n >= d) return q - 1n;
  return q;
}

/**
 * Scaled units → the JSON amount: exact decimal USD for cost ("12.50"); for tokens and requests a
 * count, whole unless `decimals` asks for more (a burn rate of 2.5 requests a day).
 */
export function formatAmount(metric: BudgetMetric, scaled: bigint, decimals = 0): string {
  if (metric === 'cost') return nanoToUsd(scaled);
  const unit = 10n ** BigInt(9 - decimals);
  const v = divRound(scaled, unit);
  if (decimals === 0) return v.toString();
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const p = 10n ** BigInt(decimals);
  const frac = (abs % p).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / p}${frac ? `.${frac}` : ''}`;
}
