#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { startServer } from '../server.js';
import { buildServices, DataDirInUseError, migrateAll, type Services } from '../services.js';
import { SCOPES, type Scope } from '../tenancy/keys.js';
import type { Plan, TenantStore } from '../tenancy/tenant-store.js';
import { SEED_TENANT_NAMES, generateEvents, tenantShares } from './seed-data.js';

const program = new Command('tallyhouse').description('Multi-tenant usage and cost analytics on ClickHouse');

function config(): Config {
  return loadConfig();
}

/** Runs fn with services built once, closing them afterwards; clean messages for known errors. */
async function withServices<T>(fn: (s: Services) => Promise<T>, opts?: { migrate?: boolean }): Promise<T> {
  const services = await buildServices(config(), opts);
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

const positiveInt = (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};
const scopesArg = (v: string): Scope[] => {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length || list.length === 0) throw new InvalidArgumentError(`scopes are a comma list of ${SCOPES.join(', ')}; got ${v}`);
  return list as Scope[];
};

program
  .command('serve')
  .description('start the engine (migrates first; on an empty store creates a demo tenant and prints its admin key)')
  .option('-p, --port <port>', 'port (default PORT or 8787)', positiveInt)
  .action(async (o: { port?: number }) => {
    const cfg = config();
    const services = await buildServices(cfg);
    const boot = cfg.bootstrap ? await bootstrapDemo(services.tenants) : null;
    const server = await startServer(services, o.port ?? cfg.port);
    console.log(`tallyhouse listening on ${server.url}`);
    console.log(
      `  clickhouse: ${services.ch.mode === 'embedded' ? `embedded chDB (${cfg.dataDir}/clickhouse)` : 'server'}; ` +
        `postgres: ${services.pg.mode === 'embedded' ? `embedded PGlite (${cfg.dataDir}/postgres)` : 'server'}`,
    );
    if (boot) {
      console.log(`\nFirst start: created tenant "${boot.tenant}" with an admin API key (shown once, keep it):\n\n  ${boot.key}\n`);
      console.log(`Try:\n  curl -s ${server.url}/api/v1/keys -H "Authorization: Bearer ${boot.key}"\n`);
    }
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      console.log('shutting down…');
      await server.close();
      await services.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('apply pending ClickHouse and Postgres migrations (a second run does nothing)')
  .action(async () => {
    await withServices(async (s) => {
      const done = await migrateAll(s.config, s.ch, s.pg);
      console.log(`postgres: ${done.postgres.length ? done.postgres.join(', ') : 'up to date'}`);
      console.log(`clickhouse: ${done.clickhouse.length ? done.clickhouse.join(', ') : 'up to date'}`);
    }, { migrate: false });
  });

const tenants = program.command('tenants').description('manage tenants');
tenants
  .command('create')
  .requiredOption('--name <name>', 'unique tenant name')
  .option('--plan <plan>', 'free | pro | enterprise', 'pro')
  .option('--timezone <tz>', 'IANA time zone for budget periods', 'UTC')
  .action(async (o: { name: string; plan: string; timezone: string }) => {
    if (!['free', 'pro', 'enterprise'].includes(o.plan)) throw new InvalidArgumentError(`--plan must be free, pro or enterprise; got ${o.plan}`);
    if (!isTimeZone(o.timezone)) throw new InvalidArgumentError(`--timezone must be an IANA time zone such as Europe/Berlin; got ${o.timezone}`);
    await withServices(async (s) => {
      const t = await s.tenants.createTenant({ name: o.name, plan: o.plan as Plan, timezone: o.timezone });
      console.log(JSON.stringify(t, null, 2));
    });
  });
tenants.command('list').action(async () => {
  await withServices(async (s) => console.log(JSON.stringify(await s.tenants.listTenants(), null, 2)));
});

const keys = program.command('keys').description('manage API keys');
keys
  .command('create')
  .requiredOption('--tenant <idOrName>', 'tenant id or name')
  .option('--scopes <list>', `comma list of ${SCOPES.join(', ')}`, scopesArg, ['ingest', 'read'] as Scope[])
  .option('--name <name>', 'a label for the key', '')
  .option('--user <userId>', 'the user this key acts for (usage events)')
  .action(async (o: { tenant: string; scopes: Scope[]; name: string; user?: string }) => {
    await withServices(async (s) => {
      const t = await s.tenants.getTenant(o.tenant);
      if (!t) throw new UserError(`no tenant ${o.tenant}`);
      const { key, info } = await s.tenants.createKey({ tenantId: t.id, scopes: o.scopes, name: o.name, userId: o.user });
      console.log(`key (shown once): ${key}`);
      console.log(JSON.stringify(info, null, 2));
    });
  });
keys
  .command('list')
  .requiredOption('--tenant <idOrName>', 'tenant id or name')
  .action(async (o: { tenant: string }) => {
    await withServices(async (s) => {
      const t = await s.tenants.getTenant(o.tenant);
      if (!t) throw new UserError(`no tenant ${o.tenant}`);
      console.log(JSON.stringify(await s.tenants.listKeys(t.id), null, 2));
    });
  });
keys
  .command('revoke <idOrPrefix>')
  .description('revoke a key by id or display prefix (th_xxxxxxxx)')
  .action(async (idOrPrefix: string) => {
    await withServices(async (s) => {
      const k = await s.tenants.revokeKey(idOrPrefix);
      if (!k) throw new UserError(`no key ${idOrPrefix}`);
      console.log(`revoked ${k.prefix} (${k.id}) at ${k.revokedAt}`);
    });
  });

program
  .command('seed')
  .description('generate a realistic demo dataset and ingest it through the ingestion path')
  .option('--events <n>', 'number of events', positiveInt, 1_000_000)
  .option('--days <n>', 'days of history', positiveInt, 90)
  .option('--tenants <n>', 'number of tenants (the demo tenant first)', positiveInt, 3)
  .option('--seed <n>', 'random seed (same seed → same events)', positiveInt, 1)
  .option('--batch <n>', 'events per ingest batch', positiveInt, 10_000)
  .action(async (o: { events: number; days: number; tenants: number; seed: number; batch: number }) => {
    await withServices(async (s) => {
      const result = await seed(s, o, true);
      console.log(`ingested ${result.accepted} events (${result.duplicates} duplicates, ${result.rejected} rejected) in ${result.seconds.toFixed(1)} s`);
      for (const t of result.tenants) console.log(`  ${t.name}: ${t.events} events`);
    });
  });

export async function seed(
  s: Services,
  o: { events: number; days: number; tenants: number; seed: number; batch: number },
  progress = false,
) {
  const started = Date.now();
  const names = await seedTenants(s.tenants, Math.max(1, o.tenants));
  const shares = tenantShares(names.length);
  const bar = progress ? new cliProgress.SingleBar({ format: 'seeding [{bar}] {percentage}% | {value}/{total} events | {eta_formatted} left' }, cliProgress.Presets.shades_classic) : null;
  bar?.start(o.events, 0);
  let accepted = 0;
  let duplicates = 0;
  let rejected = 0;
  const perTenant: { name: string; events: number }[] = [];
  let done = 0;
  for (let ti = 0; ti < names.length; ti++) {
    const tenant = (await s.tenants.getTenant(names[ti]!))!;
    const count = ti === names.length - 1 ? o.events - done : Math.round(o.events * shares[ti]!);
    perTenant.push({ name: tenant.name, events: count });
    let batch: unknown[] = [];
    const flush = async () => {
      const r = await s.ingest.ingest({ tenantId: tenant.id, apiKeyId: 'seed' }, batch);
      accepted += r.accepted;
      duplicates += r.duplicates;
      rejected += r.rejected.length;
      if (r.rejected.length && rejected === r.rejected.length) console.error('\nfirst rejection:', r.rejected[0]);
      done += batch.length;
      bar?.update(done);
      batch = [];
    };
    for (const e of generateEvents(ti, count, { ...o, nowMs: Date.now() })) {
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
  const names: string[] = [];
  const demo = existing.find((t) => t.name === 'demo');
  if (demo) names.push('demo');
  for (const name of SEED_TENANT_NAMES) {
    if (names.length >= n) break;
    if (!existing.some((t) => t.name === name)) await store.createTenant({ name, plan: name === 'initech' ? 'free' : 'pro' });
    names.push(name);
  }
  return names.slice(0, n);
}

/** On a store without tenants: the demo tenant and its admin key (printed once by serve). */
export async function bootstrapDemo(store: TenantStore): Promise<{ tenant: string; key: string } | null> {
  if ((await store.countTenants()) > 0) return null;
  const t = await store.createTenant({ name: 'demo', plan: 'enterprise' });
  const { key } = await store.createKey({ tenantId: t.id, scopes: ['admin'], name: 'bootstrap admin' });
  return { tenant: t.name, key };
}

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

class UserError extends Error {}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof DataDirInUseError || e instanceof UserError || e instanceof InvalidArgumentError) {
    console.error(`tallyhouse: ${e.message}`);
  } else {
    console.error(e);
  }
  process.exit(1);
});
