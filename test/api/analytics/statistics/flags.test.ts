import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';
import { expectError, ingest, mainEvents, windowOf } from './dataset.js';

/** Every route of this part: the seed 000 statistics, their exports, costs (seed 004), _status. */
const ROUTES = [
  '/api/v1/analytics/statistics/usage',
  '/api/v1/analytics/statistics/usage/export.csv',
  '/api/v1/analytics/statistics/usage/export.json',
  '/api/v1/analytics/statistics/cost',
  '/api/v1/analytics/statistics/cost/export.csv',
  '/api/v1/analytics/statistics/cost/export.json',
  '/api/v1/analytics/costs',
  '/api/v1/analytics/_status',
];

describe('ANALYTICS_ENABLED=false', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { ANALYTICS_ENABLED: 'false' } });
    t = await engine.newTenant();
  });
  afterAll(() => engine?.close());

  it('answers 404 on every statistics, costs and status route, as if absent', async () => {
    for (const path of ROUTES) {
      const err = await expectError(await engine.request('GET', path, { key: t.read }), 404, 'NOT_FOUND');
      expect(err.message).toContain(path);
    }
  });
});

describe('ANALYTICS_FREE_TIER=true and a per-key rate limit', () => {
  let engine: TestEngine;
  let free: TestTenant;
  const { D, from, to } = windowOf();
  beforeAll(async () => {
    engine = await startTestEngine({ env: { ANALYTICS_FREE_TIER: 'true', RATE_LIMIT_PER_MINUTE: '10' } });
    free = await engine.newTenant(undefined, 'free');
    await ingest(engine, free, mainEvents(D).events);
  });
  afterAll(() => engine?.close());

  it('lets a free-plan tenant read every route, with its numbers', async () => {
    for (const path of ROUTES) {
      const r = await engine.request('GET', `${path}?${new URLSearchParams({ from, to })}`, { key: free.read });
      expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
    }
    const r = await engine.request('GET', `/api/v1/analytics/statistics/cost?${new URLSearchParams({ from, to })}`, { key: free.admin });
    expect(((await r.json()) as { totals: { spend_usd: number } }).totals.spend_usd).toBe(1.552345679);
  });

  it('answers 429 RATE_LIMITED with Retry-After past the limit, cached answers included', async () => {
    const url = `/api/v1/analytics/statistics/usage?${new URLSearchParams({ from, to })}`;
    // The admin key made one request above; nine more fill its minute.
    for (let i = 0; i < 9; i++) expect((await engine.request('GET', url, { key: free.admin })).status).toBe(200);
    const r = await engine.request('GET', url, { key: free.admin });
    const err = await expectError(r, 429, 'RATE_LIMITED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(err.details).toMatchObject({ retry_after_sec: expect.any(Number) });
  });
});
