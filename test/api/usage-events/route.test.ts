import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';

const PATH = '/api/v1/usage/events';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

interface StoredUsage {
  event_id: string;
  tenant_id: string;
  event_type: string;
  user_id: string;
  api_key_id: string;
  source: string;
  metadata: Record<string, string>;
}

let seq = 0;
/** An event_type unique to this run: the route takes no event_id, so tests find their rows by type. */
const type = (p = 'usage') => `${p}.${++seq}.${Math.random().toString(36).slice(2, 8)}`;

async function rowsOfType(engine: TestEngine, tenantId: string, eventType: string): Promise<StoredUsage[]> {
  return engine.services.ch.query<StoredUsage>(
    `SELECT event_id, tenant_id, event_type, user_id, api_key_id, source, metadata
     FROM events WHERE tenant_id = {t:String} AND event_type = {type:String}`,
    { t: tenantId, type: eventType },
  );
}

/** The same type in any tenant: proves a refused or foreign event landed nowhere. */
async function anywhere(engine: TestEngine, eventType: string): Promise<number> {
  const rows = await engine.services.ch.query<{ n: string }>('SELECT count() AS n FROM events WHERE event_type = {type:String}', { type: eventType });
  return Number(rows[0]!.n);
}

async function expectError(r: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await r.json()) as ErrorBody;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBeTruthy();
  return body.error;
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`POST ${PATH} (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    /** An ingest key of tenant a that acts for a user. */
    let userKey: { key: string; id: string };
    let ingestKeyId: string;
    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
      const k = await engine.services.tenants.createKey({ tenantId: a.id, scopes: ['ingest'], userId: 'user-42' });
      userKey = { key: k.key, id: k.info.id };
      ingestKeyId = (await engine.services.tenants.authenticate(a.ingest))!.key.id;
    });
    afterAll(() => engine?.close());

    const send = (key: string | undefined, body: string | object, contentType?: string) => engine.request('POST', PATH, { key, body, contentType });

    describe('happy path', () => {
      it('answers 202 {"status":"accepted"} and stores the event under the key tenant and user', async () => {
        const t = type();
        const r = await send(userKey.key, { event_type: t, metadata: { dashboard_id: 'd-1', query: 'top users' }, source: 'web' });
        expect(r.status).toBe(202);
        expect(await r.json()).toEqual({ status: 'accepted' });
        const rows = await rowsOfType(engine, a.id, t);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({
          tenant_id: a.id,
          event_type: t,
          user_id: 'user-42',
          api_key_id: userKey.id,
          source: 'web',
          metadata: { dashboard_id: 'd-1', query: 'top users' },
        });
        expect(rows[0]!.event_id).toMatch(/^[0-9a-f-]{36}$/);
      });

      it('uses the key id as the user when the key has no user', async () => {
        const t = type();
        const r = await send(a.ingest, { event_type: t, metadata: {} });
        expect(r.status).toBe(202);
        expect((await rowsOfType(engine, a.id, t))[0]).toMatchObject({ user_id: ingestKeyId, api_key_id: ingestKeyId, source: '' });
      });

      it('takes metadata as optional (stored empty)', async () => {
        const t = type();
        expect((await send(a.ingest, { event_type: t })).status).toBe(202);
        expect((await rowsOfType(engine, a.id, t))[0]!.metadata).toEqual({});
      });

      it('stores each post as its own event (no event_id, nothing deduplicated)', async () => {
        const t = type();
        for (let i = 0; i < 3; i++) expect((await send(a.ingest, { event_type: t, metadata: { same: 'yes' } })).status).toBe(202);
        const rows = await rowsOfType(engine, a.id, t);
        expect(rows).toHaveLength(3);
        expect(new Set(rows.map((r) => r.event_id)).size).toBe(3);
      });

      it('accepts an admin key (admin implies ingest)', async () => {
        const t = type();
        expect((await send(a.admin, { event_type: t })).status).toBe(202);
        expect(await rowsOfType(engine, a.id, t)).toHaveLength(1);
      });
    });

    describe('bad requests: 400 naming the field, nothing stored', () => {
      async function refused(body: string | object, status: number, code: string, contentType?: string) {
        const err = await expectError(await send(a.ingest, body, contentType), status, code);
        if (typeof body === 'object' && typeof (body as { event_type?: unknown }).event_type === 'string') {
          expect(await anywhere(engine, (body as { event_type: string }).event_type)).toBe(0);
        }
        return err;
      }

      it('rejects a missing or empty event_type', async () => {
        const missing = await refused({ metadata: { a: 'b' } }, 400, 'INVALID_REQUEST');
        expect(missing.message).toContain('"event_type"');
        expect(missing.details).toMatchObject({ issues: [{ path: 'event_type' }] });
        const empty = await refused({ event_type: '' }, 400, 'INVALID_REQUEST');
        expect(empty.message).toContain('"event_type"');
        expect(empty.message).toContain('empty');
      });

      it('rejects wrong types', async () => {
        expect((await refused({ event_type: 7 }, 400, 'INVALID_REQUEST')).message).toContain('"event_type"');
        expect((await refused({ event_type: type(), metadata: 'x' }, 400, 'INVALID_REQUEST')).message).toContain('"metadata"');
        expect((await refused({ event_type: type(), source: 1 }, 400, 'INVALID_REQUEST')).message).toContain('"source"');
      });

      it('rejects non-string metadata values, naming the key', async () => {
        for (const v of [1, true, null, { nested: 'x' }, ['a']]) {
          const err = await refused({ event_type: type(), metadata: { count: v } }, 400, 'INVALID_REQUEST');
          expect(err.message).toContain('"metadata.count"');
          expect(err.message).toContain('expected string');
        }
      });

      it('rejects unknown fields, including a user_id or tenant_id that would spoof the key', async () => {
        for (const field of ['user_id', 'tenant_id', 'userId', 'evnt_type']) {
          const t = type();
          const err = await refused({ event_type: t, metadata: {}, [field]: b.id }, 400, 'INVALID_REQUEST');
          expect(err.message).toContain(field);
          expect(await anywhere(engine, t)).toBe(0);
        }
      });

      it('rejects control characters and over-long values', async () => {
        expect((await refused({ event_type: 'a\nb' }, 400, 'INVALID_REQUEST')).message).toContain('control characters');
        expect((await refused({ event_type: type(), metadata: { k: 'a\u0000b' } }, 400, 'INVALID_REQUEST')).message).toContain('"metadata.k"');
        expect((await refused({ event_type: 'x'.repeat(129) }, 400, 'INVALID_REQUEST')).message).toContain('128');
        const longKey = await refused({ event_type: type(), metadata: { ['k'.repeat(129)]: 'v' } }, 400, 'INVALID_REQUEST');
        expect(longKey.message).toContain('128');
        expect((await refused({ event_type: type(), metadata: { k: 'v'.repeat(4097) } }, 400, 'INVALID_REQUEST')).message).toContain('4096');
      });

      it('rejects huge metadata (over 64 keys or 16 KiB) and a "__proto__" key', async () => {
        const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
        const tooMany = await refused({ event_type: type(), metadata: many }, 400, 'INVALID_VALUE');
        expect(tooMany.message).toContain('64');
        expect(tooMany.details).toEqual({ path: 'metadata' });
        const big = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`k${i}`, 'v'.repeat(4000)]));
        const tooBig = await refused({ event_type: type(), metadata: big }, 400, 'METADATA_TOO_LARGE');
        expect(tooBig.message).toContain('16384');
        const t = type();
        const proto = await refused(`{"event_type":"${t}","metadata":{"__proto__":"v","a":"b"}}`, 400, 'INVALID_REQUEST');
        expect(proto.message).toContain('__proto__');
        expect(await anywhere(engine, t)).toBe(0);
      });

      it('rejects a body that is not a JSON object', async () => {
        const malformed = await refused('{"event_type":', 400, 'INVALID_REQUEST');
        expect(malformed.message).toMatch(/JSON/);
        await refused('[{"event_type":"x"}]', 400, 'INVALID_REQUEST');
        await refused('"x"', 400, 'INVALID_REQUEST');
      });

      it('answers 415 for a body that is not JSON', async () => {
        const err = await refused(JSON.stringify({ event_type: 'x' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain');
        expect(err.message.length).toBeGreaterThan(0);
        await refused('{"event_type":"x"}', 415, 'UNSUPPORTED_MEDIA_TYPE', 'application/x-ndjson');
      });
    });

    describe('security', () => {
      it('answers 401 without a key, with a malformed key and with a revoked key', async () => {
        const t = type();
        const none = await send(undefined, { event_type: t });
        expect(none.headers.get('www-authenticate')).toBe('Bearer');
        await expectError(none, 401, 'UNAUTHORIZED');
        await expectError(await send('th_nope', { event_type: t }), 401, 'UNAUTHORIZED');
        const { key, info } = await engine.services.tenants.createKey({ tenantId: a.id, scopes: ['ingest'], userId: 'soon-gone' });
        expect((await send(key, { event_type: t })).status).toBe(202);
        await engine.services.tenants.revokeKey(info.id, a.id);
        await expectError(await send(key, { event_type: t }), 401, 'UNAUTHORIZED');
        expect(await anywhere(engine, t)).toBe(1);
      });

      it('answers 403 FORBIDDEN for a read-only key', async () => {
        const t = type();
        const err = await expectError(await send(a.read, { event_type: t }), 403, 'FORBIDDEN');
        expect(err.message).toContain('ingest');
        expect(await anywhere(engine, t)).toBe(0);
      });

      it('checks the key before the body', async () => {
        await expectError(await send(undefined, '{bad'), 401, 'UNAUTHORIZED');
        await expectError(await send(a.read, { nope: 1 }), 403, 'FORBIDDEN');
        await expectError(await send(undefined, 'x', 'text/plain'), 401, 'UNAUTHORIZED');
      });

      it("stores under the key's tenant only", async () => {
        const t = type();
        expect((await send(b.ingest, { event_type: t })).status).toBe(202);
        expect(await rowsOfType(engine, a.id, t)).toEqual([]);
        expect(await rowsOfType(engine, b.id, t)).toHaveLength(1);
      });
    });
  });
}
