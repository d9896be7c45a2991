import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../../src/server.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';

interface Body {
  mode: string;
  jobs: { job: string; every_ms: number | null; last_success_at: string | null; last_success_window: string | null; failures: number; dead_lettered: number }[];
}

describe('GET /api/v1/ops/jobs (embedded mode)', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine();
    t = await engine.newTenant();
  });
  afterAll(() => engine?.close());

  const get = async (key?: string) => engine.request('GET', '/api/v1/ops/jobs', { key });

  it('lists the registered jobs, nothing run yet before the scheduler starts', async () => {
    const r = await get(t.admin);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Body;
    expect(body.mode).toBe('embedded');
    const byName = new Map(body.jobs.map((j) => [j.job, j]));
    for (const [job, every] of [
      ['webhooks.deliver', 5000],
      ['retention', 3_600_000],
    ] as const) {
      expect(byName.get(job)).toEqual({
        job,
        every_ms: every,
        last_success_at: null,
        last_success_window: null,
        last_failure_at: null,
        last_error: null,
        failures: 0,
        dead_lettered: 0,
      });
    }
  });

  it('the server runs the jobs in-process while serving and stops them with it', async () => {
    const server = await startServer(engine.services, 0, '127.0.0.1');
    let body: Body | undefined;
    try {
      for (const end = Date.now() + 15_000; Date.now() < end; await sleep(50)) {
        body = (await (await get(t.admin)).json()) as Body;
        if (body.jobs.filter((j) => j.job === 'retention' || j.job === 'webhooks.deliver').every((j) => j.last_success_at)) break;
      }
    } finally {
      await server.close();
    }
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const retention = body!.jobs.find((j) => j.job === 'retention')!;
    expect(retention).toMatchObject({ failures: 0, dead_lettered: 0, last_success_window: new Date(hour).toISOString() });
    const deliver = body!.jobs.find((j) => j.job === 'webhooks.deliver')!;
    expect(deliver.last_success_at).not.toBeNull();
    expect(new Date(deliver.last_success_window!).getTime() % 5000).toBe(0);
    // Stopped with the server: no further window runs.
    await sleep(5200);
    const later = ((await (await get(t.admin)).json()) as Body).jobs.find((j) => j.job === 'webhooks.deliver')!;
    expect(later.last_success_window).toBe(deliver.last_success_window);
    // Prometheus shows the runs.
    const metrics = await (await engine.request('GET', '/metrics')).text();
    expect(metrics).toMatch(/^job_duration_seconds_count\{job="retention"\} 1$/m);
    expect(metrics).toMatch(/^job_last_success_timestamp_seconds\{job="webhooks.deliver"\} \d/m);
  });

  it('needs an admin key: 401 without a key, 403 for read or ingest keys', async () => {
    expect((await get()).status).toBe(401);
    for (const key of [t.read, t.ingest]) {
      const r = await get(key);
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
  });
});
