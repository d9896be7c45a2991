import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';
import { BUDGETS, createBudget, expect400, getJson, postJson, type BudgetJson } from './dataset.js';

const valid = { name: 'Alpha monthly', scope_type: 'project', scope_value: 'alpha', period: 'month', metric: 'cost', limit: '100.5' };

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`${BUDGETS} CRUD (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
    });
    afterAll(() => engine?.close());

    it('creates, reads, lists, patches and deletes, with exact limits and default thresholds', async () => {
      const created = await createBudget(engine, a, valid);
      expect(created).toMatchObject({ name: 'Alpha monthly', scope_type: 'project', scope_value: 'alpha', period: 'month', metric: 'cost', limit: '100.50', thresholds: [50, 80, 100] });
      expect(created.created_at).toBe(created.updated_at);
      const tokens = await createBudget(engine, a, { name: 'All tokens', scope_type: 'tenant', period: 'week', metric: 'tokens', limit: 1_000_000, thresholds: [25.5, 90, 150] });
      expect(tokens).toMatchObject({ scope_value: null, limit: '1000000', thresholds: [25.5, 90, 150] });
      const nano = await createBudget(engine, a, { name: 'k', scope_type: 'api_key', scope_value: 'key-1', period: 'day', metric: 'cost', limit: 0.000000001 });
      expect(nano.limit).toBe('0.000000001');

      expect(await getJson(engine, a.read, `${BUDGETS}/${created.id}`)).toEqual({ status: 200, body: created });
      const list = await getJson<{ budgets: BudgetJson[] }>(engine, a.read, BUDGETS);
      expect(list.body.budgets.map((x) => x.id)).toEqual([created.id, tokens.id, nano.id]);

      const patched = await postJson<BudgetJson>(engine, a.admin, `${BUDGETS}/${created.id}`, { limit: '250', thresholds: [90] }, 'PATCH');
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ ...valid, limit: '250.00', thresholds: [90] });
      expect(Date.parse(patched.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(created.updated_at));
      // Turning it tenant-wide drops the scope value.
      const wide = await postJson<BudgetJson>(engine, a.admin, `${BUDGETS}/${created.id}`, { scope_type: 'tenant' }, 'PATCH');
      expect(wide.body).toMatchObject({ scope_type: 'tenant', scope_value: null });

      const del = await engine.request('DELETE', `${BUDGETS}/${nano.id}`, { key: a.admin });
      expect(del.status).toBe(204);
      expect((await engine.request('DELETE', `${BUDGETS}/${nano.id}`, { key: a.admin })).status).toBe(404);
      expect((await getJson(engine, a.read, `${BUDGETS}/${nano.id}`)).status).toBe(404);
      expect((await postJson(engine, a.admin, `${BUDGETS}/${nano.id}`, { limit: 1 }, 'PATCH')).status).toBe(404);
      expect((await getJson<{ budgets: BudgetJson[] }>(engine, a.read, BUDGETS)).body.budgets.map((x) => x.id)).toEqual([created.id, tokens.id]);
    });

    it('records budget.created / updated / deleted on the timeline, with who and what changed', async () => {
      const c = await createBudget(engine, a, { ...valid, name: 'timeline', scope_value: 'tl' });
      await postJson(engine, a.admin, `${BUDGETS}/${c.id}`, { limit: '7' }, 'PATCH');
      await engine.request('DELETE', `${BUDGETS}/${c.id}`, { key: a.admin });
      const adminKeyId = (await engine.services.tenants.authenticate(a.admin))!.key.id;
      const { rows } = await engine.services.pg.pool.query(
        'SELECT tenant_id, source_domain, event_type, entity_id, related, summary, data FROM domain_events WHERE entity_id = $1 ORDER BY ts, event_type',
        [c.id],
      );
      expect(rows.map((r) => r.event_type)).toEqual(['budget.created', 'budget.updated', 'budget.deleted']);
      for (const r of rows) {
        expect(r).toMatchObject({ tenant_id: a.id, source_domain: 'budgets', related: { budget_id: c.id, api_key_id: adminKeyId } });
      }
      expect(rows[0].data.budget).toEqual({ name: 'timeline', scope_type: 'project', scope_value: 'tl', period: 'month', metric: 'cost', limit: '100.50', thresholds: [50, 80, 100] });
      expect(rows[1].data).toMatchObject({ changed: ['limit'], before: { limit: '100.50' }, after: { limit: '7.00' } });
      expect(rows[0].summary).toBe('Budget "timeline" created (cost per month on project tl, limit 100.50)');
      // A refused change records nothing.
      const before = (await engine.services.pg.pool.query('SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1', [a.id])).rows[0].n;
      expect((await postJson(engine, a.admin, BUDGETS, { ...valid, limit: -1 })).status).toBe(400);
      expect((await engine.services.pg.pool.query('SELECT count(*)::int AS n FROM domain_events WHERE tenant_id = $1', [a.id])).rows[0].n).toBe(before);
    });

    it('refuses invalid budgets with a 400 naming the field', async () => {
      const cases: [object, string][] = [
        [{ limit: '-5' }, 'limit'],
        [{ limit: -5 }, 'limit'],
        [{ limit: 0 }, 'limit'],
        [{ limit: '0.00' }, 'limit'],
        [{ limit: '1.0000000001' }, 'limit'],
        [{ limit: 'ten' }, 'limit'],
        [{ limit: true }, 'limit'],
        [{ metric: 'tokens', limit: 10.5 }, 'limit'],
        [{ metric: 'requests', limit: '3.2' }, 'limit'],
        [{ scope_type: 'team' }, 'scope_type'],
        [{ scope_value: undefined }, 'scope_value'],
        [{ scope_value: null }, 'scope_value'],
        [{ scope_value: '' }, 'scope_value'],
        [{ scope_type: 'tenant', scope_value: 'alpha' }, 'scope_value'],
        [{ thresholds: [80, 50] }, 'thresholds'],
        [{ thresholds: [50, 50, 100] }, 'thresholds'],
        [{ thresholds: [0, 50] }, 'thresholds'],
        [{ thresholds: [-10] }, 'thresholds'],
        [{ thresholds: [50, 1001] }, 'thresholds'],
        [{ thresholds: [] }, 'thresholds'],
        [{ thresholds: ['50'] }, 'thresholds'],
        [{ period: 'year' }, 'period'],
        [{ metric: 'dollars' }, 'metric'],
        [{ name: '' }, 'name'],
        [{ extra: 1 }, 'extra'],
      ];
      for (const [change, field] of cases) {
        expect400(await postJson(engine, a.admin, BUDGETS, { ...valid, ...change }), field, JSON.stringify(change));
      }
      const { body: missing } = await postJson(engine, a.admin, BUDGETS, { name: 'x', scope_type: 'tenant', period: 'day', metric: 'cost' });
      expect(JSON.stringify(missing)).toContain('limit');

      // A patch is checked against the whole budget it makes.
      const c = await createBudget(engine, a, { ...valid, name: 'patchy', limit: '12.5' });
      expect400(await postJson(engine, a.admin, `${BUDGETS}/${c.id}`, { metric: 'tokens' }, 'PATCH'), 'limit', 'metric tokens with limit 12.5');
      expect400(await postJson(engine, a.admin, `${BUDGETS}/${c.id}`, { scope_value: null }, 'PATCH'), 'scope_value');
      expect400(await postJson(engine, a.admin, `${BUDGETS}/${c.id}`, { thresholds: [100, 80] }, 'PATCH'), 'thresholds');
      expect400(await postJson(engine, a.admin, `${BUDGETS}/${c.id}`, { limit: '-1' }, 'PATCH'), 'limit');
      expect((await postJson(engine, a.admin, `${BUDGETS}/${c.id}`, {}, 'PATCH')).status).toBe(400);
      expect400(await getJson(engine, a.read, `${BUDGETS}/not-a-uuid`), 'id');
      // Nothing changed by the refusals.
      expect((await getJson<BudgetJson>(engine, a.read, `${BUDGETS}/${c.id}`)).body).toEqual(c);
    });

    it("keeps tenants apart: another tenant's budget id is 404 for every verb", async () => {
      const c = await createBudget(engine, a, { ...valid, name: 'private' });
      for (const [method, path, body] of [
        ['GET', `${BUDGETS}/${c.id}`, undefined],
        ['GET', `${BUDGETS}/${c.id}/status`, undefined],
        ['PATCH', `${BUDGETS}/${c.id}`, { limit: '1' }],
        ['DELETE', `${BUDGETS}/${c.id}`, undefined],
      ] as const) {
        const r = await engine.request(method, path, { key: b.admin, body });
        expect(r.status, `${method} ${path}`).toBe(404);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('BUDGET_NOT_FOUND');
      }
      expect((await getJson<{ budgets: unknown[] }>(engine, b.read, BUDGETS)).body.budgets).toEqual([]);
      expect((await getJson<BudgetJson>(engine, a.read, `${BUDGETS}/${c.id}`)).body).toEqual(c);
    });

    it('needs admin to write, read to read; ingest-only keys and no key are refused', async () => {
      const c = await createBudget(engine, a, { ...valid, name: 'scoped' });
      expect((await postJson(engine, a.read, BUDGETS, valid)).status).toBe(403);
      expect((await postJson(engine, a.read, `${BUDGETS}/${c.id}`, { limit: 1 }, 'PATCH')).status).toBe(403);
      expect((await engine.request('DELETE', `${BUDGETS}/${c.id}`, { key: a.read })).status).toBe(403);
      for (const path of [BUDGETS, `${BUDGETS}/${c.id}`, `${BUDGETS}/${c.id}/status`, `${BUDGETS}/check?scope_type=tenant&metric=cost`]) {
        expect((await engine.request('GET', path, { key: a.ingest })).status, path).toBe(403);
        expect((await engine.request('GET', path)).status, path).toBe(401);
        expect((await engine.request('GET', path, { key: a.read })).status, path).toBe(200);
      }
      expect((await postJson(engine, a.ingest, BUDGETS, valid)).status).toBe(403);
    });
  });
}
