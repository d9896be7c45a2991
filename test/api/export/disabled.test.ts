import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { expectError } from './exports.js';

const WINDOW = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() };

describe('exports with ANALYTICS_ENABLED=false', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { ANALYTICS_ENABLED: 'false' } });
    t = await engine.newTenant();
  });
  afterAll(() => engine?.close());

  it('both export routes are absent (404), as every analytics route', async () => {
    await expectError(await engine.request('GET', `/api/v1/export/events?${new URLSearchParams(WINDOW)}`, { key: t.read }), 404, 'NOT_FOUND');
    await expectError(
      await engine.request('POST', '/api/v1/analytics/query/export?format=csv', { key: t.read, body: { ...WINDOW, metrics: ['events'] } }),
      404,
      'NOT_FOUND',
    );
  });
});
