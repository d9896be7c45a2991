import type { Pool } from 'pg';
import { StoreUnavailableError, isConnectionError } from '../stores/unavailable.js';
import { generateApiKey, hashApiKey, keyMatches, keyPrefix, looksLikeKey, type HashAlg, type Scope } from './keys.js';

export type Plan = 'free' | 'pro' | 'enterprise';

export interface Tenant {
  id: string;
  name: string;
  plan: Plan;
  timezone: string;
  createdAt: string;
}

export interface ApiKeyInfo {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  userId: string | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface Principal {
  key: ApiKeyInfo;
  tenant: Tenant;
}

const TENANT_COLS = 'id, name, plan, timezone, created_at';
const KEY_COLS = 'id, tenant_id, name, prefix, scopes, user_id, created_at, revoked_at, last_used_at';

type Row = Record<string, unknown>;
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v == null ? null : String(v));
const toTenant = (r: Row): Tenant => ({
  id: String(r.id),
  name: String(r.name),
  plan: r.plan as Plan,
  timezone: String(r.timezone),
  createdAt: iso(r.created_at)!,
});
const toKey = (r: Row): ApiKeyInfo => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  name: String(r.name),
  prefix: String(r.prefix),
  scopes: r.scopes as Scope[],
  userId: (r.user_id as string | null) ?? null,
  createdAt: iso(r.created_at)!,
  revokedAt: iso(r.revoked_at),
  lastUsedAt: iso(r.last_used_at),
});

const CACHE_MS = 10_000;
/**
 * While Postgres is unreachable, a key verified within this window keeps working (ingestion
 * goes on through a Postgres outage). A key this process saw revoked or unknown is never served
 * from it; a revoke made by another process during the outage is not visible until Postgres is
 * back (the README's Guarantees say so).
 */
export const STALE_IF_ERROR_MS = 15 * 60_000;
const TOUCH_MS = 60_000;
/** After a failed lookup, stale verifications answer for this long before Postgres is tried again. */
const PG_RETRY_MS = 2_000;

/**
 * Tenants and API keys in Postgres. Key lookups are cached for a few seconds so ingest does not
 * hit Postgres per request; a revoke in this process drops the cache entry at once, and other
 * processes see it within CACHE_MS. last_used_at is written at most once a minute per key.
 *
 * A presented key is looked up by its display prefix (not secret, unique) and its hash is then
 * compared in constant time, so the comparison never leaks how much of a hash matched.
 */
export class TenantStore {
  /** By the key's HMAC: the principal (null = unknown or revoked) and when Postgres said so. */
  #cache = new Map<string, { principal: Principal | null; at: number }>();
  #touched = new Map<string, number>();
  #revoked = new Set<string>();
  #secret: Promise<Buffer> | undefined;
  #pgDownUntil = 0;

  constructor(
    private readonly pool: Pool,
    /** The key-hash secret (key-hash-secret.ts); loaded on first use, then kept. */
    private readonly loadSecret: () => Promise<Buffer>,
  ) {}

