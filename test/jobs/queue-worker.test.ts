import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_QUEUE, JOBS_QUEUE, QueueWorker, windowJobId, type QueueWorkerOptions } from '../../src/jobs/queue-worker.js';
import type { JobDefinition } from '../../src/jobs/registry.js';
import { SERVER_REDIS_URL, serverRedisAvailable, startTestEngine, type TestEngine, type TestTenant } from '../helpers/engine.js';

// Against the real Redis. A prefix of its own keeps this file's queues apart from any other
// file running at the same time; every key under it is deleted afterwards.
const prefix = `th-test-jobs-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const redisUp = await serverRedisAvailable();

async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}

describe.skipIf(!redisUp)('BullMQ job runtime (real Redis)', () => {
  let engine: TestEngine;
  let t: TestTenant;
  let redis: Redis;
  const workers: QueueWorker[] = [];

  beforeAll(async () => {
    engine = await startTestEngine({ env: { REDIS_URL: SERVER_REDIS_URL, JOBS_PREFIX: prefix } });
    t = await engine.newTenant();
    redis = new Redis(SERVER_REDIS_URL);
  });
  // Every worker of a test is gone before the next starts: a worker only knows its own jobs.
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill().catch(() => {})));
  });
  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    await engine?.close();
  });

  const worker = async (jobs: JobDefinition[], opts: Partial<QueueWorkerOptions> = {}) => {
    const w = new QueueWorker(engine.services, jobs, SERVER_REDIS_URL, {
      prefix,
      schedule: false,
      lockDurationMs: 1000,
      stalledIntervalMs: 500,
      log: () => {},
      ...opts,
    });
    workers.push(w);
    await w.start();
    return w;
  };
  const opsJobs = async () => {
    const r = await engine.request('GET', '/api/v1/ops/jobs', { key: t.admin });
    expect(r.status).toBe(200);
    return (await r.json()) as { mode: string; jobs: { job: string; [k: string]: unknown }[] };
  };

  it('two workers do not double-run a scheduled window', async () => {
    const runs = new Map<number, number>();
    const job: JobDefinition = {
      name: 'count.windows',
      everyMs: 1000,
      handler: async ({ windowStart, windowEnd }) => {
        expect(windowEnd.getTime() - windowStart.getTime()).toBe(1000);
        runs.set(windowStart.getTime(), (runs.get(windowStart.getTime()) ?? 0) + 1);
        await sleep(50);
      },
    };
    // Both upsert the scheduler, as two `tallyhouse worker` processes starting would.
    const a = await worker([job], { schedule: true });
    const b = await worker([job], { schedule: true });
    await until(() => runs.size >= 4);
    // Enqueueing a window that already ran, from either worker, runs nothing.
    const first = Math.min(...runs.keys());
    await a.enqueueWindow('count.windows', first);
    await b.enqueueWindow('count.windows', first);
    await sleep(300);
    await Promise.all([a.close(), b.close()]);
    const windows = [...runs.keys()].sort((x, y) => x - y);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    for (let i = 1; i < windows.length; i++) expect(windows[i]! - windows[i - 1]!).toBe(1000);
    expect(windows.every((w) => w % 1000 === 0)).toBe(true);
    const status = (await opsJobs()).jobs.find((j) => j.job === 'count.windows');
    expect(status).toMatchObject({ failures: 0, dead_lettered: 0, last_success_window: new Date(windows.at(-1)!).toISOString() });
    const schedulers = await new Queue(JOBS_QUEUE, { connection: redis, prefix }).getJobSchedulers();
    expect(schedulers.filter((s) => s.key === 'count.windows')).toHaveLength(1);
    await new Queue(JOBS_QUEUE, { connection: redis, prefix }).removeJobScheduler('count.windows');
  });

  it('a failing job is retried with backoff, then dead-lettered and visible in GET /api/v1/ops/jobs', async () => {
    const attempts: number[] = [];
    const job: JobDefinition = {
      name: 'always.fails',
      everyMs: 3_600_000,
      attempts: 3,
      backoffMs: 100,
      handler: async () => {
        attempts.push(Date.now());
        throw new Error('receiver on fire');
      },
    };
    const w = await worker([job]);
    const window = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    expect(await w.enqueueWindow('always.fails', window)).toBe(`always.fails@${window}`);
    await until(async () => (Number((await opsJobs()).jobs.find((j) => j.job === 'always.fails')?.dead_lettered ?? 0)) >= 1);
    await sleep(500); // nothing more happens to it
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(95); // exponential: 100 ms, then 200 ms
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(195);
    const body = await opsJobs();
    expect(body.mode).toBe('queue');
    const st = body.jobs.find((j) => j.job === 'always.fails')!;
    expect(st).toMatchObject({ every_ms: null, failures: 3, dead_lettered: 1, last_error: 'receiver on fire', last_success_at: null });
    expect(st.last_failure_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The engine's own jobs are listed too, with their schedule.
    expect(body.jobs.map((j) => j.job)).toEqual(expect.arrayContaining(['webhooks.deliver', 'retention']));
    const dead = new Queue(DEAD_LETTER_QUEUE, { connection: redis, prefix });
    const entry = await dead.getJob(windowJobId('always.fails', window));
    expect(entry?.data).toMatchObject({ job: 'always.fails', windowStart: window, error: 'receiver on fire', attempts: 3 });
    const failed = await new Queue(JOBS_QUEUE, { connection: redis, prefix }).getJob(windowJobId('always.fails', window));
    expect(await failed?.getState()).toBe('failed');
    expect(failed?.attemptsMade).toBe(3);
    await w.close();
  });

  it('a job survives a worker restart: killed mid-window, another worker completes the window exactly once', async () => {
    let starts = 0;
    let completions = 0;
    const job: JobDefinition = {
      name: 'long.one',
      everyMs: 3_600_000,
      handler: async ({ signal }) => {
        starts++;
        // The first run hangs until its worker goes away.
        if (starts === 1) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('worker gone'))));
        await sleep(100);
        completions++;
      },
    };
    const a = await worker([job]);
    const window = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    await a.enqueueWindow('long.one', window);
    await until(() => starts === 1);
    await a.kill(); // as if the process died: the window stays active, its lock lapses
    const b = await worker([job]);
    await until(() => completions === 1);
    await sleep(1500); // several stall checks later: still once
    expect(starts).toBe(2);
    expect(completions).toBe(1);
    const done = await new Queue(JOBS_QUEUE, { connection: redis, prefix }).getJob(windowJobId('long.one', window));
    expect(await done?.getState()).toBe('completed');
    // One attempt counted (the one that completed): a stall is not a failed attempt.
    expect(done?.attemptsMade).toBe(1);
    expect(done?.stalledCounter).toBe(1);
    expect((await opsJobs()).jobs.find((j) => j.job === 'long.one')).toMatchObject({ failures: 0, dead_lettered: 0, last_success_window: new Date(window).toISOString() });
    await b.close();
  });

  it('graceful shutdown past its grace hands the running window back; another worker runs it without using an attempt', async () => {
    let starts = 0;
    let completions = 0;
    const job: JobDefinition = {
      name: 'handed.back',
      everyMs: 3_600_000,
      handler: async ({ signal }) => {
        starts++;
        if (starts === 1) await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('shutting down'))));
        completions++;
      },
    };
    const a = await worker([job], { shutdownGraceMs: 100 });
    const window = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    await a.enqueueWindow('handed.back', window);
    await until(() => starts === 1);
    const t0 = Date.now();
    await a.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    const queue = new Queue(JOBS_QUEUE, { connection: redis, prefix });
    expect(await (await queue.getJob(windowJobId('handed.back', window)))?.getState()).toBe('waiting');
    const b = await worker([job]);
    await until(() => completions === 1);
    await sleep(300);
    const done = await queue.getJob(windowJobId('handed.back', window));
    expect(await done?.getState()).toBe('completed');
    expect(done?.attemptsMade).toBe(1); // only the attempt that completed
    expect(done?.stalledCounter).toBe(0);
    expect(starts).toBe(2);
    expect((await opsJobs()).jobs.find((j) => j.job === 'handed.back')).toMatchObject({ failures: 0, dead_lettered: 0 });
    await b.close();
  });

  it('graceful shutdown within its grace lets the running window finish', async () => {
    let finished = false;
    let started = false;
    const job: JobDefinition = {
      name: 'finishes',
      everyMs: 3_600_000,
      handler: async () => {
        started = true;
        await sleep(400);
        finished = true;
      },
    };
    const a = await worker([job], { shutdownGraceMs: 5000 });
    const window = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    await a.enqueueWindow('finishes', window);
    await until(() => started);
    await a.close();
    expect(finished).toBe(true);
    const done = await new Queue(JOBS_QUEUE, { connection: redis, prefix }).getJob(windowJobId('finishes', window));
    expect(await done?.getState()).toBe('completed');
  });
});
