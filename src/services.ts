import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';
import { IngestService } from './ingest/ingest-service.js';
import { IngestJournal, withReadBarrier } from './ingest/journal.js';
import { PriceBook } from './ingest/prices.js';
import { createMetrics, type Metrics } from './metrics.js';
import { migrateClickHouse } from './stores/clickhouse/migrate.js';
import { createClickHouseStore, type ClickHouseStore } from './stores/clickhouse/store.js';
import { migratePostgres } from './stores/postgres/migrate.js';
import { createPostgresStore, type PostgresStore } from './stores/postgres/pool.js';
import { TenantStore } from './tenancy/tenant-store.js';
import { loadKeyHashSecret } from './tenancy/key-hash-secret.js';
import { createAuthFailureLimiter } from './api/auth.js';
import type { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { createResponseCache, type ResponseCache } from './api/response-cache.js';
import { createRateLimiter } from './api/rate-limit.js';
import { createRedis } from './stores/redis/client.js';
import { NotificationDispatcher } from './control/notifications/dispatcher.js';
import { WebhookStore } from './control/notifications/store.js';
import { registeredJobs } from './jobs/index.js';
import { EmbeddedScheduler } from './jobs/embedded-scheduler.js';
import { QueueJobStatus } from './jobs/queue-status.js';
import type { JobRuntime } from './jobs/status.js';

/** Everything the engine needs, built once at boot and handed to the API, CLI and jobs. */
export interface Services {
  config: Config;
  ch: ClickHouseStore;
  /** The single-event ingest journal (INGEST_JOURNAL); its inserts bypass `ch`'s read barrier. */
  journal?: IngestJournal;
  pg: PostgresStore;
  metrics: Metrics;
  tenants: TenantStore;
  prices: PriceBook;
  ingest: IngestService;
  redis?: Redis;
  responseCache: ResponseCache;
  rateLimiter: RateLimiterAbstract | null;
  /** Failed API-key attempts per source address (src/api/auth.ts); null when off. */
  authFailures: RateLimiterAbstract | null;
  /** Webhook notifications: enqueue from anywhere; server.ts polls deliverDue while serving. */
  notifications: NotificationDispatcher;
  /**
   * Scheduled jobs (src/jobs). Embedded mode: the in-process scheduler, started by server.ts.
   * Server mode (REDIS_URL): `tallyhouse worker` runs them; this reads their state from Redis.
   */
  jobs: JobRuntime;
  startedAt: number;
  close(): Promise<void>;
}

export async function buildServices(config: Config, opts: { migrate?: boolean } = {}): Promise<Services> {
  const releaseLock = lockDataDir(config);
  let ch: ClickHouseStore | undefined;
  let pg: PostgresStore | undefined;
  try {
    ch = await createClickHouseStore(config.clickhouse);
    pg = await createPostgresStore(config.postgres);
    if (opts.migrate !== false) await migrateAll(config, ch, pg);
    const metrics = createMetrics();
    const prices = new PriceBook(pg.pool);
    // Without migrating first (`tallyhouse migrate`) the price table may not exist yet: the book
    // then loads on first use (IngestService calls ensureFresh before pricing a batch).
    if (opts.migrate !== false) await prices.refresh();
    const pgForSecret = pg;
    const tenants = new TenantStore(pg.pool, () => loadKeyHashSecret(config, pgForSecret.pool));
    // The journal inserts through the store as it is; everything else reads through the barrier,
    // so a read in this process sees every event the process accepted.
    const j = config.ingest.journal;
    const journal = j.enabled
      ? await IngestJournal.open(ch, {
          dir: j.dir,
          flushMs: j.flushMs,
          maxPending: j.maxPending,
          fsync: j.fsync,
          log: (m) => console.error(m),
          onInserted: () => metrics.journalPending.set(journal?.pending ?? 0),
        })
      : undefined;
    const rawCh = ch;
    if (journal) ch = withReadBarrier(ch, () => journal.barrier());
    const ingest = new IngestService(
      ch,
      prices,
      metrics,
      { maxFutureDays: config.ingest.maxFutureDays, retentionDays: config.retentionDays },
      journal,
    );
    const redis = config.redisUrl ? createRedis(config.redisUrl) : undefined;
    const responseCache = createResponseCache(config.redisUrl);
    const rateLimiter = createRateLimiter(config.rateLimitPerMinute, redis);
    const authFailures = createAuthFailureLimiter(config.authFailuresPerMinute, redis);
    const notifications = new NotificationDispatcher(new WebhookStore(pg.pool), {
      timeoutMs: config.webhooks.timeoutMs,
      maxAttempts: config.webhooks.maxAttempts,
    });
    const chStore = ch;
    const pgStore = pg;
    const redisUrl = config.redisUrl;
    const services: Services = {
      config,
      ch: chStore,
      pg: pgStore,
      metrics,
      tenants,
      prices,
      ingest,
      journal,
      redis,
      responseCache,
      rateLimiter,
      authFailures,
      notifications,
      // Replaced just below: the embedded scheduler hands its jobs these very services.
      jobs: undefined as unknown as JobRuntime,
      startedAt: Date.now(),
      async close() {
        await services.jobs.stop();
        await notifications.stop();
        await responseCache.close();
        redis?.disconnect();
        await journal?.close();
        await pgStore.close().catch(() => {});
        await rawCh.close().catch(() => {});
        releaseLock();
      },
    };
    services.jobs = redisUrl
      ? new QueueJobStatus(redisUrl, config.jobs.prefix, registeredJobs)
      : new EmbeddedScheduler(services, registeredJobs());
    return services;
  } catch (e) {
    await pg?.close().catch(() => {});
    await ch?.close().catch(() => {});
    releaseLock();
    throw e;
  }
}

export async function migrateAll(config: Config, ch: ClickHouseStore, pg: PostgresStore) {
  const pgDone = await migratePostgres(pg);
  const chDone = await migrateClickHouse(ch, {
    cluster: config.clickhouse.cluster,
    retentionDays: config.retentionDays,
    rollupRetentionDays: config.rollupRetentionDays,
  });
  return { postgres: pgDone, clickhouse: chDone };
}

export class DataDirInUseError extends Error {}

/**
 * Embedded stores belong to one process (libchdb and PGlite both bind their directory). A lock
 * file turns a second process into a clear message instead of a corrupt or refused store.
 */
function lockDataDir(config: Config): () => void {
  if (config.clickhouse.mode === 'server' && config.postgres.mode === 'server') return () => {};
  fs.mkdirSync(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, 'tallyhouse.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(file, 'utf8'));
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DataDirInUseError(
          `data directory ${config.dataDir} is in use by process ${pid} (a running \`tallyhouse serve\`?). ` +
            'Stop it first, use the HTTP API of the running engine, or set TALLYHOUSE_DATA_DIR to another directory.',
        );
      }
      fs.rmSync(file, { force: true }); // stale lock from a process that died
    }
  }
  throw new DataDirInUseError(`could not lock ${config.dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
