import crypto from 'node:crypto';

export const SCOPES = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** `th_` + 8 chars of display prefix + `_` + 43 chars (256 bits) of secret, base64url. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = 'th_' + crypto.randomBytes(6).toString('base64url').slice(0, 8);
  const key = `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

export const looksLikeKey = (s: string) => /^th_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/.test(s);
