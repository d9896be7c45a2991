import { Redis } from 'ioredis';
import { JobStatsStore } from './job-stats.js';
import type { JobDefinition } from './registry.js';
import type { JobRuntime, JobStatus } from './status.js';

/**
 * The jobs side of `tallyhouse serve` in server mode (REDIS_URL): jobs run in `tallyhouse worker`
 * processes, so this only reads their shared history from Redis.
 */
export class QueueJobStatus implements JobRuntime {
  readonly mode = 'queue' as const;
  private redis: Redis | undefined;

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
    private readonly jobs: () => JobDefinition[],
  ) {}

  start(): void {}

  async stop(): Promise<void> {
    this.redis?.disconnect();
    this.redis = undefined;
  }

  async status(): Promise<JobStatus[]> {
    // Connected on first use: most processes never ask.
    if (!this.redis) {
      this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
      this.redis.on('error', () => {}); // reconnects by itself; the request sees the failed command
    }
    return new JobStatsStore(this.redis, this.prefix).read(this.jobs());
  }
}
