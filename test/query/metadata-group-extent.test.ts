import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer } from '../../src/query/execute.js';
import { PlanError, plan, type Question } from '../../src/query/planner.js';
import { startTestEngine, type TestEngine } from '../helpers/engine.js';

// Grouping by a metadata key, first_seen / last_seen, and answers without gap filling: checked
// against a model of the same events.
const DAY = 86_400_000;
const T0 = Date.parse('2026-03-02T00:00:00Z'); // a Monday
const EVENTS = [
  { event_id: 'm1', ts: T0 + 1 * 3_600_000 + 123, event_type: 'dashboard_view', user_id: 'u1', metadata: { dashboard_id: 'd1' } },
  { event_id: 'm2', ts: T0 + 5 * 3_600_000, event_type: 'dashboard_view', user_id: 'u2', metadata: { dashboard_id: 'd1' } },
  { event_id: 'm3', ts: T0 + DAY + 7_000, event_type: 'dashboard_publish', user_id: 'u1', metadata: { dashboard_id: 'd2', adapter: 'web' } },
  { event_id: 'm4', ts: T0 + 2 * DAY + 999, event_type: 'dashboard_view', user_id: 'u1', metadata: { dashboard_id: 'd1' } },
  { event_id: 'm5', ts: T0 + 2 * DAY + 5_000, event_type: 'dashboard_view', user_id: 'u3' }, // no dashboard_id
];

describe('planner: metadata grouping, first/last seen, sparse answers', () => {
  let engine: TestEngine;
  let tenantId: string;
  const q = (over: Partial<Question> & Pick<Question, 'metrics'>): Question => ({
    tenantId,
    dimensions: [],
    tz: 'UTC',
    fromMs: T0,
    toMs: T0 + 3 * DAY,
    filters: [],
    metadata: [],
    ...over,
  });

  beforeAll(async () => {
    engine = await startTestEngine();
    tenantId = (await engine.newTenant()).id;
    const r = await engine.services.ingest.ingest({ tenantId, apiKeyId: 'k' }, EVENTS, T0 + 3 * DAY);
    expect(r.accepted).toBe(EVENTS.length);
  });
  afterAll(() => engine?.close());

  it('groups by a metadata key from raw events, "" where an event lacks it', async () => {
    const a = await answer(engine.services.ch, q({ metrics: ['events', 'unique_users'], dimensions: ['event_type'], metadataGroup: ['dashboard_id'] }), {
      orderBy: { field: 'events', direction: 'desc' },
    });
    expect(a.sources).toEqual(['raw']);
    expect(a.rows).toEqual([
      { dims: { event_type: 'dashboard_view' }, meta: { dashboard_id: 'd1' }, values: { events: 3, unique_users: 2 } },
      { dims: { event_type: 'dashboard_publish' }, meta: { dashboard_id: 'd2' }, values: { events: 1, unique_users: 1 } },
      { dims: { event_type: 'dashboard_view' }, meta: { dashboard_id: '' }, values: { events: 1, unique_users: 1 } },
    ]);
    // A key that is also a metadata filter, and a key nobody sent.
    const both = await answer(engine.services.ch, q({ metrics: ['events'], metadataGroup: ['dashboard_id', 'adapter'], metadata: [{ key: 'dashboard_id', value: 'd2' }] }));
    expect(both.rows).toEqual([{ dims: {}, meta: { dashboard_id: 'd2', adapter: 'web' }, values: { events: 1 } }]);
  });

  it('refuses a metadata grouping on any source but raw', () => {
    const mq = q({ metrics: ['events'], metadataGroup: ['dashboard_id'] });
    for (const source of ['daily', 'hourly', 'actors_daily'] as const) expect(() => plan(mq, source)).toThrow(PlanError);
    expect(plan(mq).additive!.segments.map((s) => s.source)).toEqual(['raw']);
  });

  it('gap-fills every bucket of every metadata group, unless told not to', async () => {
    const mq = q({ metrics: ['events'], metadataGroup: ['dashboard_id'], granularity: 'day', filters: [{ dimension: 'event_type', op: 'eq', values: ['dashboard_view'] }] });
    const filled = await answer(engine.services.ch, mq, { orderBy: { field: 'time', direction: 'asc' } });
    const cell = (r: (typeof filled.rows)[number]) => [new Date(r.bucket!).toISOString().slice(0, 10), r.meta!.dashboard_id, r.values.events];
    expect(filled.rows.map(cell)).toEqual([
      ['2026-03-02', '', 0],
      ['2026-03-02', 'd1', 2],
      ['2026-03-03', '', 0],
      ['2026-03-03', 'd1', 0],
      ['2026-03-04', '', 1],
      ['2026-03-04', 'd1', 1],
    ]);
    const sparse = await answer(engine.services.ch, mq, { fillGaps: false, orderBy: { field: 'time', direction: 'asc' } });
    expect(sparse.rows.map(cell)).toEqual([
      ['2026-03-02', 'd1', 2],
      ['2026-03-04', '', 1],
      ['2026-03-04', 'd1', 1],
    ]);
  });

  it('gives exact first and last event times per group from raw, the counts from a rollup', async () => {
    const a = await answer(engine.services.ch, q({ metrics: ['events', 'first_seen', 'last_seen'], dimensions: ['event_type'] }), {
      orderBy: { field: 'last_seen', direction: 'desc' },
    });
    expect(a.sources).toEqual(expect.arrayContaining(['raw']));
    expect(a.sources.length).toBeGreaterThan(1); // events came from a rollup
    expect(a.rows).toEqual([
      { dims: { event_type: 'dashboard_view' }, values: { events: 4, first_seen: '2026-03-02T01:00:00.123Z', last_seen: '2026-03-04T00:00:05.000Z' } },
      { dims: { event_type: 'dashboard_publish' }, values: { events: 1, first_seen: '2026-03-03T00:00:07.000Z', last_seen: '2026-03-03T00:00:07.000Z' } },
    ]);
    // Same answer forced to raw; the other-row of a top-1 spans the rest.
    const raw = await answer(engine.services.ch, q({ metrics: ['events', 'first_seen', 'last_seen'], dimensions: ['event_type'] }), {
      source: 'raw',
      orderBy: { field: 'last_seen', direction: 'desc' },
    });
    expect(raw.rows).toEqual(a.rows);
    const top = await answer(engine.services.ch, q({ metrics: ['events', 'first_seen', 'last_seen'], dimensions: ['user_id'] }), {
      orderBy: { field: 'events', direction: 'desc' },
      limit: 1,
      other: true,
    });
    expect(top.rows).toEqual([
      { dims: { user_id: 'u1' }, values: { events: 3, first_seen: '2026-03-02T01:00:00.123Z', last_seen: '2026-03-04T00:00:00.999Z' } },
      { dims: {}, values: { events: 2, first_seen: '2026-03-02T05:00:00.000Z', last_seen: '2026-03-04T00:00:05.000Z' }, other: true },
    ]);
    // A bucket without events has no first or last time.
    const days = await answer(engine.services.ch, q({ metrics: ['last_seen'], granularity: 'day', filters: [{ dimension: 'event_type', op: 'eq', values: ['dashboard_publish'] }] }));
    expect(days.rows.map((r) => r.values.last_seen)).toEqual([null, '2026-03-03T00:00:07.000Z', null]);
  });
});
