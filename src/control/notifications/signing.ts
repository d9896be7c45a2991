import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, Stripe-style so receivers recognise the recipe:
 *   X-Tallyhouse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * The timestamp is inside the MAC so a captured request cannot be replayed later than the
 * receiver's tolerance; the delivery id header lets the receiver drop retried duplicates.
 */
export const SIGNATURE_HEADER = 'X-Tallyhouse-Signature';
export const EVENT_HEADER = 'X-Tallyhouse-Event';
export const DELIVERY_HEADER = 'X-Tallyhouse-Delivery';

/** 256 random bits; the prefix makes a leaked secret recognisable in logs and scanners. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function mac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
}

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const t = Math.floor(unixSeconds);
  return `t=${t},v1=${mac(secret, t, body)}`;
}

/**
 * Whether `header` is a valid signature of `body` under `secret`, made at most `toleranceSec`
 * seconds from `nowSec` (either way: clocks drift). Several v1 entries are accepted so a
 * future secret rotation can sign with old and new secret at once.
 */
export function verifySignature(secret: string, header: string | null | undefined, body: string, toleranceSec: number, nowSec = Date.now() / 1000): boolean {
  if (!header) return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) candidates.push(v);
  }
  if (t === undefined || candidates.length === 0) return false;
  if (Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(mac(secret, t, body), 'hex');
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
}
