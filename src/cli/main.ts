#!/usr/bin/env node
import './threadpool.js';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { startServer } from '../server.js';
import { buildServices, DataDirInUseError, migrateAll, type Services } from '../services.js';
import { SCOPES, type Scope } from '../tenancy/keys.js';
import { bootstrapDemo } from '../tenancy/bootstrap.js';
import type { Plan } from '../tenancy/tenant-store.js';
import { seed } from './seed.js';
import { registeredJobs } from '../jobs/index.js';
import { JOBS_QUEUE, QueueWorker } from '../jobs/queue-worker.js';

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
  if (bad.length) throw new InvalidArgumentError(`unknown scope${bad.length > 1 ? 's' : ''} ${bad.join(', ')}; scopes are a comma list of ${SCOPES.join(', ')}`);
  if (list.length === 0) throw new InvalidArgumentError(`scopes are a comma list of ${SCOPES.join(', ')}; got ${JSON.stringify(v)}`);
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
  .command('worker')
  .description('run the scheduled jobs from the BullMQ queues on REDIS_URL (server mode; run as many as you like)')
  .option('--concurrency <n>', 'job windows processed at once by this worker', positiveInt, 4)
  .option('--grace <ms>', 'on SIGTERM, how long running jobs may finish before they go back to the queue', positiveInt, 30_000)
  .action(async (o: { concurrency: number; grace: number }) => {
    const cfg = config();
    if (!cfg.redisUrl) throw new UserError('tallyhouse worker needs REDIS_URL (without it `tallyhouse serve` runs the jobs in-process)');
    const services = await buildServices(cfg);
    const worker = new QueueWorker(services, registeredJobs(), cfg.redisUrl, {
      prefix: cfg.jobs.prefix,
      concurrency: Math.max(1, o.concurrency),
      shutdownGraceMs: o.grace,
    });
    await worker.start();
    console.log(`tallyhouse worker: jobs ${registeredJobs().map((j) => j.name).join(', ')} from ${cfg.jobs.prefix}:${JOBS_QUEUE}`);
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      console.log('worker: finishing running jobs…');
      await worker.close();
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
      const t = await s.tenants.createTenant({ name: o.name, plan: o.plan as Plan, timezone: o.timezone }).catch((e: unknown) => {
        // 23505 unique_violation: the name is taken (a clear message, not a driver stack trace).
        if ((e as { code?: string }).code === '23505') throw new UserError(`tenant ${o.name} already exists`);
        throw e;
      });
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
      console.log(
        `ingested ${result.accepted} events (${result.duplicates} duplicates, ${result.rejected.length} rejected) in ${result.seconds.toFixed(1)} s ` +
          `(${Math.round(result.accepted / result.seconds)} events/s)`,
      );
      if (result.rejected.length) console.log('first rejections:', result.rejected);
      for (const t of result.tenants) console.log(`  ${t.name}: ${t.events} events`);
    });
  });

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
