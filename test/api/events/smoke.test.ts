import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';

describe('POST /api/v1/events (embedded)', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine();
    t = await engine.newTenant();
  });
  afterAll(() => engine.close());

  it('stores a batch and counts a re-sent event once', async () => {
    const body = ndjson([
      { event_id: 'e1', event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, ts: '2026-11-01T10:00:00Z' },
      { event_id: 'e2', event_type: 'api.call', ts: '2026-11-01T10:30:00Z' },
    ]);
    const r1 = await engine.request('POST', '/api/v1/events', { key: t.ingest, body, contentType: 'application/x-ndjson' });
    expect(r1.status).toBe(202);
    expect(await r1.json()).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    const r2 = await engine.request('POST', '/api/v1/events', { key: t.ingest, body, contentType: 'application/x-ndjson' });
    expect(await r2.json()).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
    const rows = await engine.services.ch.query<{ n: string; cost: string }>(
      'SELECT count() AS n, toString(sum(cost_nano)) AS cost FROM events WHERE tenant_id = {t:String}',
      { t: t.id },
    );
    // gpt-4o list price: $2.50 in / $10 out per 1M tokens → 0.0025 + 0.005 = $0.0075
    expect(rows[0]).toEqual({ n: '2', cost: '7500000' });
  });
});
