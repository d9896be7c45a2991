import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Services } from '../services.js';
import { runAttempt } from './instrument.js';
import { JobStatsStore } from './job-stats.js';
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, windowAt, type JobDefinition } from './registry.js';
import { errorText } from './status.js';

/** The queue every job window goes through, and where windows that failed every attempt go. */
export const JOBS_QUEUE = 'jobs';
export const DEAD_LETTER_QUEUE = 'jobs-dead';
// Produced by the BullMQ job schedulers: "window W of job J is due"; turned into a RUN job.
const TICK = 'tick';
const RUN = 'run';

/** A window's job id: BullMQ refuses ids with one ":" (its own repeat ids use them), so "@". */
export const windowJobId = (job: string, windowStart: number) => `${job}@${windowStart}`;

interface TickData {
  job: string;
}
interface RunData {
  job: string;
  windowStart: number;
}

export interface QueueWorkerOptions {
  /** BullMQ key prefix (JOBS_PREFIX); several deployments can share one Redis. */
  prefix: string;
  /** Windows processed at once by this worker (different jobs or windows). */
  concurrency: number;
  /** A job whose worker stops renewing this lock (it died) is handed to another worker. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** close() waits this long for running windows, then hands them back to the queue. */
  shutdownGraceMs: number;
  /** Upsert the job schedulers at start (every worker does; upserting is idempotent). */
  schedule: boolean;
  log: (message: string) => void;
}

const DEFAULTS: Omit<QueueWorkerOptions, 'prefix'> = {
  concurrency: 4,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  shutdownGraceMs: 30_000,
  schedule: true,
  log: (m) => console.error(m),
};

// Completed windows keep their id reserved this long, so a late duplicate tick cannot re-run one.
const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 30 * 24 * 3600 };

/**
 * Server-mode job runtime (`tallyhouse worker`): BullMQ job schedulers on REDIS_URL produce one
 * tick per job and slot; a tick enqueues the window as a job with the id `name@windowStart`, so
 * however many workers and schedulers there are, a window is one BullMQ job and runs once
 * (BullMQ ignores an add whose id exists). Failed windows are retried with exponential backoff,
 * then copied to the dead-letter queue and counted. A worker that dies mid-window stops
 * renewing its lock and BullMQ's stalled-job check hands the window to another worker.
 */
export class QueueWorker {
  readonly opts: QueueWorkerOptions;
  private readonly byName: Map<string, JobDefinition>;
  private readonly connections: Redis[] = [];
  private queue: Queue | undefined;
  private dead: Queue | undefined;
  private worker: Worker | undefined;
  private stats: JobStatsStore | undefined;
  /** Aborted when close() stops waiting: handlers stop and their windows go back to the queue. */
  private readonly shutdown = new AbortController();
  private killed = false;
  private closing = false;

  constructor(
    private readonly services: Services,
    jobs: JobDefinition[],
    private readonly redisUrl: string,
    opts: Partial<QueueWorkerOptions> & Pick<QueueWorkerOptions, 'prefix'>,
  ) {
    this.opts = { ...DEFAULTS, ...opts };
    this.byName = new Map(jobs.map((j) => [j.name, j]));
  }

  private connection(): Redis {
    // BullMQ needs maxRetriesPerRequest null (its blocking commands must wait, not fail).
    const r = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    r.on('error', () => {});
    this.connections.push(r);
    return r;
  }

