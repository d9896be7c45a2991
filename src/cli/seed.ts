import cliProgress from 'cli-progress';
import type { Services } from '../services.js';
import type { TenantStore } from '../tenancy/tenant-store.js';
import { SEED_TENANT_NAMES, generateEvents, tenantShares } from './seed-data.js';

export interface SeedCommandOptions {
  events: number;
  days: number;
  tenants: number;
  seed: number;
  batch: number;
}

/** Generates the demo dataset and sends it through IngestService, the same path as the API. */
export async function seed(s: Services, o: SeedCommandOptions, progress = false) {
  const started = Date.now();
  const names = await seedTenants(s.tenants, Math.max(1, o.tenants));
  const shares = tenantShares(names.length);
  const bar = progress
    ? new cliProgress.SingleBar(
        { format: 'seeding [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left' },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(o.events, 0);
  let accepted = 0;
  let duplicates = 0;
  const rejected: unknown[] = [];
  const perTenant: { name: string; id: string; events: number }[] = [];
  let done = 0;
  const nowMs = Date.now();
  for (let ti = 0; ti < names.length; ti++) {
    const tenant = (await s.tenants.getTenant(names[ti]!))!;
    const count = ti === names.length - 1 ? o.events - done : Math.round(o.events * shares[ti]!);
    perTenant.push({ name: tenant.name, id: tenant.id, events: count });
    let batch: unknown[] = [];
    const flush = async () => {
      const r = await s.ingest.ingest({ tenantId: tenant.id, apiKeyId: 'seed' }, batch, nowMs);
      accepted += r.accepted;
      duplicates += r.duplicates;
      rejected.push(...r.rejected.slice(0, 10 - rejected.length));
      done += batch.length;
      bar?.update(done);
      batch = [];
    };
    for (const e of generateEvents(ti, count, { ...o, nowMs })) {
      batch.push(e);
      if (batch.length >= o.batch) await flush();
    }
    if (batch.length) await flush();
  }
  bar?.stop();
  return { accepted, duplicates, rejected, tenants: perTenant, seconds: (Date.now() - started) / 1000 };
}

async function seedTenants(store: TenantStore, n: number): Promise<string[]> {
  const existing = await store.listTenants();
  const names: string[] = existing.some((t) => t.name === 'demo') ? ['demo'] : [];
  for (const name of SEED_TENANT_NAMES) {
    if (names.length >= n) break;
    if (!existing.some((t) => t.name === name)) await store.createTenant({ name, plan: name === 'initech' ? 'free' : 'pro' });
    names.push(name);
  }
  return names.slice(0, n);
}
