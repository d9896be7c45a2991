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

  DATABASE_URL: optionalUrl,
  REDIS_URL: optionalUrl,

  // Capped so ts + TTL stays inside DateTime's range (2106); past it the TTL wraps and drops parts.
  RETENTION_DAYS: int(1, 18000).default(400),
  ROLLUP_RETENTION_DAYS: int(1, 18000).default(1830),
  INGEST_MAX_EVENTS: int(1, 1_000_000).default(10_000),
  INGEST_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  INGEST_MAX_FUTURE_DAYS: int(0, 3650).default(7),
  INGEST_DEDUP_CACHE_SIZE: int(0, 100_000_000).default(1_000_000),

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

  /** Key prefix of the job queues in Redis (server mode), so deployments can share one Redis. */
  JOBS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-" (no ":")').default('tallyhouse'),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  dataDir: string;
  host: string;
  port: number;
  clickhouse:
    | { mode: 'embedded'; path: string; database: string; cluster?: undefined }
    | { mode: 'server'; url: string; user: string; password: string; database: string; cluster?: string };
  postgres: { mode: 'embedded'; path: string } | { mode: 'server'; url: string };
  redisUrl?: string;
  retentionDays: number;
  rollupRetentionDays: number;
  ingest: { maxEvents: number; maxBytes: number; maxFutureDays: number; dedupCacheSize: number };
  usageRetentionDays: number;
  /** Requests per API key per minute; 0 turns the limit off. */
  rateLimitPerMinute: number;
  cacheEnabled: boolean;
  analytics: { enabled: boolean; freeTier: boolean };
  bootstrap: boolean;
  logLevel: RawConfig['LOG_LEVEL'];
  webhooks: { pollMs: number; timeoutMs: number; maxAttempts: number };
  jobs: { prefix: string };
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
      : { mode: 'embedded', path: path.join(dataDir, 'clickhouse'), database: c.CLICKHOUSE_DATABASE },
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
      dedupCacheSize: c.INGEST_DEDUP_CACHE_SIZE,
    },
    usageRetentionDays: c.USAGE_RETENTION_DAYS,
    rateLimitPerMinute: c.RATE_LIMIT_PER_MINUTE,
    cacheEnabled: c.CACHE_ENABLED,
    analytics: { enabled: c.ANALYTICS_ENABLED, freeTier: c.ANALYTICS_FREE_TIER },
    bootstrap: c.TALLYHOUSE_BOOTSTRAP,
    logLevel: c.LOG_LEVEL,
    webhooks: { pollMs: c.WEBHOOK_POLL_MS, timeoutMs: c.WEBHOOK_TIMEOUT_MS, maxAttempts: c.WEBHOOK_MAX_ATTEMPTS },
    jobs: { prefix: c.JOBS_PREFIX },
  };
}
