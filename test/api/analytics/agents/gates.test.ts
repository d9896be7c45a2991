import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';

// The feature flags and the rate limit, each on an engine configured for it (one at a time:
// embedded engines share the process).
const ROUTES = ['usage-summary', 'agent-activity', 'token-trends', 'credential-rotations', 'endpoint-patterns'] as const;
const yesterday = DateTime.utc().startOf('day').minus({ days: 1 });
const EVENTS = [
  { event_id: 'g-1', event_type: 'api.call', ts: yesterday.plus({ hours: 9 }).toISO(), agent_id: 'agent-1', endpoint: '/v1/x', latency_ms: 12 },
  { event_id: 'g-2', event_type: 'credential.rotated', ts: yesterday.plus({ hours: 10 }).toISO(), agent_id: 'agent-1' },
];

async function errorOf(r: Response) {
  return ((await r.json()) as { error: { code: string; message: string } }).error;
}

describe('ANALYTICS_ENABLED=false (and USAGE_RETENTION_DAYS=7)', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { ANALYTICS_ENABLED: 'false', USAGE_RETENTION_DAYS: '7' } });
    t = await engine.newTenant();
    expect((await engine.services.ingest.ingest({ tenantId: t.id, apiKeyId: 'k' }, EVENTS)).accepted).toBe(2);
  });
  afterAll(() => engine?.close());

  it('answers 404 on every analytics route, with or without a key', async () => {
    for (const route of ROUTES) {
      for (const key of [t.read, undefined]) {
        const r = await engine.request('GET', `/api/v1/analytics/${route}`, { key });
        expect(r.status, route).toBe(404);
        expect((await errorOf(r)).code).toBe('NOT_FOUND');
      }
    }
  });

  it('keeps the /usage monitoring routes, whose window defaults to USAGE_RETENTION_DAYS', async () => {
    const r = await engine.request('GET', '/api/v1/usage/summary', { key: t.admin });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { days: number; summary: unknown };
    expect(body.days).toBe(7);
    expect(body.summary).toEqual({}); // the events name no user
    const over = await engine.request('GET', '/api/v1/usage/summary?days=8', { key: t.admin });
    expect(over.status).toBe(400);
    expect((await errorOf(over)).message).toContain('from 1 to 7');
  });
});

describe('ANALYTICS_FREE_TIER=true and RATE_LIMIT_PER_MINUTE=5', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { ANALYTICS_FREE_TIER: 'true', RATE_LIMIT_PER_MINUTE: '5' } });
  });
  afterAll(() => engine?.close());

  it('lets a free-tier tenant use every analytics route', async () => {
    const free = await engine.newTenant(undefined, 'free');
    expect((await engine.services.ingest.ingest({ tenantId: free.id, apiKeyId: 'k' }, EVENTS)).accepted).toBe(2);
    for (const route of ROUTES) {
      const r = await engine.request('GET', `/api/v1/analytics/${route}`, { key: free.read });
      expect(r.status, route).toBe(200);
    }
    const body = (await (await engine.request('GET', '/api/v1/usage/users', { key: free.admin })).json()) as { users: unknown };
    expect(body.users).toEqual({});
  });

  it('answers 429 RATE_LIMITED with Retry-After past the per-key limit, cached answers included', async () => {
    const t = await engine.newTenant();
    for (let i = 0; i < 5; i++) {
      const r = await engine.request('GET', '/api/v1/analytics/usage-summary', { key: t.read });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-cache')).toBe(i === 0 ? 'MISS' : 'HIT');
    }
    const limited = await engine.request('GET', '/api/v1/analytics/token-trends', { key: t.read });
    expect(limited.status).toBe(429);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect((await errorOf(limited)).code).toBe('RATE_LIMITED');
    // The budget is the key's: the same tenant's admin key still gets through, on /usage too.
    expect((await engine.request('GET', '/api/v1/analytics/token-trends', { key: t.admin })).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await engine.request('GET', '/api/v1/usage/summary?days=3', { key: t.admin })).status).toBe(200);
    const usageLimited = await engine.request('GET', '/api/v1/usage/summary?days=3', { key: t.admin });
    expect(usageLimited.status).toBe(429);
    expect(usageLimited.headers.get('retry-after')).toBeTruthy();
  });
});