  async start(): Promise<void> {
    const { prefix } = this.opts;
    this.queue = new Queue(JOBS_QUEUE, { connection: this.connection(), prefix });
    this.dead = new Queue(DEAD_LETTER_QUEUE, { connection: this.connection(), prefix });
    // Without a listener a Queue's connection error (Redis away) is printed raw by BullMQ; the
    // connection reconnects by itself, so a log line through opts.log is all it needs.
    for (const q of [this.queue, this.dead]) q.on('error', (e) => this.opts.log(`queue ${q.name}: ${errorText(e)}`));
    this.stats = new JobStatsStore(this.connection(), prefix);
    if (this.opts.schedule) {
      for (const def of this.byName.values()) {
        await this.queue.upsertJobScheduler(
          def.name,
          { every: def.everyMs },
          { name: TICK, data: { job: def.name } satisfies TickData, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } },
        );
      }
    }
    this.worker = new Worker(JOBS_QUEUE, (job, token, signal) => this.process(job, token, signal), {
      connection: this.connection(),
      prefix,
      concurrency: this.opts.concurrency,
      lockDuration: this.opts.lockDurationMs,
      stalledInterval: this.opts.stalledIntervalMs,
      maxStalledCount: 1,
    });
    this.worker.on('error', (e) => this.opts.log(`worker: ${errorText(e)}`));
    await this.worker.waitUntilReady();
  }

  /** Enqueues one window of a job (what a tick does); a window already enqueued is left as is. */
  async enqueueWindow(job: string, windowStart: number): Promise<string> {
    const def = this.byName.get(job);
    if (!def || !this.queue) throw new Error(def ? 'worker not started' : `unknown job ${job}`);
    const id = windowJobId(job, windowStart);
    await this.queue.add(RUN, { job, windowStart } satisfies RunData, {
      jobId: id,
      attempts: def.attempts ?? DEFAULT_ATTEMPTS,
      backoff: { type: 'exponential', delay: def.backoffMs ?? DEFAULT_BACKOFF_MS },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    });
    return id;
  }

  /**
   * Graceful shutdown: takes no new windows, waits up to `graceMs` for the running ones, then
   * aborts their handlers and hands their windows back to the queue (no attempt used), and closes.
   */
  async close(graceMs = this.opts.shutdownGraceMs): Promise<void> {
    if (this.worker) {
      this.closing = true;
      // close() fetches nothing more and resolves when the running windows are settled.
      const closed = this.worker.close();
      const drained = await Promise.race([closed.then(() => true), sleep(graceMs, false, { ref: false })]);
      if (!drained) {
        this.shutdown.abort();
        await closed;
      }
    }
    await this.closeQueues();
  }

  /**
   * Stops at once as if the process died: running windows stay active in Redis, their locks
   * lapse, and the stalled-job check of another worker runs them again.
   */
  async kill(): Promise<void> {
    this.killed = true;
    await this.worker?.close(true);
    this.shutdown.abort();
    await this.closeQueues();
  }

  private async closeQueues() {
    await this.queue?.close().catch(() => {});
    await this.dead?.close().catch(() => {});
    for (const c of this.connections.splice(0)) c.disconnect();
  }

  private async process(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<unknown> {
    if (job.name === TICK) {
      const { job: name } = job.data as TickData;
      const def = this.byName.get(name);
      // A schedule left by a build that had this job: nothing to run here.
      if (!def) return { skipped: `unknown job ${name}` };
      const { windowStart } = windowAt(slotOf(job), def.everyMs);
      return { enqueued: await this.enqueueWindow(name, windowStart) };
    }
    if (this.closing) {
      // Fetched while shutting down: leave it to a worker that stays.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const { job: name, windowStart } = job.data as RunData;
    const def = this.byName.get(name);
    if (!def) throw new UnrecoverableError(`unknown job ${name}`);
    const ctx = {
      services: this.services,
      windowStart: new Date(windowStart),
      windowEnd: new Date(windowStart + def.everyMs),
      signal: signal ? AbortSignal.any([signal, this.shutdown.signal]) : this.shutdown.signal,
    };
    let result: unknown;
    try {
      result = await runAttempt(this.services.metrics, def, ctx);
    } catch (e) {
      // Killed: this process no longer speaks for the window (another worker will run it).
      if (this.killed) throw e;
      if (this.shutdown.signal.aborted) {
        // Shutdown cut it short: back to the queue for another worker, without using an attempt.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      await this.stats!.failure(name, e).catch((err: unknown) => this.opts.log(`job ${name}: recording failure: ${errorText(err)}`));
      const attempts = job.opts.attempts ?? 1;
      const last = job.attemptsMade + 1 >= attempts;
      this.opts.log(`job ${name} window ${new Date(windowStart).toISOString()}: attempt ${job.attemptsMade + 1}/${attempts} failed${last ? ', dead-lettered' : ''}: ${errorText(e)}`);
      if (last) {
        await this.dead!.add(name, { job: name, windowStart, error: errorText(e), attempts, failedAt: Date.now() }, { jobId: job.id });
        await this.stats!.deadLettered(name);
      }
      throw e;
    }
    // The window is done whatever happens to its bookkeeping: a lost stats write must not re-run it.
    await this.stats!.success(name, windowStart).catch((e: unknown) => this.opts.log(`job ${name}: recording success: ${errorText(e)}`));
    return result ?? null;
  }
}

/** The slot a scheduler tick stands for: its id is `repeat:<scheduler>:<millis>`. */
function slotOf(job: Job): number {
  const m = /:(\d+)$/.exec(job.id ?? '');
  return m ? Number(m[1]) : job.timestamp + (job.delay ?? 0);
}
