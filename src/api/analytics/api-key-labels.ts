import type { TenantStore } from '../../tenancy/tenant-store.js';

/**
 * Names the tenant's own API keys in cost breakdowns (seed 004: "API Key X used $Y"). An
 * api_key_id that is not one of the tenant's keys (producers may set it) gets nulls.
 */
export async function apiKeyLabeller(tenants: TenantStore, tenantId: string): Promise<(id: string) => { key_name: string | null; key_prefix: string | null }> {
  const keys = new Map((await tenants.listKeys(tenantId)).map((k) => [k.id, k]));
  return (id) => {
    const k = keys.get(id);
    return { key_name: k ? k.name || null : null, key_prefix: k?.prefix ?? null };
  };
}
