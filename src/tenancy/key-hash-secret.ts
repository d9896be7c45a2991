import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import type { Config } from '../config.js';

/**
 * The secret API keys are HMAC'd under (keys.ts). Every process reading the same api_keys
 * must use the same one, and it must survive restarts, or every key stops working:
 * - KEY_HASH_SECRET when set (recommended in production: the secret then lives apart from the
 *   database, so a database dump alone does not let anyone test candidate keys);
 * - embedded Postgres: generated once into `<data dir>/key-hash-secret` (mode 0600), beside
 *   the store only this process opens;
 * - server Postgres without KEY_HASH_SECRET: generated once into the engine_secrets table, so
 *   every API process and worker on that database shares it without configuration.
 * Changing it later invalidates every key hashed under the old one (issue new keys).
 */
export async function loadKeyHashSecret(config: Config, pool: Pool): Promise<Buffer> {
  if (config.keyHashSecret) return Buffer.from(config.keyHashSecret, 'utf8');
  if (config.postgres.mode === 'embedded') return fileSecret(path.join(config.dataDir, 'key-hash-secret'));
  return postgresSecret(pool);
}

export function fileSecret(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    // 'wx': only the first start writes it; mode 0600: readable by the engine's user only.
    fs.writeFileSync(file, crypto.randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  // A copy restored with looser permissions is tightened rather than trusted as is.
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  return decode(fs.readFileSync(file, 'utf8').trim(), file);
}

async function postgresSecret(pool: Pool): Promise<Buffer> {
  // Two processes starting together: one insert wins, both read the winner.
  await pool.query(`INSERT INTO engine_secrets (name, value) VALUES ('key_hash', $1) ON CONFLICT (name) DO NOTHING`, [
    crypto.randomBytes(32).toString('base64url'),
  ]);
  const { rows } = await pool.query(`SELECT value FROM engine_secrets WHERE name = 'key_hash'`);
  return decode(String(rows[0].value), 'engine_secrets');
}

function decode(text: string, where: string): Buffer {
  const b = Buffer.from(text, 'base64url');
  if (b.length < 32) throw new Error(`the key-hash secret in ${where} is shorter than 256 bits; restore it or remove it (which invalidates every API key)`);
  return b;
}
