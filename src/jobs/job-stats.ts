import type { Redis } from 'ioredis';
import { errorText, iso, type JobStatus } from './status.js';

/**
 * Per-job run history of the queue runtime, shared by every worker through Redis: one hash per
 * job plus a set of the job names seen, under the queue prefix. What GET /api/v1/ops/jobs reads
 * in server mode.
 */
export class JobStatsStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key = (job: string) => `${this.prefix}:jobstats:${job}`;
  private get names() {
    return `${this.prefix}:jobstats`;
  }

  async success(job: string, windowStart: number, at = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .sadd(this.names, job)
      .hset(this.key(job), { last_success_at: at, last_success_window: windowStart })
      .exec();
  }

  async failure(job: string, error: unknown, at = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .sadd(this.names, job)
      .hset(this.key(job), { last_failure_at: at, last_error: errorText(error) })
      .hincrby(this.key(job), 'failures', 1)
      .exec();
  }

  async deadLettered(job: string): Promise<void> {
    await this.redis.multi().sadd(this.names, job).hincrby(this.key(job), 'dead_lettered', 1).exec();
  }

  /** The given jobs (with their schedule) and any other job that has a history here. */
  async read(known: { name: string; everyMs: number }[]): Promise<JobStatus[]> {
    const seen = await this.redis.smembers(this.names);
    const every = new Map(known.map((j) => [j.name, j.everyMs]));
    const names = [...new Set([...known.map((j) => j.name), ...seen.sort()])];
    const pipeline = this.redis.pipeline();
    for (const n of names) pipeline.hgetall(this.key(n));
    const rows = (await pipeline.exec()) ?? [];
    return names.map((job, i) => {
      const [err, h] = rows[i] ?? [null, {}];
      if (err) throw err;
      const r = (h ?? {}) as Record<string, string>;
      const num = (v: string | undefined) => (v === undefined ? null : Number(v));
      return {
        job,
        every_ms: every.get(job) ?? null,
        last_success_at: iso(num(r.last_success_at)),
        last_success_window: r.last_success_window === undefined ? null : new Date(Number(r.last_success_window)).toISOString(),
        last_failure_at: iso(num(r.last_failure_at)),
        last_error: r.last_error ?? null,
        failures: Number(r.failures ?? 0),
        dead_lettered: Number(r.dead_lettered ?? 0),
      };
    });
  }
}
