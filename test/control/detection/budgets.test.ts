import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBudgets } from '../../../src/control/detection/budgets.js';
import { registeredJobs } from '../../../src/jobs/index.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';
import { HOUR, anomaliesOf, asOf, call, createBudget, ingest } from './dataset.js';

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`detectBudgets: the per-period watermark (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let t: TestTenant;
    let budgetId: string;
    const T = asOf();
    const periodStart = new Date(T - 15 * 24 * HOUR).toISOString();

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      t = await engine.newTenant();
      budgetId = await createBudget(engine, t, { name: 'monthly', scope_type: 'tenant', period: 'month', metric: 'cost', limit: '100' });
    });
    afterAll(() => engine?.close());

    it('40 % fires nothing; 40 % → 100.5 % in one step fires the 100 % breach only; re-running fires nothing new', async () => {
      await ingest(engine, t, [call(T - 2 * HOUR, '40', 'run-1')]);
      expect(await detectBudgets(engine.services, new Date(T))).toMatchObject({ anomalies: 0, incidentsOpened: 0, failed: 0 });
      expect(await anomaliesOf(engine, t.id)).toEqual([]);

      await ingest(engine, t, [call(T - HOUR, '60.5', 'run-2'), call(T - HOUR + 1, '0', 'run-3')]);
      const first = await detectBudgets(engine.services, new Date(T + HOUR));
      expect(first).toMatchObject({ anomalies: 1, incidentsOpened: 1, failed: 0 });
      const rows = await anomaliesOf(engine, t.id);
      expect(rows).toEqual([
        {
          type: 'BUDGET_EXCEEDED',
          severity: 'CRITICAL',
          pct: '100.000000',
          observed: '100.500000000',
          impact: '0.500000000',
          // The newest event carrying a run_id in scope, even a zero-cost one.
          run_id: 'run-3',
          incident_id: expect.any(String),
          dedup_key: `budget:${budgetId}:${periodStart}:100`,
        },
      ]);
      const { rows: inc } = await engine.services.pg.pool.query('SELECT id, key, severity, status, source_run_id FROM incidents WHERE tenant_id = $1', [t.id]);
      expect(inc).toEqual([{ id: rows[0]!.incident_id, key: `budget:${budgetId}`, severity: 'CRITICAL', status: 'open', source_run_id: 'run-3' }]);

      for (const at of [T + HOUR, T + 2 * HOUR]) {
        expect(await detectBudgets(engine.services, new Date(at))).toMatchObject({ anomalies: 0, incidentsOpened: 0, failed: 0 });
      }
      expect(await anomaliesOf(engine, t.id)).toHaveLength(1);
    });

    it('a budget whose thresholds stop below 100 % still fires the breach; tokens budgets carry no USD impact', async () => {
      const u = await engine.newTenant();
      const id = await createBudget(engine, u, { name: 'tokens', scope_type: 'project', scope_value: 'alpha', period: 'month', metric: 'tokens', limit: '200', thresholds: [25] });
      await ingest(engine, u, [call(T - HOUR, '1'), call(T - HOUR, '1')]); // 220 tokens: 110 %
      expect(await detectBudgets(engine.services, new Date(T))).toMatchObject({ anomalies: 1, incidentsOpened: 1, failed: 0 });
      expect(await anomaliesOf(engine, u.id)).toEqual([
        { type: 'BUDGET_EXCEEDED', severity: 'CRITICAL', pct: '100.000000', observed: '220.000000000', impact: '0.000000000', run_id: null, incident_id: expect.any(String), dedup_key: `budget:${id}:${periodStart}:100` },
      ]);
    });

    it('the `detection` job runs every minute and checks the budgets as of its window', async () => {
      const job = registeredJobs().find((j) => j.name === 'detection')!;
      expect(job.everyMs).toBe(60_000);
      const v = await engine.newTenant();
      const id = await createBudget(engine, v, { name: 'daily', scope_type: 'tenant', period: 'day', metric: 'requests', limit: '4' });
      await ingest(engine, v, [call(T - HOUR, '0', 'run-j'), call(T - HOUR, '0', 'run-j')]); // 2 of 4 requests: 50 %
      const windowStart = new Date(T - 30 * 60_000);
      const ctx = { services: engine.services, windowStart, windowEnd: new Date(windowStart.getTime() + 60_000), signal: new AbortController().signal };
      expect(await job.handler(ctx)).toMatchObject({ anomalies: 1, failed: 0 });
      expect(await job.handler(ctx)).toMatchObject({ anomalies: 0, failed: 0 });
      const day = new Date(T - 24 * HOUR).toISOString();
      expect(await anomaliesOf(engine, v.id)).toEqual([
        { type: 'BUDGET_THRESHOLD', severity: 'LOW', pct: '50.000000', observed: '2.000000000', impact: '0.000000000', run_id: 'run-j', incident_id: null, dedup_key: `budget:${id}:${day}:50` },
      ]);
    });
  });
}
