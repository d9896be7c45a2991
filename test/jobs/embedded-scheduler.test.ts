import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedScheduler } from '../../src/jobs/embedded-scheduler.js';
import type { JobContext, JobDefinition } from '../../src/jobs/registry.js';
import { createMetrics } from '../../src/metrics.js';
import type { Services } from '../../src/services.js';

// The scheduler only hands services through to handlers and records metrics: these tests give
// it the metrics and check what the handlers were called with.
const fakeServices = () => ({ metrics: createMetrics() }) as unknown as Services;

const schedulers: EmbeddedScheduler[] = [];
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
});

function scheduler(jobs: JobDefinition[], opts: { shutdownGraceMs?: number } = {}) {
  const logs: string[] = [];
  const services = fakeServices();
  const s = new EmbeddedScheduler(services, jobs, { log: (m) => logs.push(m), ...opts });
  schedulers.push(s);
  return { s, logs, services };
}

async function until(cond: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const metric = async (services: Services, series: string) => {
  const text = await services.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('embedded scheduler', () => {
  it('runs each window once, aligned to the schedule, with windowEnd = windowStart + everyMs', async () => {
    const calls: JobContext[] = [];
    const { s } = scheduler([{ name: 'every200', everyMs: 200, handler: async (ctx) => void calls.push(ctx) }]);
    s.start();
    s.start(); // a second start is a no-op, not a second timer
    await sleep(1100);
    await s.stop();
    const starts = calls.map((c) => c.windowStart.getTime());
    expect(starts.length).toBeGreaterThanOrEqual(5);
    expect(new Set(starts).size).toBe(starts.length);
    for (const [i, c] of calls.entries()) {
      expect(c.windowStart.getTime() % 200).toBe(0);
      expect(c.windowEnd.getTime() - c.windowStart.getTime()).toBe(200);
      if (i > 0) {
        // Each run is a later window; on a loaded machine a missed window is skipped (coalesced),
        // so the step is a whole number of windows, never zero or a fraction.
        const step = c.windowStart.getTime() - calls[i - 1]!.windowStart.getTime();
        expect(step % 200).toBe(0);
        expect(step).toBeGreaterThanOrEqual(200);
      }
    }
    const after = calls.length;
    await sleep(450);
    expect(calls.length).toBe(after); // stopped: no more windows
  });

  it('never runs two windows of one job at once; windows that come due meanwhile coalesce into the latest', async () => {
    let active = 0;
    let maxActive = 0;
    const windows: number[] = [];
    const { s } = scheduler([
      {
        name: 'slow',
        everyMs: 100,
        handler: async ({ windowStart }) => {
          active++;
          maxActive = Math.max(maxActive, active);
          windows.push(windowStart.getTime());
          await sleep(350);
          active--;
        },
      },
    ]);
    s.start();
    await sleep(1300);
    await s.stop();
    expect(maxActive).toBe(1);
    expect(windows.length).toBeGreaterThanOrEqual(3);
    expect(windows.length).toBeLessThanOrEqual(5); // ~13 slots passed, but runs never overlap
    for (let i = 1; i < windows.length; i++) expect(windows[i]!).toBeGreaterThan(windows[i - 1]!);
  });

  it('retries a failed window with backoff, then dead-letters it; status, logs and metrics show it', async () => {
    const attempts: number[] = [];
    const { s, logs, services } = scheduler([
      {
        name: 'broken',
        everyMs: 3_600_000,
        attempts: 3,
        backoffMs: 40,
        handler: async () => {
          attempts.push(Date.now());
          throw new Error('upstream down');
        },
      },
    ]);
    s.start();
    await until(() => logs.length === 3);
    await sleep(100); // no fourth attempt
    expect(attempts).toHaveLength(3);
    // Exponential backoff: ≥ 40 ms, then ≥ 80 ms.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(39);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(79);
    const [st] = await s.status();
    expect(st).toMatchObject({ job: 'broken', every_ms: 3_600_000, failures: 3, dead_lettered: 1, last_error: 'upstream down', last_success_at: null });
    expect(st!.last_failure_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(logs[2]).toContain('attempt 3/3 failed, dead-lettered: upstream down');
    expect(await metric(services, 'job_failures_total{job="broken"}')).toBe(3);
    expect(await metric(services, 'job_duration_seconds_count{job="broken"}')).toBe(3);
  });

  it('a window that fails once and then succeeds is not dead-lettered', async () => {
    let n = 0;
    const { s, services } = scheduler([
      {
        name: 'flaky',
        everyMs: 3_600_000,
        backoffMs: 10,
        handler: async () => {
          if (++n === 1) throw new Error('blip');
          return 'ok';
        },
      },
    ]);
    s.start();
    let st: Awaited<ReturnType<typeof s.status>>[number] | undefined;
    await until(() => n === 2);
    for (const end = Date.now() + 2000; Date.now() < end; await sleep(10)) {
      [st] = await s.status();
      if (st!.last_success_at) break;
    }
    expect(st).toMatchObject({ failures: 1, dead_lettered: 0, last_error: 'blip' });
    const window = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    expect(st!.last_success_window).toBe(new Date(window).toISOString());
    expect(await metric(services, 'job_last_success_timestamp_seconds{job="flaky"}')).toBeGreaterThan(Date.now() / 1000 - 5);
  });

  it('stop() waits for a running job to finish', async () => {
    let finished = false;
    let started = false;
    const { s } = scheduler([
      {
        name: 'finishing',
        everyMs: 3_600_000,
        handler: async () => {
          started = true;
          await sleep(300);
          finished = true;
        },
      },
    ]);
    s.start();
    await until(() => started);
    await s.stop();
    expect(finished).toBe(true);
    expect((await s.status())[0]!.last_success_at).not.toBeNull();
  });

  it('stop() is bounded: past the grace period it aborts the handler, which is not counted as a failure', async () => {
    let aborted = false;
    let started = false;
    const { s } = scheduler(
      [
        {
          name: 'stuck',
          everyMs: 3_600_000,
          handler: ({ signal }) =>
            new Promise((_, reject) => {
              started = true;
              signal.addEventListener('abort', () => {
                aborted = true;
                reject(new Error('aborted'));
              });
            }),
        },
      ],
      { shutdownGraceMs: 100 },
    );
    s.start();
    await until(() => started);
    const t0 = Date.now();
    await s.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(aborted).toBe(true);
    expect((await s.status())[0]).toMatchObject({ failures: 0, dead_lettered: 0 });
  });
});
