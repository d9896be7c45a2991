import crypto from 'node:crypto';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * How a stored key_hash was computed (api_keys.hash_alg). `sha256` is the plain digest of rows
 * written before pg-migration 0009; such a row is rehashed to `hmac-sha256` on its first
 * successful use (SQL cannot do it: the migration has no secret).
 */
export type HashAlg = 'sha256' | 'hmac-sha256';

/** `th_` + 8 chars of display prefix + `_` + 43 chars (256 bits) of secret, base64url. */
export function generateApiKey(secret: Buffer): { key: string; prefix: string; hash: string } {
  const prefix = 'th_' + crypto.randomBytes(6).toString('base64url').slice(0, 8);
  const key = `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key, secret) };
}

/**
 * HMAC-SHA256 of the key under the server secret (KEY_HASH_SECRET or the generated one, see
 * key-hash-secret.ts). Why not a slow KDF (scrypt, argon2): those protect low-entropy passwords
 * from offline guessing. A key holds 256 random bits, so no guessing, fast or slow, can find
 * one; a KDF would only add tens of milliseconds to every authenticated request. The HMAC adds
 * what a plain digest lacks: a dump of api_keys alone (without the secret) does not even let
 * anyone check a candidate key offline.
 */
export function hashApiKey(key: string, secret: Buffer): string {
  return crypto.createHmac('sha256', secret).update(key).digest('hex');
}

/** The pre-0009 digest, only to recognise (and then rehash) rows stored with it. */
export function legacyHashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

/** Whether the key hashes to `stored` under `alg`, compared in constant time. */
export function keyMatches(key: string, stored: string, alg: HashAlg, secret: Buffer): boolean {
  const expected = Buffer.from(alg === 'sha256' ? legacyHashApiKey(key) : hashApiKey(key, secret), 'hex');
  const actual = Buffer.from(stored, 'hex');
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}

export const looksLikeKey = (s: string) => /^th_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/.test(s);

/** The display prefix (`th_XXXXXXXX`) of a well-formed key: not secret, unique per key. */
export const keyPrefix = (key: string) => key.slice(0, 11);
