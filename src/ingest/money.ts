/**
 * Exact money. Amounts are integer nano-USD (bigint); decimal strings at the edges.
 * A number from JSON is read through its shortest decimal form (String(n)), never through
 * float arithmetic.
 */
export const NANO_PER_USD = 1_000_000_000n;

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** "0.0123" | 0.0123 → 12300000n. More than 9 decimals round half away from zero. */
export function usdToNano(value: string | number): bigint {
  let text = typeof value === 'number' ? numberToPlain(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) throw new RangeError(`not a decimal amount: ${JSON.stringify(value)}`);
  const [, sign, whole, frac = ''] = m;
  const kept = (frac + '000000000').slice(0, 9);
  let nano = BigInt(whole!) * NANO_PER_USD + BigInt(kept);
  if (frac.length > 9 && Number(frac[9]) >= 5) nano += 1n;
  return sign === '-' ? -nano : nano;
}

/**
 * Plain decimal digits for a finite number, even where String() would use an exponent.
 * The exponent form is expanded by moving the decimal point of String(n) as text: toFixed(20)
 * would round the float a first time (4.999999999999e-10 → 0.0000000005, then up to 1 nano)
 * and gives up on numbers ≥ 1e21.
 */
export function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite amount: ${n}`);
  const s = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(s);
  if (!m) return s;
  const [, sign, int, frac = '', exp] = m;
  const digits = int! + frac;
  const point = int!.length + Number(exp); // position of the decimal point within digits
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** 12300000n → "0.0123"; always at least 2 decimals, at most 9, no float on the way. */
export function nanoToUsd(nano: bigint | string | number): string {
  let n = BigInt(nano);
  const neg = n < 0n;
  if (neg) n = -n;
  const whole = n / NANO_PER_USD;
  let frac = (n % NANO_PER_USD).toString().padStart(9, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}

/** USD per million tokens (decimal string from Postgres numeric) → nano-USD per million tokens. */
export const pricePerMtokToNano = (usdPerMtok: string): bigint => usdToNano(usdPerMtok);

/** Cost of a call: tokens × nano-USD per million tokens / 1e6, rounded half up. */
export function tokenCostNano(
  inputTokens: number,
  outputTokens: number,
  inputNanoPerMtok: bigint,
  outputNanoPerMtok: bigint,
): bigint {
  const scaled = BigInt(inputTokens) * inputNanoPerMtok + BigInt(outputTokens) * outputNanoPerMtok;
  return (scaled + 500_000n) / 1_000_000n;
}
