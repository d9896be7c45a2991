import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotificationDispatcher } from '../../../src/control/notifications/dispatcher.js';
import { verifySignature } from '../../../src/control/notifications/signing.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';
import { startReceiver, type Receiver } from '../../helpers/webhook-receiver.js';

interface Endpoint {
  id: string;
  url: string;
  event_types: string[];
  enabled: boolean;
  created_at: string;
  secret?: string;
}
interface Delivery {
  id: string;
  event_type: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  payload: unknown;
  delivered_at: string | null;
}
interface ErrorBody {
  error: { code: string; message: string };
}

const ID = '00000000-0000-4000-8000-000000000000';

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`/api/v1/webhooks (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    let receivers: Receiver[] = [];
    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
    });
    afterAll(() => engine?.close());
    afterEach(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      receivers = [];
    });

    const receiver = async (...args: Parameters<typeof startReceiver>) => {
      const r = await startReceiver(...args);
      receivers.push(r);
      return r;
    };
    const create = async (key: string, body: object) => {
      const r = await engine.request('POST', '/api/v1/webhooks', { key, body });
      expect(r.status).toBe(201);
      return (await r.json()) as Endpoint & { secret: string };
    };
    const deliveries = async (key: string, id: string, query = '') => {
      const r = await engine.request('GET', `/api/v1/webhooks/${id}/deliveries${query}`, { key });
      expect(r.status).toBe(200);
      return ((await r.json()) as { deliveries: Delivery[] }).deliveries;
    };
    const error = async (r: Response) => ((await r.json()) as ErrorBody).error;
    const dispatcher = () => new NotificationDispatcher(engine.services.notifications.store, { random: () => 0 });

    it('creates (secret shown once), lists, reads, updates and deletes an endpoint', async () => {
      const created = await create(a.admin, { url: 'https://example.com/hooks/a', event_types: ['budget.exceeded', 'incident.opened', 'budget.exceeded'] });
      expect(created).toMatchObject({ url: 'https://example.com/hooks/a', event_types: ['budget.exceeded', 'incident.opened'], enabled: true });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      expect(Number.isNaN(Date.parse(created.created_at))).toBe(false);

      const list = await engine.request('GET', '/api/v1/webhooks', { key: a.admin });
      expect(list.status).toBe(200);
      const listText = await list.text();
      expect(listText).not.toContain(created.secret);
      const listed = (JSON.parse(listText) as { webhooks: Endpoint[] }).webhooks.find((w) => w.id === created.id);
      expect(listed).toEqual({ id: created.id, url: created.url, event_types: created.event_types, enabled: true, created_at: created.created_at });

      const one = await engine.request('GET', `/api/v1/webhooks/${created.id}`, { key: a.admin });
      expect(one.status).toBe(200);
      expect(await one.json()).toEqual(listed);

      const patched = await engine.request('PATCH', `/api/v1/webhooks/${created.id}`, { key: a.admin, body: { url: 'http://example.org/other', event_types: [], enabled: false } });
      expect(patched.status).toBe(200);
      expect(await patched.json()).toEqual({ ...listed, url: 'http://example.org/other', event_types: [], enabled: false });
      const partly = await engine.request('PATCH', `/api/v1/webhooks/${created.id}`, { key: a.admin, body: { enabled: true } });
      expect(await partly.json()).toEqual({ ...listed, url: 'http://example.org/other', event_types: [], enabled: true });

      expect((await engine.request('DELETE', `/api/v1/webhooks/${created.id}`, { key: a.admin })).status).toBe(204);
      const gone = await engine.request('GET', `/api/v1/webhooks/${created.id}`, { key: a.admin });
      expect(gone.status).toBe(404);
      expect((await error(gone)).code).toBe('WEBHOOK_NOT_FOUND');
      expect((await engine.request('DELETE', `/api/v1/webhooks/${created.id}`, { key: a.admin })).status).toBe(404);
    });

    it('POST /{id}/test queues a webhook.test delivery (whatever the filter) that the log follows to delivered', async () => {
      const r = await receiver();
      const e = await create(a.admin, { url: r.url, event_types: ['budget.exceeded'] });
      const res = await engine.request('POST', `/api/v1/webhooks/${e.id}/test`, { key: a.admin });
      expect(res.status).toBe(202);
      const { delivery_id, status } = (await res.json()) as { delivery_id: string; status: string };
      expect(status).toBe('pending');
      expect(await deliveries(a.admin, e.id)).toEqual([
        expect.objectContaining({ id: delivery_id, event_type: 'webhook.test', status: 'pending', attempts: 0, last_status_code: null, last_error: null, delivered_at: null }),
      ]);

      expect(await dispatcher().deliverDue()).toMatchObject({ delivered: 1 });
      expect(r.requests).toHaveLength(1);
      expect(r.requests[0]!.headers['x-tallyhouse-event']).toBe('webhook.test');
      expect(verifySignature(e.secret, r.requests[0]!.headers['x-tallyhouse-signature'] as string, r.requests[0]!.body, 300)).toBe(true);
      const [d] = await deliveries(a.admin, e.id);
      expect(d).toMatchObject({ id: delivery_id, status: 'delivered', attempts: 1, last_status_code: 200, last_error: null, next_attempt_at: null });
      expect(d!.payload).toMatchObject({ endpoint_id: e.id });
      await engine.request('DELETE', `/api/v1/webhooks/${e.id}`, { key: a.admin });
    });

    it('the delivery log shows failures with status code, error and next attempt, filterable by status', async () => {
      const r = await receiver((n) => (n === 0 ? { status: 200 } : { status: 500, body: 'nope' }));
      const e = await create(a.admin, { url: r.url });
      const t0 = new Date();
      const dsp = dispatcher();
      await dsp.enqueueNotification(a.id, 'incident.opened', { incident_id: 'i-1' }, t0);
      await dsp.deliverDue(t0);
      await dsp.enqueueNotification(a.id, 'incident.resolved', { incident_id: 'i-1' }, new Date(t0.getTime() + 1000));
      await dsp.deliverDue(new Date(t0.getTime() + 1000));

      const log = await deliveries(a.admin, e.id);
      expect(log.map((d) => [d.event_type, d.status, d.attempts, d.last_status_code, d.last_error])).toEqual([
        ['incident.resolved', 'failed', 1, 500, 'HTTP 500: nope'],
        ['incident.opened', 'delivered', 1, 200, null],
      ]);
      expect(Date.parse(log[0]!.next_attempt_at!)).toBeGreaterThanOrEqual(t0.getTime() + 11_000);
      expect(log[1]!.payload).toEqual({ incident_id: 'i-1' });
      expect((await deliveries(a.admin, e.id, '?status=failed')).map((d) => d.event_type)).toEqual(['incident.resolved']);
      expect((await deliveries(a.admin, e.id, '?status=dead'))).toEqual([]);
      expect((await deliveries(a.admin, e.id, '?limit=1')).map((d) => d.event_type)).toEqual(['incident.resolved']);
      await engine.request('DELETE', `/api/v1/webhooks/${e.id}`, { key: a.admin });
    });

    it('a disabled endpoint refuses a test with 409 and receives nothing', async () => {
      const e = await create(a.admin, { url: 'https://example.com/off', enabled: false });
      const res = await engine.request('POST', `/api/v1/webhooks/${e.id}/test`, { key: a.admin });
      expect(res.status).toBe(409);
      expect((await error(res)).code).toBe('WEBHOOK_DISABLED');
      expect(await dispatcher().enqueueNotification(a.id, 'budget.exceeded', {})).toEqual([]);
      expect(await deliveries(a.admin, e.id)).toEqual([]);
      await engine.request('DELETE', `/api/v1/webhooks/${e.id}`, { key: a.admin });
    });

    it('refuses bad input with 400 naming the field', async () => {
      const cases: [string, string, object | string, string][] = [
        ['POST', '/api/v1/webhooks', { url: 'ftp://example.com/x' }, 'url'],
        ['POST', '/api/v1/webhooks', { url: 'javascript:alert(1)' }, 'url'],
        ['POST', '/api/v1/webhooks', { url: 'not a url' }, 'url'],
        ['POST', '/api/v1/webhooks', { url: '' }, 'url'],
        ['POST', '/api/v1/webhooks', {}, 'url'],
        ['POST', '/api/v1/webhooks', { url: `https://example.com/${'a'.repeat(2100)}` }, 'url'],
        ['POST', '/api/v1/webhooks', { url: 'https://example.com', secret: 'mine' }, 'secret'],
        ['POST', '/api/v1/webhooks', { url: 'https://example.com', event_types: ['has space'] }, 'event_types.0'],
        ['POST', '/api/v1/webhooks', { url: 'https://example.com', event_types: 'budget.exceeded' }, 'event_types'],
        ['POST', '/api/v1/webhooks', { url: 'https://example.com', enabled: 'yes' }, 'enabled'],
        ['PATCH', `/api/v1/webhooks/${ID}`, { url: 'gopher://x' }, 'url'],
        ['PATCH', `/api/v1/webhooks/${ID}`, { tenant_id: b.id }, 'tenant_id'],
        ['GET', '/api/v1/webhooks/not-a-uuid', '', 'id'],
        ['GET', `/api/v1/webhooks/${ID}/deliveries?status=lost`, '', 'status'],
        ['GET', `/api/v1/webhooks/${ID}/deliveries?limit=0`, '', 'limit'],
        ['GET', `/api/v1/webhooks/${ID}/deliveries?offset=3`, '', 'offset'],
      ];
      for (const [method, path, body, field] of cases) {
        const r = await engine.request(method, path, { key: a.admin, ...(method === 'GET' ? {} : { body }) });
        expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
        const e = await error(r);
        expect(e.code).toBe('INVALID_REQUEST');
        expect(e.message, `${method} ${path} ${JSON.stringify(body)}`).toContain(field);
      }
    });

    it("another tenant's endpoint is 404 on every route and untouched; its list is empty", async () => {
      const r = await receiver();
      const e = await create(a.admin, { url: r.url });
      expect(((await (await engine.request('GET', '/api/v1/webhooks', { key: b.admin })).json()) as { webhooks: unknown[] }).webhooks).toEqual([]);
      const attempts: [string, string, object?][] = [
        ['GET', `/api/v1/webhooks/${e.id}`],
        ['PATCH', `/api/v1/webhooks/${e.id}`, { url: 'https://attacker.example/steal' }],
        ['DELETE', `/api/v1/webhooks/${e.id}`],
        ['POST', `/api/v1/webhooks/${e.id}/test`],
        ['GET', `/api/v1/webhooks/${e.id}/deliveries`],
      ];
      for (const [method, path, body] of attempts) {
        const res = await engine.request(method, path, { key: b.admin, body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect((await error(res)).code).toBe('WEBHOOK_NOT_FOUND');
      }
      const still = (await (await engine.request('GET', `/api/v1/webhooks/${e.id}`, { key: a.admin })).json()) as Endpoint;
      expect(still.url).toBe(r.url);
      expect(await deliveries(a.admin, e.id)).toEqual([]);
      // b's events never reach a's endpoint
      expect(await dispatcher().enqueueNotification(b.id, 'budget.exceeded', {})).toEqual([]);
      await engine.request('DELETE', `/api/v1/webhooks/${e.id}`, { key: a.admin });
    });

    it('needs the admin scope on every route (read and ingest keys 403, no key 401)', async () => {
      const e = await create(a.admin, { url: 'https://example.com/scoped' });
      const routes: [string, string, object?][] = [
        ['POST', '/api/v1/webhooks', { url: 'https://example.com/x' }],
        ['GET', '/api/v1/webhooks'],
        ['GET', `/api/v1/webhooks/${e.id}`],
        ['PATCH', `/api/v1/webhooks/${e.id}`, { enabled: false }],
        ['DELETE', `/api/v1/webhooks/${e.id}`],
        ['POST', `/api/v1/webhooks/${e.id}/test`],
        ['GET', `/api/v1/webhooks/${e.id}/deliveries`],
      ];
      for (const [method, path, body] of routes) {
        for (const key of [a.read, a.ingest]) {
          const res = await engine.request(method, path, { key, body });
          expect(res.status, `${method} ${path}`).toBe(403);
          expect((await error(res)).code).toBe('FORBIDDEN');
        }
        expect((await engine.request(method, path, { body })).status, `${method} ${path}`).toBe(401);
      }
      const still = (await (await engine.request('GET', `/api/v1/webhooks/${e.id}`, { key: a.admin })).json()) as Endpoint;
      expect(still.enabled).toBe(true);
      expect(await deliveries(a.admin, e.id)).toEqual([]);
      const names = ((await (await engine.request('GET', '/api/v1/webhooks', { key: a.admin })).json()) as { webhooks: Endpoint[] }).webhooks.map((w) => w.url);
      expect(names).toEqual(['https://example.com/scoped']);
    });
  });
}