  #keySecret(): Promise<Buffer> {
    this.#secret ??= this.loadSecret().catch((e: unknown) => {
      this.#secret = undefined; // a failed load (Postgres down) is retried on the next request
      throw e;
    });
    return this.#secret;
  }

  async createTenant(input: { name: string; plan?: Plan; timezone?: string }): Promise<Tenant> {
    const { rows } = await this.pool.query(
      `INSERT INTO tenants (name, plan, timezone) VALUES ($1, $2, $3) RETURNING ${TENANT_COLS}`,
      [input.name, input.plan ?? 'pro', input.timezone ?? 'UTC'],
    );
    return toTenant(rows[0]);
  }

  async listTenants(): Promise<Tenant[]> {
    const { rows } = await this.pool.query(`SELECT ${TENANT_COLS} FROM tenants ORDER BY created_at`);
    return rows.map(toTenant);
  }

  async getTenant(idOrName: string): Promise<Tenant | null> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName);
    const { rows } = await this.pool.query(
      `SELECT ${TENANT_COLS} FROM tenants WHERE ${isUuid ? 'id = $1::uuid' : 'name = $1'}`,
      [idOrName],
    );
    return rows[0] ? toTenant(rows[0]) : null;
  }

  async countTenants(): Promise<number> {
    const { rows } = await this.pool.query('SELECT count(*)::int AS n FROM tenants');
    return Number(rows[0].n);
  }

  async createKey(input: { tenantId: string; scopes: Scope[]; name?: string; userId?: string }): Promise<{ key: string; info: ApiKeyInfo }> {
    const secret = await this.#keySecret();
    for (let attempt = 0; ; attempt++) {
      const g = generateApiKey(secret);
      try {
        const { rows } = await this.pool.query(
          `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, scopes, user_id, hash_alg)
           VALUES ($1, $2, $3, $4, $5, $6, 'hmac-sha256') RETURNING ${KEY_COLS}`,
          [input.tenantId, input.name ?? '', g.prefix, g.hash, [...new Set(input.scopes)], input.userId ?? null],
        );
        return { key: g.key, info: toKey(rows[0]) };
      } catch (e) {
        // 23505: the random display prefix is taken; draw another.
        if ((e as { code?: string }).code !== '23505' || attempt >= 3) throw e;
      }
    }
  }

  async listKeys(tenantId: string): Promise<ApiKeyInfo[]> {
    const { rows } = await this.pool.query(
      `SELECT ${KEY_COLS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at`,
      [tenantId],
    );
    return rows.map(toKey);
  }

  /** Revokes by id or display prefix; tenantId narrows it to one tenant (the API's case). */
  async revokeKey(idOrPrefix: string, tenantId?: string): Promise<ApiKeyInfo | null> {
    const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
    const { rows } = await this.pool.query(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
       WHERE ${isUuid ? 'id = $1::uuid' : 'prefix = $1'} AND ($2::uuid IS NULL OR tenant_id = $2::uuid)
       RETURNING ${KEY_COLS}`,
      [idOrPrefix, tenantId ?? null],
    );
    if (!rows[0]) return null;
    const info = toKey(rows[0]);
    this.#forget(info.id);
    return info;
  }

  /** Drops a key from the cache and marks it revoked for this process (never served stale). */
  #forget(keyId: string) {
    this.#revoked.add(keyId);
    for (const [h, e] of this.#cache) if (e.principal?.key.id === keyId) this.#cache.set(h, { principal: null, at: e.at });
  }

  /**
   * The tenant and key behind a presented secret, or null (unknown or revoked). Throws
   * StoreUnavailableError when Postgres cannot be asked and no recent verification of this key
   * is at hand: "Postgres is down" must not read as "your key is invalid".
   */
  async authenticate(secret: string): Promise<Principal | null> {
    if (!looksLikeKey(secret)) return null;
    const now = Date.now();
    let hash: string;
    try {
      hash = hashApiKey(secret, await this.#keySecret());
    } catch (e) {
      throw isConnectionError(e) ? new StoreUnavailableError('postgres', e) : e;
    }
    const hit = this.#cache.get(hash);
    let principal: Principal | null;
    const stale = hit?.principal && now - hit.at < STALE_IF_ERROR_MS && !this.#revoked.has(hit.principal.key.id) ? hit.principal : null;
    if (hit && now - hit.at < CACHE_MS) principal = hit.principal;
    // Postgres failed a moment ago: answer from the recent verification without waiting on it again.
    else if (stale && now < this.#pgDownUntil) return stale;
    else {
      try {
        principal = await this.#lookup(secret, hash);
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        this.#pgDownUntil = Date.now() + PG_RETRY_MS;
        if (!stale) throw e instanceof StoreUnavailableError ? e : new StoreUnavailableError('postgres', e);
        return stale; // verified recently; Postgres is away
      }
      if (principal && this.#revoked.has(principal.key.id)) principal = null;
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(hash, { principal, at: now });
    }
    if (principal && now - (this.#touched.get(principal.key.id) ?? 0) > TOUCH_MS) {
      this.#touched.set(principal.key.id, now);
      this.pool
        .query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [principal.key.id])
        .catch(() => this.#touched.delete(principal!.key.id));
    }
    return principal;
  }

  async #lookup(secret: string, hash: string): Promise<Principal | null> {
    const { rows } = await this.pool.query(
      `SELECT ${KEY_COLS.split(', ').map((c) => 'k.' + c).join(', ')}, k.key_hash, k.hash_alg,
              t.id AS t_id, t.name AS t_name, t.plan AS t_plan, t.timezone AS t_timezone, t.created_at AS t_created_at
       FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
       WHERE k.prefix = $1`,
      [keyPrefix(secret)],
    );
    const r = rows[0];
    if (!r || !keyMatches(secret, String(r.key_hash), r.hash_alg as HashAlg, await this.#keySecret())) return null;
    if (r.revoked_at != null) return null;
    if (r.hash_alg === 'sha256') {
      // A key stored before HMAC hashing: now that the secret proved itself, store its HMAC.
      await this.pool
        .query(`UPDATE api_keys SET key_hash = $1, hash_alg = 'hmac-sha256' WHERE id = $2 AND hash_alg = 'sha256'`, [hash, r.id])
        .catch(() => {}); // retried on a later use
    }
    return {
      key: toKey(r),
      tenant: toTenant({ id: r.t_id, name: r.t_name, plan: r.t_plan, timezone: r.t_timezone, created_at: r.t_created_at }),
    };
  }
}
