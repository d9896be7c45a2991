import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';
import { pgModes } from '../../../helpers/pg-modes.js';
import { expectError, getJson, ingest, ingestKey, mainEvents, windowOf } from '../statistics/dataset.js';

const PATH = '/api/v1/analytics/costs';

type Row = Record<string, unknown>;
interface Costs {
  window: { from: string; to: string };
  group_by: string;
  filters: { api_key_id: string | null; policy_id: string | null };
  totals: Row;
  rows: Row[];
  signals: { sources: string[]; freshness_sec: number | null };
}

const money = (usd: number, cents: number) => ({ spend_usd: usd, spend_cents: cents });
const W_TOTALS = { ...money(1.552345679, 155.2345679), requests: 8, input_tokens: 1310, output_tokens: 155 };

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`GET ${PATH} (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    let keyId: string;
    let keyPrefix: string;
    const { D, from, to } = windowOf();
    const { events } = mainEvents(D);
    const W = { from, to };

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
      await ingest(engine, a, events);
      const k = await ingestKey(engine, a);
      keyId = k.id;
      keyPrefix = k.prefix;
    });
    afterAll(() => engine?.close());

    const costs = async (key: string, query: Record<string, string>) => (await getJson<Costs>(engine, key, PATH, query)).body;

    it('breaks spend down by model by default, sorted by spend, with exact money and pct_of_total', async () => {
      const body = await costs(a.read, W);
      expect(body.window).toEqual({ from: from.replace('.000Z', 'Z'), to: to.replace('.000Z', 'Z') });
      expect(body.group_by).toBe('model');
      expect(body.filters).toEqual({ api_key_id: null, policy_id: null });
      expect(body.totals).toEqual(W_TOTALS);
      expect(body.rows).toEqual([
        { model: 'm-small', ...money(1.500000001, 150.0000001), requests: 4, input_tokens: 1010, output_tokens: 5, pct_of_total: 96.63 },
        { model: 'm-big', ...money(0.052345678, 5.2345678), requests: 3, input_tokens: 300, output_tokens: 150, pct_of_total: 3.37 },
        { model: null, ...money(0, 0), requests: 1, input_tokens: 0, output_tokens: 0, pct_of_total: 0 },
      ]);
      expect(body.signals.sources).not.toContain('events');
    });

    it('groups by feature, user, api key, project, provider and run', async () => {
      const pick = (rows: Row[], field: string) => rows.map((r) => [r[field], r.spend_usd, r.requests, r.pct_of_total]);
      const feature = await costs(a.read, { ...W, group_by: 'feature' });
      expect(pick(feature.rows, 'feature_tag')).toEqual([
        ['chat', 1.512345678, 4, 97.42],
        ['untagged', 0.04, 3, 2.58],
        ['search', 0.000000001, 1, 0],
      ]);
      const user = await costs(a.read, { ...W, group_by: 'user' });
      expect(user.totals).toEqual(W_TOTALS);
      expect(pick(user.rows, 'user_id')).toEqual([
        [null, 1.5, 3, 96.63],
        ['u2', 0.04, 2, 2.58],
        ['u1', 0.012345679, 2, 0.8],
        ['u3', 0, 1, 0],
      ]);
      const key = await costs(a.read, { ...W, group_by: 'api_key' });
      expect(key.rows).toEqual([
        { api_key_id: keyId, key_name: null, key_prefix: keyPrefix, ...money(1.500000001, 150.0000001), requests: 5, input_tokens: 1010, output_tokens: 5, pct_of_total: 96.63 },
        { api_key_id: 'key-x', key_name: null, key_prefix: null, ...money(0.052345678, 5.2345678), requests: 3, input_tokens: 300, output_tokens: 150, pct_of_total: 3.37 },
      ]);
      const project = await costs(a.read, { ...W, group_by: 'project' });
      expect(pick(project.rows, 'project')).toEqual([
        ['p1', 1.552345678, 6, 100],
        ['p2', 0.000000001, 2, 0],
      ]);
      const provider = await costs(a.read, { ...W, group_by: 'provider' });
      expect(pick(provider.rows, 'provider')).toEqual([
        [null, 1.5, 4, 96.63],
        ['openai', 0.052345678, 3, 3.37],
        ['anthropic', 0.000000001, 1, 0],
      ]);
      // run_id is not in the rollups: raw events answer.
      const run = await costs(a.read, { ...W, group_by: 'run' });
      expect(run.rows).toEqual([
        { run_id: 'run-2', ...money(1.5, 150), requests: 3, input_tokens: 1000, output_tokens: 0, pct_of_total: 96.63 },
        { run_id: 'run-1', ...money(0.052345678, 5.2345678), requests: 3, input_tokens: 300, output_tokens: 150, pct_of_total: 3.37 },
        { run_id: null, ...money(0.000000001, 0.0000001), requests: 2, input_tokens: 10, output_tokens: 5, pct_of_total: 0 },
      ]);
      expect(run.signals.sources).toEqual(['events']);
      for (const r of [feature, user, key, project, provider, run]) expect(r.totals).toEqual(W_TOTALS);
    });

    it('counts only one API key with api_key_id (seed 004)', async () => {
      const x = await costs(a.read, { ...W, api_key_id: 'key-x' });
      expect(x.filters).toEqual({ api_key_id: 'key-x', policy_id: null });
      expect(x.totals).toEqual({ ...money(0.052345678, 5.2345678), requests: 3, input_tokens: 300, output_tokens: 150 });
      expect(x.rows).toEqual([{ model: 'm-big', ...money(0.052345678, 5.2345678), requests: 3, input_tokens: 300, output_tokens: 150, pct_of_total: 100 }]);
      const own = await costs(a.read, { ...W, api_key_id: keyId, group_by: 'project' });
      expect(own.rows.map((r) => [r.project, r.spend_usd, r.requests])).toEqual([
        ['p1', 1.5, 3],
        ['p2', 0.000000001, 2],
      ]);
      const none = await costs(a.read, { ...W, api_key_id: 'no-such-key' });
      expect(none.rows).toEqual([]);
      expect(none.totals).toEqual({ ...money(0, 0), requests: 0, input_tokens: 0, output_tokens: 0 });
    });

    it('counts only the events of one policy with policy_id, from raw events', async () => {
      const body = await costs(a.read, { ...W, policy_id: 'pol-1' });
      expect(body.filters).toEqual({ api_key_id: null, policy_id: 'pol-1' });
      expect(body.totals).toEqual({ ...money(1.54, 154), requests: 5, input_tokens: 1200, output_tokens: 100 });
      expect(body.rows.map((r) => [r.model, r.spend_usd, r.pct_of_total])).toEqual([
        ['m-small', 1.5, 97.4],
        ['m-big', 0.04, 2.6],
      ]);
      expect(body.signals.sources).toEqual(['events']);
      const both = await costs(a.read, { ...W, policy_id: 'pol-1', api_key_id: 'key-x', group_by: 'user' });
      expect(both.rows.map((r) => [r.user_id, r.spend_usd])).toEqual([['u2', 0.04]]);
    });

    it('answers 404 INCIDENT_NOT_FOUND for an incident_id the tenant does not have', async () => {
      for (const id of ['inc-1', '00000000-0000-0000-0000-000000000000']) {
        const err = await expectError(await engine.request('GET', `${PATH}?${new URLSearchParams({ ...W, incident_id: id })}`, { key: a.read }), 404, 'INCIDENT_NOT_FOUND');
        expect(err.details).toEqual({ field: 'incident_id' });
      }
    });

    it('cuts rows at limit into an `other` row', async () => {
      const body = await costs(a.read, { ...W, group_by: 'user', limit: '2' });
      expect(body.rows.map((r) => [r.user_id, r.spend_usd, r.requests, r.other])).toEqual([
        [null, 1.5, 3, undefined],
        ['u2', 0.04, 2, undefined],
        [null, 0.012345679, 3, true],
      ]);
    });

    it('answers 400 for bad parameters, naming them', async () => {
      await expectError(await engine.request('GET', `${PATH}?${new URLSearchParams({ from: to, to: from })}`, { key: a.read }), 400, 'INVALID_DATE_RANGE');
      for (const [query, field] of [
        [{ group_by: 'colour' }, 'group_by'],
        [{ group_by: 'model; DROP TABLE events' }, 'group_by'],
        [{ api_key_id: '' }, 'api_key_id'],
        [{ limit: '0' }, 'limit'],
        [{ from: 'last week' }, 'from'],
      ] as const) {
        const err = await expectError(await engine.request('GET', `${PATH}?${new URLSearchParams(query)}`, { key: a.read }), 400, 'INVALID_REQUEST');
        expect(err.message).toContain(field);
      }
    });

    it('caches, isolates tenants and refuses ingest-only keys and free plans', async () => {
      const q = `${PATH}?${new URLSearchParams({ ...W, group_by: 'provider', limit: '9' })}`;
      expect((await engine.request('GET', q, { key: a.read })).headers.get('x-cache')).toBe('MISS');
      const before = engine.services.ch.stats.queries;
      expect((await engine.request('GET', q, { key: a.read })).headers.get('x-cache')).toBe('HIT');
      expect(engine.services.ch.stats.queries).toBe(before);

      const other = await costs(b.read, W);
      expect(other.rows).toEqual([]);
      expect(other.totals).toEqual({ ...money(0, 0), requests: 0, input_tokens: 0, output_tokens: 0 });
      expect(other.signals.freshness_sec).toBeNull();
      expect((await costs(b.read, { ...W, api_key_id: 'key-x' })).rows).toEqual([]);

      await expectError(await engine.request('GET', PATH, { key: a.ingest }), 403, 'FORBIDDEN');
      const free = await engine.newTenant(undefined, 'free');
      await expectError(await engine.request('GET', PATH, { key: free.read }), 403, 'ANALYTICS_NOT_AVAILABLE');
    });
  });
}
