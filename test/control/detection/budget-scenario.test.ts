import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectBudgets } from '../../../src/control/detection/budgets.js';
import { SIGNATURE_HEADER, verifySignature } from '../../../src/control/notifications/signing.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';
import { startReceiver, type Receiver } from '../../helpers/webhook-receiver.js';
import { HOUR, anomaliesOf, asOf, call, createBudget, ingest } from './dataset.js';

type Row = Record<string, unknown>;
interface Delivered {
  type: string;
  data: { anomaly?: Row; incident?: Row };
}

/**
 * Issue 4, first acceptance bullet: budget → anomalies → incident → signed webhooks →
 * resolution → MTTR, linked to the run whose spend crossed the limit. A 100 USD monthly budget;
 * spend arrives through the API in three steps (55, +30, +20.000000001 USD) and detection runs
 * after each, as the every-minute job would.
 */
for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`budget scenario: 50 → 80 → 100 % to a resolved incident (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let receiver: Receiver;
    let t: TestTenant;
    let other: TestTenant;
    let budgetId: string;
    let secret: string;
    const T = asOf();

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      receiver = await startReceiver();
      t = await engine.newTenant();
      other = await engine.newTenant();
      budgetId = await createBudget(engine, t, { name: 'monthly spend', scope_type: 'tenant', period: 'month', metric: 'cost', limit: '100' });
      const w = await engine.request('POST', '/api/v1/webhooks', { key: t.admin, body: { url: receiver.url } });
      expect(w.status, await w.clone().text()).toBe(201);
      secret = ((await w.json()) as { secret: string }).secret;
    });
    afterAll(async () => {
      await engine?.close();
      await receiver?.close();
    });

    const received = () => receiver.requests.map((r) => JSON.parse(r.body) as Delivered);
    const summaryOf = (d: Delivered) => `${d.type}:${d.data.anomaly?.type ?? ''}:${d.data.anomaly?.threshold_pct ?? ''}`;
    const detect = async (atMs: number) => {
      const s = await detectBudgets(engine.services, new Date(atMs));
      await engine.services.notifications.deliverDue(new Date());
      return s;
    };

    it('runs the loop', async () => {
      // Step 1: 55 % → the 50 % threshold, and the forecast (55 USD in half a month) exceeds the limit.
      await ingest(engine, t, [call(T - 20 * 60_000, '30', 'run-s1'), call(T - 10 * 60_000, '25', 'run-s1')]);
      expect(await detect(T)).toMatchObject({ anomalies: 2, incidentsOpened: 0, failed: 0 });
      expect(received().map(summaryOf).sort()).toEqual(['anomaly.detected:BUDGET_FORECAST_EXCEEDED:', 'anomaly.detected:BUDGET_THRESHOLD:50']);

      // Step 2: 85 % → 80 %.
      await ingest(engine, t, [call(T + HOUR - 10 * 60_000, '30', 'run-s2')]);
      expect(await detect(T + HOUR)).toMatchObject({ anomalies: 1, incidentsOpened: 0 });
      expect(received()).toHaveLength(3);

      // Step 3: 105.000000001 % → the breach, which opens the incident; run-s3 sent the last spend.
      await ingest(engine, t, [call(T + 2 * HOUR - 10 * 60_000, '12.5', 'run-s3'), call(T + 2 * HOUR - 5 * 60_000, '7.500000001', 'run-s3')]);
      expect(await detect(T + 2 * HOUR)).toMatchObject({ anomalies: 1, incidentsOpened: 1 });
      // Once more at the end: nothing new anywhere.
      expect(await detect(T + 3 * HOUR)).toMatchObject({ anomalies: 0, incidentsOpened: 0, failed: 0 });

      const anomalies = await anomaliesOf(engine, t.id);
      const thresholds = anomalies.filter((a) => a.type !== 'BUDGET_FORECAST_EXCEEDED');
      expect(thresholds.map((a) => [a.type, a.severity, a.pct, a.observed, a.impact, a.run_id])).toEqual([
        ['BUDGET_THRESHOLD', 'LOW', '50.000000', '55.000000000', '0.000000000', 'run-s1'],
        ['BUDGET_THRESHOLD', 'MEDIUM', '80.000000', '85.000000000', '0.000000000', 'run-s2'],
        ['BUDGET_EXCEEDED', 'CRITICAL', '100.000000', '105.000000001', '5.000000001', 'run-s3'],
      ]);
      expect(anomalies.filter((a) => a.type === 'BUDGET_FORECAST_EXCEEDED')).toMatchObject([{ severity: 'MEDIUM', pct: null, incident_id: null, run_id: 'run-s1' }]);
      expect(thresholds.map((a) => a.incident_id === null)).toEqual([true, true, false]);

      const { rows: incidents } = await engine.services.pg.pool.query('SELECT id, key, severity, status, source_run_id, opened_at FROM incidents WHERE tenant_id = $1', [t.id]);
      expect(incidents).toHaveLength(1);
      const incident = incidents[0] as { id: string; key: string; severity: string; status: string; source_run_id: string; opened_at: Date };
      expect(incident).toMatchObject({ id: thresholds[2]!.incident_id, key: `budget:${budgetId}`, severity: 'CRITICAL', status: 'open', source_run_id: 'run-s3' });
      expect(incident.opened_at.getTime()).toBe(T + 2 * HOUR);

      // Every delivery arrived, signed with the endpoint's secret.
      expect(received().map(summaryOf).sort()).toEqual([
        'anomaly.detected:BUDGET_EXCEEDED:100',
        'anomaly.detected:BUDGET_FORECAST_EXCEEDED:',
        'anomaly.detected:BUDGET_THRESHOLD:50',
        'anomaly.detected:BUDGET_THRESHOLD:80',
        'incident.opened:BUDGET_EXCEEDED:100',
      ]);
      const opened = received().find((d) => d.type === 'incident.opened')!;
      expect(opened.data.incident).toMatchObject({ id: incident.id, source_run_id: 'run-s3', status: 'open' });
      expect(opened.data.anomaly).toMatchObject({ type: 'BUDGET_EXCEEDED', incident_id: incident.id, impact_usd: '5.000000001' });

      // Resolved through the API → MTTR counts it; the resolution is delivered too.
      const res = await engine.request('POST', `/api/v1/incidents/${incident.id}/resolve`, { key: t.admin, body: { note: 'raised the limit' } });
      expect(res.status, await res.clone().text()).toBe(200);
      const resolved = (await res.json()) as { status: string; resolved_at: string };
      expect(resolved.status).toBe('resolved');
      await engine.services.notifications.deliverDue(new Date());
      expect(received().filter((d) => d.type === 'incident.resolved').map((d) => d.data.incident?.id)).toEqual([incident.id]);
      for (const r of receiver.requests) {
        expect(verifySignature(secret, r.headers[SIGNATURE_HEADER.toLowerCase()] as string, r.body, 300)).toBe(true);
        expect(verifySignature(`${secret}x`, r.headers[SIGNATURE_HEADER.toLowerCase()] as string, r.body, 300)).toBe(false);
      }
      expect(receiver.requests).toHaveLength(6);

      const mttrSec = (Date.parse(resolved.resolved_at) - (T + 2 * HOUR)) / 1000;
      const mttr = await engine.request('GET', '/api/v1/reports/mttr', { key: t.read });
      expect(mttr.status).toBe(200);
      expect(await mttr.json()).toMatchObject({ count: 1, mean_sec: mttrSec, median_sec: mttrSec, p95_sec: mttrSec, by_severity: { CRITICAL: { count: 1 } } });

      // The run that caused the spend links to the incident and to its exact cost.
      const runIncidents = await engine.request('GET', '/api/v1/runs/run-s3/incidents', { key: t.read });
      expect(runIncidents.status).toBe(200);
      expect(((await runIncidents.json()) as { incidents: Row[] }).incidents.map((i) => [i.id, i.status])).toEqual([[incident.id, 'resolved']]);
      const cost = await engine.request('GET', '/api/v1/runs/run-s3/cost', { key: t.read });
      expect(cost.status).toBe(200);
      expect(await cost.json()).toMatchObject({ run_id: 'run-s3', spend_usd: 20.000000001, spend_cents: 2000.0000001, requests: 2, input_tokens: 200, output_tokens: 20, events: 2 });

      // Another tenant sees none of it.
      expect((await engine.request('GET', '/api/v1/runs/run-s3/incidents', { key: other.read })).status).toBe(404);
      expect(await (await engine.request('GET', '/api/v1/reports/mttr', { key: other.read })).json()).toMatchObject({ count: 0 });
    });
  });
}
