import path from 'node:path';
import { z } from 'zod';

/**
 * The one configuration object. Every setting comes from an environment variable; a bad value
 * stops start-up with a message naming the variable (see loadConfig).
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

// Decimal digits only: a bare z.coerce.number() reads ' ' as 0 (PORT=' ' would silently mean a
// random port, INGEST_MAX_FUTURE_DAYS=' ' would refuse every future timestamp) and '0x50' as 80.
const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalUrl = z.url().optional();

export const configSchema = z.object({
  TALLYHOUSE_DATA_DIR: z.string().min(1).default('./data'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65535).default(8787),

  CLICKHOUSE_URL: optionalUrl,
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
    .default('default'),
  CLICKHOUSE_CLUSTER: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be a cluster name')
    .optional(),
  /** Embedded chDB connections on the one data dir: reads run concurrently, one per connection. */
  CLICKHOUSE_EMBEDDED_CONNECTIONS: int(1, 64).default(4),
  /**
   * Threads per statement on those connections (0: the engine's default, one per core). One:
   * a dashboard request runs several small statements at once, and on few cores their threads
   * only contend (bench/profile-statistics: usage statistics p95 100-108 -> 65-74 ms on 2 cores).
   */
  CLICKHOUSE_EMBEDDED_QUERY_THREADS: int(0, 256).default(1),

  DATABASE_URL: optionalUrl,
  REDIS_URL: optionalUrl,

  // Capped so ts + TTL stays inside DateTime's range (2106); past it the TTL wraps and drops parts.
  RETENTION_DAYS: int(1, 18000).default(400),
  ROLLUP_RETENTION_DAYS: int(1, 18000).default(1830),
  INGEST_MAX_EVENTS: int(1, 1_000_000).default(10_000),
  INGEST_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  INGEST_MAX_FUTURE_DAYS: int(0, 3650).default(7),
  /** Single usage events (POST /api/v1/usage/events) are journaled and inserted in groups; false: one insert each. */
  INGEST_JOURNAL: bool.default(true),
  /** Longest a journaled event waits before its group is inserted (a read in this process waits for it). */
  INGEST_JOURNAL_FLUSH_MS: int(1, 60_000).default(50),
  /** Journaled events not yet inserted past which the route answers 503 (the store is not keeping up or is down). */
  INGEST_JOURNAL_MAX_PENDING: int(1, 10_000_000).default(100_000),
  /** fdatasync every append (power-loss safe; the engine's own parts are not fsynced either by default). */
  INGEST_JOURNAL_FSYNC: bool.default(false),

  USAGE_RETENTION_DAYS: int(1, 3650).default(30),
  RATE_LIMIT_PER_MINUTE: int(0, 10_000_000).default(1200),
  CACHE_ENABLED: bool.default(true),
  ANALYTICS_ENABLED: bool.default(true),
  ANALYTICS_FREE_TIER: bool.default(false),

  /** First start on an empty store creates a demo tenant and prints its admin key. */
  TALLYHOUSE_BOOTSTRAP: bool.default(true),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),

  /**
   * Interval of the dispatcher's own sender (NotificationDispatcher.start), for embedders without
   * a job runtime; `serve` and `worker` send through the webhooks.deliver job (src/jobs) instead.
   */
  WEBHOOK_POLL_MS: int(0, 3_600_000).default(1000),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(5000),
  WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(8),

  /** HMAC secret of stored API key hashes (src/tenancy/key-hash-secret.ts); generated when unset. */
  KEY_HASH_SECRET: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)').optional(),
  /** Failed API-key attempts (unknown, revoked or malformed keys) per source IP per minute; 0 = off. */
  AUTH_FAILURES_PER_MINUTE: int(0, 1_000_000).default(30),

  /** Key prefix of the job queues in Redis (server mode), so deployments can share one Redis. */
  JOBS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-" (no ":")').default('tallyhouse'),

  /** Largest request body of any route but POST /api/v1/events (which has INGEST_MAX_BYTES): 413 past it. */
  API_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  /** Time to receive a whole request (headers and body); a slower client gets 408 (slow-drip bodies). */
  REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(60_000),

  /** Spike/drop detection: below this excess (USD per hour) an anomaly is recorded, capped LOW, not notified. */
  DETECTION_MIN_IMPACT_USD: z.string().trim().regex(/^\d{1,10}(\.\d{1,9})?$/, 'must be a non-negative decimal amount in USD, e.g. "10"').default('10'),
  /** |robust z| lower bounds of LOW, MEDIUM, HIGH, CRITICAL (src/control/detection/seasonal.ts). */
  DETECTION_Z_BANDS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?){3}$/, 'four comma-separated numbers, e.g. "3,5,8,12"')
    .transform((s) => s.split(',').map(Number) as [number, number, number, number])
    .refine((b) => b[0] > 0 && b.every((v, i) => i === 0 || v > b[i - 1]!), 'must be > 0 and strictly increasing')
    .default([3, 5, 8, 12]),
  /** Error-rate spikes: an endpoint/model needs this many requests in the hour to be scored. */
  DETECTION_MIN_ERROR_REQUESTS: int(1, 1_000_000_000).default(50),
  /** Seasonal detection checks the last closed hour from this many minutes past the hour (late events). */
  DETECTION_GRACE_MINUTES: int(0, 59).default(5),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  dataDir: string;
  host: string;
  port: number;
  clickhouse:
    | { mode: 'embedded'; path: string; database: string; cluster?: undefined; connections?: number; queryThreads?: number }
    | { mode: 'server'; url: string; user: string; password: string; database: string; cluster?: string };
  postgres: { mode: 'embedded'; path: string } | { mode: 'server'; url: string };
  redisUrl?: string;
  retentionDays: number;
  rollupRetentionDays: number;
  ingest: {
    maxEvents: number;
    maxBytes: number;
    maxFutureDays: number;
    journal: { enabled: boolean; dir: string; flushMs: number; maxPending: number; fsync: boolean };
  };
  usageRetentionDays: number;
  /** Requests per API key per minute; 0 turns the limit off. */
  rateLimitPerMinute: number;
  cacheEnabled: boolean;
  analytics: { enabled: boolean; freeTier: boolean };
  bootstrap: boolean;
  logLevel: RawConfig['LOG_LEVEL'];
  webhooks: { pollMs: number; timeoutMs: number; maxAttempts: number };
  jobs: { prefix: string };
  http: { maxBodyBytes: number; requestTimeoutMs: number };
  keyHashSecret?: string;
  authFailuresPerMinute: number;
  detection: { minImpactUsd: string; zBands: [number, number, number, number]; minErrorRequests: number; graceMinutes: number };
}

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(
      'invalid configuration:\n' + issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset": `FOO= cmd` should not fail a url() check.
  const cleaned = Object.fromEntries(
    Object.keys(configSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({
        variable: String(i.path[0] ?? '?'),
        message: `${i.message} (got ${JSON.stringify(cleaned[String(i.path[0])])})`,
      })),
    );
  }
  const c = parsed.data;
  const dataDir = path.resolve(c.TALLYHOUSE_DATA_DIR);
  if (c.CLICKHOUSE_CLUSTER && !c.CLICKHOUSE_URL) {
    throw new ConfigError([
      { variable: 'CLICKHOUSE_CLUSTER', message: 'requires CLICKHOUSE_URL (embedded chDB has no cluster)' },
    ]);
  }
  return {
    dataDir,
    host: c.HOST,
    port: c.PORT,
    clickhouse: c.CLICKHOUSE_URL
      ? {
          mode: 'server',
          url: c.CLICKHOUSE_URL,
          user: c.CLICKHOUSE_USER,
          password: c.CLICKHOUSE_PASSWORD,
          database: c.CLICKHOUSE_DATABASE,
          cluster: c.CLICKHOUSE_CLUSTER,
        }
      : { mode: 'embedded', path: path.join(dataDir, 'clickhouse'), database: c.CLICKHOUSE_DATABASE, connections: c.CLICKHOUSE_EMBEDDED_CONNECTIONS, queryThreads: c.CLICKHOUSE_EMBEDDED_QUERY_THREADS },
    postgres: c.DATABASE_URL
      ? { mode: 'server', url: c.DATABASE_URL }
      : { mode: 'embedded', path: path.join(dataDir, 'postgres') },
    redisUrl: c.REDIS_URL,
    retentionDays: c.RETENTION_DAYS,
    rollupRetentionDays: c.ROLLUP_RETENTION_DAYS,
    ingest: {
      maxEvents: c.INGEST_MAX_EVENTS,
      maxBytes: c.INGEST_MAX_BYTES,
      maxFutureDays: c.INGEST_MAX_FUTURE_DAYS,
      journal: {
        enabled: c.INGEST_JOURNAL,
        dir: path.join(dataDir, 'ingest-journal'),
        flushMs: c.INGEST_JOURNAL_FLUSH_MS,
        maxPending: c.INGEST_JOURNAL_MAX_PENDING,
        fsync: c.INGEST_JOURNAL_FSYNC,
      },
    },
    usageRetentionDays: c.USAGE_RETENTION_DAYS,
    rateLimitPerMinute: c.RATE_LIMIT_PER_MINUTE,
    cacheEnabled: c.CACHE_ENABLED,
    analytics: { enabled: c.ANALYTICS_ENABLED, freeTier: c.ANALYTICS_FREE_TIER },
    bootstrap: c.TALLYHOUSE_BOOTSTRAP,
    logLevel: c.LOG_LEVEL,
    webhooks: { pollMs: c.WEBHOOK_POLL_MS, timeoutMs: c.WEBHOOK_TIMEOUT_MS, maxAttempts: c.WEBHOOK_MAX_ATTEMPTS },
    jobs: { prefix: c.JOBS_PREFIX },
    http: { maxBodyBytes: c.API_MAX_BODY_BYTES, requestTimeoutMs: c.REQUEST_TIMEOUT_MS },
    keyHashSecret: c.KEY_HASH_SECRET,
    authFailuresPerMinute: c.AUTH_FAILURES_PER_MINUTE,
    detection: {
      minImpactUsd: c.DETECTION_MIN_IMPACT_USD,
      zBands: c.DETECTION_Z_BANDS,
      minErrorRequests: c.DETECTION_MIN_ERROR_REQUESTS,
      graceMinutes: c.DETECTION_GRACE_MINUTES,
    },
  };
}
