import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  user_id: string | null;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

const KEY_SHAPE = /^th_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function expectError(r: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await r.json()) as ErrorBody;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBeTruthy();
  return body.error;
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`/api/v1/keys (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
    });
    afterAll(() => engine?.close());

    const list = async (key: string) => {
      const r = await engine.request('GET', '/api/v1/keys', { key });
      const text = await r.text();
      expect(r.status, text).toBe(200);
      return { text, keys: (JSON.parse(text) as { keys: ApiKey[] }).keys };
    };
    const create = (key: string, body: string | object) => engine.request('POST', '/api/v1/keys', { key, body });
    const revoke = (key: string | undefined, id: string) => engine.request('DELETE', `/api/v1/keys/${id}`, { key });
    const ingest = (key: string) => engine.request('POST', '/api/v1/events', { key, body: [{ event_type: 'keys.test' }] });

    describe('GET /api/v1/keys', () => {
      it("lists the tenant's keys with their prefix and never a secret", async () => {
        const { text, keys } = await list(a.admin);
        const byPrefix = (secret: string) => keys.find((k) => k.prefix === secret.slice(0, 11))?.scopes;
        expect([byPrefix(a.admin), byPrefix(a.ingest), byPrefix(a.read)]).toEqual([['admin'], ['ingest'], ['read']]);
        for (const k of keys) {
          expect(Object.keys(k).sort()).toEqual(['created_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'scopes', 'user_id']);
          expect(k.id).toMatch(UUID);
          expect(k.prefix).toMatch(/^th_[A-Za-z0-9_-]{8}$/);
          expect(k.revoked_at).toBeNull();
          expect(Number.isNaN(Date.parse(k.created_at))).toBe(false);
        }
        for (const secret of [a.admin, a.ingest, a.read]) expect(text).not.toContain(secret.slice(12));
        expect(text).not.toMatch(/key_hash|"key"|secret/);
      });

      it('records last_used_at once a key has been used', async () => {
        const { key, info } = await engine.services.tenants.createKey({ tenantId: a.id, scopes: ['ingest'], name: 'touch' });
        expect((await list(a.admin)).keys.find((k) => k.id === info.id)!.last_used_at).toBeNull();
        expect((await ingest(key)).status).toBe(202);
        await vi.waitFor(
          async () => {
            const used = (await list(a.admin)).keys.find((k) => k.id === info.id)!;
            expect(used.last_used_at).not.toBeNull();
          },
          { timeout: 5000, interval: 50 },
        );
      });

      it("does not list another tenant's keys", async () => {
        const { keys } = await list(b.admin);
        const prefixes = keys.map((k) => k.prefix);
        for (const secret of [a.admin, a.ingest, a.read]) expect(prefixes).not.toContain(secret.slice(0, 11));
        expect(keys.map((k) => k.prefix).sort()).toEqual([b.admin, b.ingest, b.read].map((s) => s.slice(0, 11)).sort());
      });
    });

    describe('POST /api/v1/keys', () => {
      it('creates a key whose secret is shown once and works for its scopes', async () => {
        const r = await create(a.admin, { name: 'ci ingest', scopes: ['ingest'], user_id: 'svc-ci' });
        expect(r.status).toBe(201);
        const body = (await r.json()) as { key: string; api_key: ApiKey };
        expect(body.key).toMatch(KEY_SHAPE);
        expect(body.api_key).toMatchObject({ name: 'ci ingest', scopes: ['ingest'], user_id: 'svc-ci', revoked_at: null, last_used_at: null });
        expect(body.api_key.prefix).toBe(body.key.slice(0, 11));
        expect(body.api_key.id).toMatch(UUID);

        // It works, within its scope only.
        expect((await ingest(body.key)).status).toBe(202);
        await expectError(await engine.request('GET', '/api/v1/keys', { key: body.key }), 403, 'FORBIDDEN');

        // Listed by prefix; the secret is not shown again.
        const { text, keys } = await list(a.admin);
        expect(keys.filter((k) => k.id === body.api_key.id)).toHaveLength(1);
        expect(text).not.toContain(body.key.slice(12));
      });

      it('stores only a hash of the secret', async () => {
        const body = (await (await create(a.admin, { scopes: ['read'] })).json()) as { key: string; api_key: ApiKey };
        const { rows } = await engine.services.pg.pool.query('SELECT * FROM api_keys WHERE id = $1', [body.api_key.id]);
        expect(JSON.stringify(rows[0])).not.toContain(body.key.slice(12));
        expect(rows[0].key_hash).toMatch(/^[0-9a-f]{64}$/);
      });

      it('defaults the name, dedups scopes, and creates admin and multi-scope keys', async () => {
        const r = await create(a.admin, { scopes: ['read', 'ingest', 'read'] });
        expect(r.status).toBe(201);
        const body = (await r.json()) as { key: string; api_key: ApiKey };
        expect(body.api_key.name).toBe('');
        expect(body.api_key.scopes.sort()).toEqual(['ingest', 'read']);
        expect(body.api_key.user_id).toBeNull();
        expect((await ingest(body.key)).status).toBe(202);

        const admin = (await (await create(a.admin, { scopes: ['admin'] })).json()) as { key: string };
        expect((await engine.request('GET', '/api/v1/keys', { key: admin.key })).status).toBe(200);
      });

      it('creates the key in the caller tenant, whatever the body says', async () => {
        const err = await expectError(await create(a.admin, { scopes: ['admin'], tenant_id: b.id }), 400, 'INVALID_REQUEST');
        expect(err.message).toContain('tenant_id');
        const ok = (await (await create(a.admin, { scopes: ['ingest'], name: 'mine' })).json()) as { key: string; api_key: ApiKey };
        expect((await engine.services.tenants.authenticate(ok.key))!.tenant.id).toBe(a.id);
        expect((await list(b.admin)).keys.map((k) => k.id)).not.toContain(ok.api_key.id);
      });

      it('answers 400 naming the field for invalid scopes and bad bodies', async () => {
        const cases: [unknown, string][] = [
          [{ scopes: ['write'] }, 'scopes.0'],
          [{ scopes: ['ingest', 'superuser'] }, 'scopes.1'],
          [{ scopes: [] }, 'scopes'],
          [{ scopes: 'admin' }, 'scopes'],
          [{ name: 'no scopes' }, 'scopes'],
          [{ scopes: ['read'], name: 'n'.repeat(201) }, 'name'],
          [{ scopes: ['read'], user_id: '' }, 'user_id'],
          [{ scopes: ['read'], user_id: 'u'.repeat(257) }, 'user_id'],
          [{ scopes: ['read'], user_id: 'line\nbreak' }, 'user_id'],
          [{ scopes: ['read'], expires: 'never' }, 'expires'],
        ];
        const before = (await list(a.admin)).keys.length;
        for (const [body, field] of cases) {
          const err = await expectError(await create(a.admin, body as object), 400, 'INVALID_REQUEST');
          expect(err.message, JSON.stringify(body)).toContain(`"${field}"`);
        }
        await expectError(await create(a.admin, '{"scopes":'), 400, 'INVALID_REQUEST');
        await expectError(await engine.request('POST', '/api/v1/keys', { key: a.admin, body: 'scopes=read', contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect((await list(a.admin)).keys.length).toBe(before);
      });
    });

    describe('DELETE /api/v1/keys/{id}', () => {
      it('revokes a key: it gets 401 at once and the list shows when', async () => {
        const created = (await (await create(a.admin, { scopes: ['ingest'], name: 'to revoke' })).json()) as { key: string; api_key: ApiKey };
        expect((await ingest(created.key)).status).toBe(202);

        const r = await revoke(a.admin, created.api_key.id);
        expect(r.status).toBe(200);
        const revoked = ((await r.json()) as { api_key: ApiKey }).api_key;
        expect(revoked).toMatchObject({ id: created.api_key.id, name: 'to revoke', prefix: created.api_key.prefix });
        expect(revoked.revoked_at).not.toBeNull();

        const err = await expectError(await ingest(created.key), 401, 'UNAUTHORIZED');
        expect(err.message).toContain('revoked');
        expect((await list(a.admin)).keys.find((k) => k.id === created.api_key.id)!.revoked_at).toBe(revoked.revoked_at);

        // Revoking again changes nothing.
        const again = await revoke(a.admin, created.api_key.id);
        expect(again.status).toBe(200);
        expect(((await again.json()) as { api_key: ApiKey }).api_key.revoked_at).toBe(revoked.revoked_at);
      });

      it('lets an admin key revoke itself', async () => {
        const admin = (await (await create(a.admin, { scopes: ['admin'] })).json()) as { key: string; api_key: ApiKey };
        expect((await revoke(admin.key, admin.api_key.id)).status).toBe(200);
        await expectError(await engine.request('GET', '/api/v1/keys', { key: admin.key }), 401, 'UNAUTHORIZED');
      });

      it("answers 404 for another tenant's key and leaves it working", async () => {
        const victim = (await (await create(a.admin, { scopes: ['ingest'] })).json()) as { key: string; api_key: ApiKey };
        const err = await expectError(await revoke(b.admin, victim.api_key.id), 404, 'KEY_NOT_FOUND');
        expect(err.message).not.toContain(victim.api_key.prefix);
        expect((await ingest(victim.key)).status).toBe(202);
        expect((await list(a.admin)).keys.find((k) => k.id === victim.api_key.id)!.revoked_at).toBeNull();
      });

      it('answers 404 for an unknown id and 400 for an id that is not a UUID', async () => {
        await expectError(await revoke(a.admin, '00000000-0000-4000-8000-000000000000'), 404, 'KEY_NOT_FOUND');
        const prefix = a.ingest.slice(0, 11);
        const err = await expectError(await revoke(a.admin, prefix), 400, 'INVALID_REQUEST');
        expect(err.message).toContain('"id"');
        // Revoke by prefix is a CLI convenience, not an API one: the key still works.
        expect((await ingest(a.ingest)).status).toBe(202);
        await expectError(await revoke(a.admin, "x' OR '1'='1"), 400, 'INVALID_REQUEST');
      });
    });

    describe('scopes and authentication', () => {
      it('answers 403 FORBIDDEN to read and ingest keys on every keys route', async () => {
        const target = (await list(a.admin)).keys[0]!.id;
        for (const key of [a.read, a.ingest]) {
          for (const r of [
            await engine.request('GET', '/api/v1/keys', { key }),
            await create(key, { scopes: ['admin'] }),
            await revoke(key, target),
          ]) {
            const err = await expectError(r, 403, 'FORBIDDEN');
            expect(err.message).toContain('admin');
            expect(err.details).toMatchObject({ required: 'admin' });
          }
        }
        expect((await list(a.admin)).keys.find((k) => k.id === target)!.revoked_at).toBeNull();
      });

      it('answers 401 UNAUTHORIZED without a valid key, before validating anything', async () => {
        await expectError(await engine.request('GET', '/api/v1/keys'), 401, 'UNAUTHORIZED');
        await expectError(await engine.request('POST', '/api/v1/keys', { body: { scopes: ['nope'] } }), 401, 'UNAUTHORIZED');
        await expectError(await revoke(undefined, 'not-a-uuid'), 401, 'UNAUTHORIZED');
        await expectError(await engine.request('GET', '/api/v1/keys', { key: `th_AAAAAAAA_${'A'.repeat(43)}` }), 401, 'UNAUTHORIZED');
      });
    });
  });
}
