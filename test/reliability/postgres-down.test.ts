import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_DATABASE_URL, serverPostgresAvailable, startTestEngine, type TestEngine, type TestTenant } from '../helpers/engine.js';
import { freePort, TcpProxy, until } from './fault-helpers.js';

// The engine reaches the real Postgres through a TCP proxy of this test's own: cutting the proxy
// severs every engine connection and refuses new ones (Postgres "down" for this engine only);
// reopening it on the same port brings Postgres back.
const pgUp = await serverPostgresAvailable();
const HOUR = 3_600_000;
const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const STATS = `/api/v1/analytics/statistics/usage?from=${new Date(base - 86_400_000).toISOString()}&to=${new Date(base + 4 * HOUR).toISOString()}&resolution=day`;

interface ErrorBody {
  error: { code: string; message: string; details?: { store?: string; retry_after_sec?: number } };
}

describe.skipIf(!pgUp)('Postgres connection severed and restored (server mode)', () => {
  let proxy: TcpProxy;
  let engine: TestEngine;
  let t: TestTenant;
  let schema: string;
  let unusedKey: string;
  let revokedKey: string;
  let sent = 0;

  const ingest = async (n: number, key = t.ingest) => {
    const events = Array.from({ length: n }, () => ({ event_id: `pg-fault-${++sent}`, event_type: 'fault.pg', ts: new Date(base + 1000 * sent).toISOString() }));
    return engine.request('POST', '/api/v1/events', { key, body: events });
  };
  const expect503 = async (r: Response) => {
    const body = (await r.json()) as ErrorBody;
    expect(r.status, JSON.stringify(body)).toBe(503);
    expect(body.error.code).toBe('STORE_UNAVAILABLE');
    expect(body.error.details?.store).toBe('postgres');
    expect(r.headers.get('retry-after')).toBe('5');
    expect(body.error.message).not.toMatch(/127\.0\.0\.1|ECONN|terminated/); // the store's name, not its address
  };
  const readyz = async () => {
    const r = await engine.request('GET', '/readyz');
    return { status: r.status, body: (await r.json()) as { status: string; stores: Record<string, { ok: boolean; error?: string }> } };
  };

  beforeAll(async () => {
    schema = `t_pgfault_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: SERVER_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const target = new URL(SERVER_DATABASE_URL);
    proxy = new TcpProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
    await proxy.open();
    const url = new URL(SERVER_DATABASE_URL);
    url.port = String(proxy.port);
    url.searchParams.set('options', `-c search_path=${schema}`);
    engine = await startTestEngine({ env: { DATABASE_URL: url.toString() } });
    t = await engine.newTenant();
    unusedKey = (await engine.services.tenants.createKey({ tenantId: t.id, scopes: ['ingest'] })).key;
    revokedKey = (await engine.services.tenants.createKey({ tenantId: t.id, scopes: ['ingest'] })).key;
  }, 60_000);
  afterAll(async () => {
    await proxy?.open().catch(() => {});
    await engine?.close();
    await proxy?.cut();
    const admin = new pg.Client({ connectionString: SERVER_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('with Postgres up: keys verify, ingest and control-plane routes work', async () => {
    expect((await ingest(4)).status).toBe(202);
    expect((await ingest(1, revokedKey)).status).toBe(202);
    expect((await engine.request('GET', STATS, { key: t.read })).status).toBe(200);
    expect((await engine.request('GET', '/api/v1/budgets', { key: t.admin })).status).toBe(200);
    // Revoked in this process while Postgres is up: known revoked from now on.
    const prefix = revokedKey.slice(0, 11);
    expect((await engine.request('DELETE', `/api/v1/keys/${(await engine.services.tenants.listKeys(t.id)).find((k) => k.prefix === prefix)!.id}`, { key: t.admin })).status).toBe(200);
    expect((await readyz()).status).toBe(200);
  });

  it('with Postgres cut: verified keys keep ingesting and reading; control plane and unverified keys get 503 STORE_UNAVAILABLE', async () => {
    await proxy.cut();
    const ready = await readyz();
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', stores: { postgres: { ok: false }, clickhouse: { ok: true } } });

    // Past the 10 s fresh-cache window too: the key cache serves recent verifications while Postgres errors.
    const now = Date.now();
    const realNow = Date.now;
    Date.now = () => realNow() + 60_000;
    try {
      const r = await ingest(6);
      expect(r.status, await r.clone().text()).toBe(202);
      expect(await r.json()).toMatchObject({ accepted: 6, duplicates: 0 });
      // A window not asked before (the 5-minute response cache holds the earlier one).
      const s = await engine.request('GET', `${STATS}&tz=UTC`, { key: t.read });
      expect(s.status, await s.clone().text()).toBe(200);
      expect(s.headers.get('x-cache')).toBe('MISS');
      expect(((await s.json()) as { totals: { requests: number } }).totals.requests).toBe(11);

      // Control plane lives in Postgres: 503, not an empty list.
      await expect503(await engine.request('GET', '/api/v1/budgets', { key: t.admin }));
      await expect503(await engine.request('GET', '/api/v1/keys', { key: t.admin }));
      await expect503(await engine.request('POST', '/api/v1/keys', { key: t.admin, body: { scopes: ['read'] } }));
      // A transaction (withTransaction) that cannot reach Postgres says so too.
      const budget = { name: 'during outage', scope_type: 'project', scope_value: 'alpha', period: 'month', metric: 'cost', limit: '10' };
      await expect503(await engine.request('POST', '/api/v1/budgets', { key: t.admin, body: budget }));
      // A key never verified by this process cannot be checked: 503 (not 401, the key may be fine).
      await expect503(await ingest(1, unusedKey));
      // A key this process saw revoked is never served from the cache.
      const revoked = await ingest(1, revokedKey);
      expect([401, 503]).toContain(revoked.status);
      expect(revoked.status).not.toBe(202);
    } finally {
      Date.now = realNow;
    }
    expect(Date.now() - now).toBeLessThan(15_000); // nothing hung on the dead connection
  });

  it('with Postgres restored: readyz, control plane and new keys work again; nothing acknowledged was lost', async () => {
    await proxy.open();
    await until(async () => (await readyz()).status === 200, 15_000, 'readyz 200');
    const budgets = await engine.request('GET', '/api/v1/budgets', { key: t.admin });
    expect(budgets.status).toBe(200);
    expect(((await budgets.json()) as { budgets: unknown[] }).budgets).toEqual([]); // the refused create left nothing
    expect((await ingest(1, unusedKey)).status).toBe(202);
    expect((await ingest(1, revokedKey)).status).toBe(401);
    const s = await engine.request('GET', `${STATS}&tz=Etc/UTC`, { key: t.read });
    expect(((await s.json()) as { totals: { requests: number } }).totals.requests).toBe(12);
  });

  it('with the engine\'s backends terminated by Postgres (pg_terminate_backend): the pool drops them and the next requests succeed', async () => {
    // Warm the pool so there are idle connections to kill.
    await Promise.all([1, 2, 3].map(() => engine.request('GET', '/api/v1/budgets', { key: t.admin })));
    const ports = proxy.upstreamPorts();
    expect(ports.length).toBeGreaterThanOrEqual(1);
    const admin = new pg.Client({ connectionString: SERVER_DATABASE_URL });
    await admin.connect();
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_port = ANY($1::int[])) x', [ports]);
    await admin.end();
    expect(rows[0].n).toBe(ports.length);
    await until(() => proxy.upstreamPorts().every((p) => !ports.includes(p)), 5000, 'terminated connections closed');
    // The pool notices (pool.on('error') for idle clients) and drops them rather than lending
    // them out. A request racing that notice can still get one 503 (no statement is retried
    // blindly: a write may have run); what must not happen is broken clients staying pooled.
    await until(() => engine.services.pg.pool.totalCount === 0, 5000, 'terminated clients dropped from the pool');
    for (let i = 0; i < 3; i++) {
      const r = await engine.request('GET', '/api/v1/budgets', { key: t.admin });
      expect(r.status, `${i}: ${await r.text()}`).toBe(200);
    }
    expect((await readyz()).status).toBe(200);
  });
});
