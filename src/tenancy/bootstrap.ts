import type { TenantStore } from './tenant-store.js';

/** On a store without tenants: the demo tenant and its admin key (printed once by `serve`). */
export async function bootstrapDemo(store: TenantStore): Promise<{ tenant: string; key: string } | null> {
  if ((await store.countTenants()) > 0) return null;
  const t = await store.createTenant({ name: 'demo', plan: 'enterprise' });
  const { key } = await store.createKey({ tenantId: t.id, scopes: ['admin'], name: 'bootstrap admin' });
  return { tenant: t.name, key };
}
