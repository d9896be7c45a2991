import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';

describe('/api/v1/unit-rates', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine();
    a = await engine.newTenant();
    b = await engine.newTenant();
    await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: 'k' }, [
      { event_id: 'w1', event_type: 'workflow.run', ts: '2026-11-10T10:00:00Z' },
      { event_id: 'w2', event_type: 'workflow.run', ts: '2026-11-10T11:00:00Z' },
      { event_id: 'w3', event_type: 'workflow.run', ts: '2026-11-10T12:00:00Z' },
    ], Date.parse('2026-11-20T00:00:00Z'));
  });
  afterAll(() => engine.close());

  it('sets, lists, replaces and removes a rate; the costs report uses it exactly', async () => {
    const put = await engine.request('PUT', '/api/v1/unit-rates', { key: a.admin, body: { event_type: 'workflow.run', usd_per_event: '0.01' } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ event_type: 'workflow.run', usd_per_event: '0.010000000' });
    const report = await engine.request('GET', '/api/v1/reports/costs?from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z', { key: a.read });
    const services = ((await report.json()) as { services: { service_type: string; estimated_cost_usd: string | null }[] }).services;
    expect(services.find((s) => s.service_type === 'workflow.run')?.estimated_cost_usd).toMatch(/^0\.030*$/);
    await engine.request('PUT', '/api/v1/unit-rates', { key: a.admin, body: { event_type: 'workflow.run', usd_per_event: '0.123456789' } });
    const list = (await (await engine.request('GET', '/api/v1/unit-rates', { key: a.admin })).json()) as { rates: { usd_per_event: string }[] };
    expect(list.rates.map((r) => r.usd_per_event)).toEqual(['0.123456789']);
    expect((await engine.request('DELETE', '/api/v1/unit-rates/workflow.run', { key: a.admin })).status).toBe(204);
    expect((await engine.request('DELETE', '/api/v1/unit-rates/workflow.run', { key: a.admin })).status).toBe(404);
  });

  it('refuses bad amounts naming the field', async () => {
    for (const usd of ['-1', '0.1234567891', '1e3', 'abc', '']) {
      const r = await engine.request('PUT', '/api/v1/unit-rates', { key: a.admin, body: { event_type: 'x', usd_per_event: usd } });
      expect(r.status, usd).toBe(400);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain('usd_per_event');
    }
  });

  it("keeps tenants apart and needs the admin scope", async () => {
    await engine.request('PUT', '/api/v1/unit-rates', { key: a.admin, body: { event_type: 'api.call', usd_per_event: '0.5' } });
    const other = (await (await engine.request('GET', '/api/v1/unit-rates', { key: b.admin })).json()) as { rates: unknown[] };
    expect(other.rates).toEqual([]);
    expect((await engine.request('DELETE', '/api/v1/unit-rates/api.call', { key: b.admin })).status).toBe(404);
    expect((await engine.request('GET', '/api/v1/unit-rates', { key: a.read })).status).toBe(403);
    expect((await engine.request('PUT', '/api/v1/unit-rates', { key: a.ingest, body: { event_type: 'api.call', usd_per_event: '1' } })).status).toBe(403);
    expect((await engine.request('GET', '/api/v1/unit-rates')).status).toBe(401);
  });
});
