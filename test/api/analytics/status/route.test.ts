import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicTables } from '../../../../src/api/analytics/status/route.js';
import { costQuestions } from '../../../../src/api/analytics/statistics/cost.js';
import { usageQuestions } from '../../../../src/api/analytics/statistics/usage.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';
import { pgModes } from '../../../helpers/pg-modes.js';
import { DAY_GRID_TABLE, expectError, getJson, HOUR_GRID_TABLE, ingest, mainEvents, windowOf } from '../statistics/dataset.js';

const PATH = '/api/v1/analytics/_status';

interface Topic {
  read: boolean;
  write: boolean;
  signals_bound: number;
  tables: string[];
}
interface Status {
  domain: string;
  subdomains: string[];
  topics: { usage: Topic; cost: Topic };
  freshness_sec: number | null;
}

describe('topicTables', () => {
  it('reads the tables of a topic off the planner: day and hour rollups, and raw events', () => {
    for (const tables of [topicTables(usageQuestions), topicTables(costQuestions)]) {
      expect(tables).toContain('events');
      expect(tables.some((t) => DAY_GRID_TABLE.test(t))).toBe(true);
      expect(tables.some((t) => HOUR_GRID_TABLE.test(t))).toBe(true);
      expect(new Set(tables).size).toBe(tables.length);
    }
  });
});

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`GET ${PATH} (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let empty: TestTenant;
    const { recent, events } = mainEvents(windowOf().D);

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      empty = await engine.newTenant();
      await ingest(engine, a, events);
    });
    afterAll(() => engine?.close());

    it('answers the seed 000 shape with the tables bound to each topic and the freshness of the data', async () => {
      const { body } = await getJson<Status>(engine, a.read, PATH);
      expect(body.domain).toBe('analytics');
      expect(body.subdomains).toEqual(['statistics']);
      expect(Object.keys(body.topics)).toEqual(['usage', 'cost']);
      const usage = topicTables(usageQuestions);
      const cost = topicTables(costQuestions);
      expect(body.topics.usage).toEqual({ read: true, write: false, signals_bound: usage.length, tables: usage });
      expect(body.topics.cost).toEqual({ read: true, write: false, signals_bound: cost.length, tables: cost });
      expect(body.freshness_sec).toBeGreaterThanOrEqual(2 * 3600);
      expect(body.freshness_sec).toBeLessThanOrEqual(Math.floor((Date.now() - recent) / 1000));
    });

    it("reports no freshness for a tenant without events, whatever other tenants hold", async () => {
      const { body } = await getJson<Status>(engine, empty.read, PATH);
      expect(body.freshness_sec).toBeNull();
      expect(body.topics.usage.read).toBe(true);
    });

    it('is cached for a minute per tenant', async () => {
      const first = await engine.request('GET', PATH, { key: empty.read });
      expect(first.headers.get('x-cache')).toBe('HIT'); // the previous test asked the same
      const before = engine.services.ch.stats.queries;
      const again = await engine.request('GET', PATH, { key: a.read });
      expect(again.headers.get('x-cache')).toBe('HIT');
      expect(engine.services.ch.stats.queries).toBe(before);
    });

    it('refuses an ingest-only key, a missing key and a free plan', async () => {
      await expectError(await engine.request('GET', PATH, { key: a.ingest }), 403, 'FORBIDDEN');
      await expectError(await engine.request('GET', PATH), 401, 'UNAUTHORIZED');
      const free = await engine.newTenant(undefined, 'free');
      await expectError(await engine.request('GET', PATH, { key: free.read }), 403, 'ANALYTICS_NOT_AVAILABLE');
    });
  });
}
