import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotificationDispatcher, type DispatcherOptions } from '../../../src/control/notifications/dispatcher.js';
import { generateWebhookSecret, verifySignature } from '../../../src/control/notifications/signing.js';
import type { WebhookDelivery, WebhookStore } from '../../../src/control/notifications/store.js';
import { startServer } from '../../../src/server.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';
import { deadUrl, startReceiver, type Receiver } from '../../helpers/webhook-receiver.js';

const SEC = 1000;

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`webhook dispatcher (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let store: WebhookStore;
    let receivers: Receiver[] = [];
    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode, env: { WEBHOOK_POLL_MS: '50' } });
      store = engine.services.notifications.store;
    });
    afterAll(() => engine?.close());
    afterEach(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      receivers = [];
      // Each test starts with no endpoints, so a run never sends another test's leftovers.
      await engine.services.pg.pool.query('DELETE FROM webhook_endpoints');
    });

    const receiver = async (...a: Parameters<typeof startReceiver>) => {
      const r = await startReceiver(...a);
      receivers.push(r);
      return r;
    };
    const dispatcher = (o: Partial<DispatcherOptions> = {}) => new NotificationDispatcher(store, { random: () => 0, timeoutMs: 2 * SEC, ...o });
    const endpoint = async (t: TestTenant, url: string, o: { eventTypes?: string[]; enabled?: boolean } = {}) => {
      const secret = generateWebhookSecret();
      const e = await store.createEndpoint(t.id, { url, eventTypes: o.eventTypes ?? [], enabled: o.enabled ?? true, secret });
      return { ...e, secret };
    };
    const log = async (t: TestTenant, endpointId: string): Promise<WebhookDelivery[]> => store.listDeliveries(t.id, endpointId, { limit: 100 });
    const after = (t0: Date, ms: number) => new Date(t0.getTime() + ms);

    it('delivers a signed notification: verifySignature accepts it, a tampered body fails', async () => {
      const t = await engine.newTenant();
      const r = await receiver();
      const e = await endpoint(t, r.url);
      const t0 = new Date();
      const payload = { budget_id: 'b-1', threshold_pct: 80, spent_usd: '12.500000000' };
      const ids = await dispatcher().enqueueNotification(t.id, 'budget.threshold_crossed', payload, t0);
      expect(ids).toHaveLength(1);
      expect(await dispatcher().deliverDue(t0)).toEqual({ attempted: 1, delivered: 1, retrying: 0, dead: 0 });

      expect(r.requests).toHaveLength(1);
      const [req] = r.requests;
      expect(req!.headers['content-type']).toBe('application/json');
      expect(req!.headers['x-tallyhouse-event']).toBe('budget.threshold_crossed');
      expect(req!.headers['x-tallyhouse-delivery']).toBe(ids[0]);
      const sig = req!.headers['x-tallyhouse-signature'] as string;
      expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifySignature(e.secret, sig, req!.body, 300)).toBe(true);
      expect(verifySignature(e.secret, sig, req!.body.replace('12.5', '99.5'), 300)).toBe(false);
      expect(verifySignature(generateWebhookSecret(), sig, req!.body, 300)).toBe(false);
      expect(JSON.parse(req!.body)).toEqual({ id: ids[0], type: 'budget.threshold_crossed', created_at: t0.toISOString(), tenant_id: t.id, data: payload });

      const [d] = await log(t, e.id);
      expect(d).toMatchObject({ id: ids[0], status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
      expect(Date.parse(d!.deliveredAt!)).toBeGreaterThanOrEqual(t0.getTime());
      // delivered once: a later run sends nothing
      expect((await dispatcher().deliverDue(after(t0, 3600 * SEC))).attempted).toBe(0);
      expect(r.requests).toHaveLength(1);
    });

    it('retries a 500 after the backoff and ends delivered with attempts 2, same id and body', async () => {
      const t = await engine.newTenant();
      const r = await receiver((n) => (n === 0 ? { status: 500, body: 'boom: database down' } : { status: 204 }));
      const e = await endpoint(t, r.url);
      const t0 = new Date();
      await dispatcher().enqueueNotification(t.id, 'incident.opened', { incident_id: 'i-1' }, t0);

      expect(await dispatcher().deliverDue(t0)).toEqual({ attempted: 1, delivered: 0, retrying: 1, dead: 0 });
      let [d] = await log(t, e.id);
      expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500: boom: database down' });
      // first retry 10 s after the attempt (jitter pinned to 0), measured from the fake now
      const wait = Date.parse(d!.nextAttemptAt!) - t0.getTime();
      expect(wait).toBeGreaterThanOrEqual(10 * SEC);
      expect(wait).toBeLessThan(12 * SEC);

      expect((await dispatcher().deliverDue(after(t0, 5 * SEC))).attempted).toBe(0); // not due yet
      expect(r.requests).toHaveLength(1);
      expect(await dispatcher().deliverDue(after(t0, 15 * SEC))).toEqual({ attempted: 1, delivered: 1, retrying: 0, dead: 0 });
      [d] = await log(t, e.id);
      expect(d).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null });
      expect(r.requests).toHaveLength(2);
      expect(r.requests[1]!.headers['x-tallyhouse-delivery']).toBe(r.requests[0]!.headers['x-tallyhouse-delivery']);
      expect(r.requests[1]!.body).toBe(r.requests[0]!.body);
      expect(verifySignature(e.secret, r.requests[1]!.headers['x-tallyhouse-signature'] as string, r.requests[1]!.body, 300)).toBe(true);
    });

    it('a receiver that never answers times out and is retried, while another endpoint gets its delivery promptly', async () => {
      const t = await engine.newTenant();
      const hang = await receiver(() => 'hang');
      const good = await receiver();
      const h = await endpoint(t, hang.url);
      const g = await endpoint(t, good.url);
      const timeoutMs = 1500;
      const dsp = dispatcher({ timeoutMs });
      const t0 = new Date();
      await dsp.enqueueNotification(t.id, 'anomaly.detected', { anomaly_id: 'a-1' }, t0);

      const started = performance.now();
      const run1 = dsp.deliverDue(t0);
      // While the hanging send holds its slot, a fresh notification to the good endpoint still
      // goes out on the next run, which settles before the first one does.
      await waitFor(async () => (await log(t, g.id))[0]?.status === 'delivered');
      await store.enqueueForEndpoint(t.id, g.id, 'anomaly.detected', '{"anomaly_id":"a-2"}', t0);
      const run2 = await dsp.deliverDue(t0);
      const run2Done = performance.now();
      expect(run2).toEqual({ attempted: 1, delivered: 1, retrying: 0, dead: 0 });
      expect(good.requests).toHaveLength(2);
      expect(good.requests[0]!.at - started).toBeLessThan(timeoutMs / 2);
      expect(run2Done - started).toBeLessThan(timeoutMs);

      expect(await run1).toEqual({ attempted: 2, delivered: 1, retrying: 1, dead: 0 });
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(timeoutMs - 50);
      expect(took).toBeLessThan(timeoutMs + 1500);
      expect(hang.requests).toHaveLength(1);
      const [hd] = await log(t, h.id);
      expect(hd).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null, lastError: `timed out after ${timeoutMs} ms` });

      expect(await dsp.deliverDue(after(t0, 20 * SEC))).toEqual({ attempted: 1, delivered: 0, retrying: 1, dead: 0 });
      expect(hang.requests).toHaveLength(2);
      expect((await log(t, h.id))[0]).toMatchObject({ status: 'failed', attempts: 2 });
      expect((await log(t, g.id)).map((d) => d.status)).toEqual(['delivered', 'delivered']);
    });

    it('a dead endpoint ends dead after N attempts with backoff 10 s, 20 s, … and is then left alone', async () => {
      const t = await engine.newTenant();
      const e = await endpoint(t, await deadUrl());
      const dsp = dispatcher({ maxAttempts: 4 });
      const t0 = new Date();
      await dsp.enqueueNotification(t.id, 'budget.exceeded', { budget_id: 'b-9' }, t0);
      let now = t0;
      const waits: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        expect(await dsp.deliverDue(now)).toEqual({ attempted: 1, delivered: 0, retrying: 1, dead: 0 });
        const [d] = await log(t, e.id);
        expect(d).toMatchObject({ status: 'failed', attempts: attempt, lastStatusCode: null });
        expect(d!.lastError).toContain('ECONNREFUSED');
        waits.push(Date.parse(d!.nextAttemptAt!) - now.getTime());
        now = new Date(Date.parse(d!.nextAttemptAt!));
      }
      // doubling from 10 s (a little more for the time the attempt itself took)
      waits.forEach((w, i) => {
        expect(w).toBeGreaterThanOrEqual(10 * SEC * 2 ** i);
        expect(w).toBeLessThan(10 * SEC * 2 ** i + 2 * SEC);
      });
      expect(await dsp.deliverDue(now)).toEqual({ attempted: 1, delivered: 0, retrying: 0, dead: 1 });
      expect((await log(t, e.id))[0]).toMatchObject({ status: 'dead', attempts: 4, nextAttemptAt: null });
      expect((await dsp.deliverDue(after(now, 24 * 3600 * SEC))).attempted).toBe(0);
    });

    it('sends each event only to the enabled endpoints of its tenant whose filter admits it', async () => {
      const t = await engine.newTenant();
      const other = await engine.newTenant();
      const [onlyBudget, all, onlyIncident, disabled, otherTenant] = await Promise.all([receiver(), receiver(), receiver(), receiver(), receiver()]);
      await endpoint(t, onlyBudget!.url, { eventTypes: ['budget.exceeded'] });
      await endpoint(t, all!.url);
      await endpoint(t, onlyIncident!.url, { eventTypes: ['incident.opened', 'incident.resolved'] });
      await endpoint(t, disabled!.url, { enabled: false });
      await endpoint(other, otherTenant!.url);
      const dsp = dispatcher();
      const t0 = new Date();
      expect(await dsp.enqueueNotification(t.id, 'budget.exceeded', { n: 1 }, t0)).toHaveLength(2);
      expect(await dsp.enqueueNotification(t.id, 'incident.opened', { n: 2 }, t0)).toHaveLength(2);
      expect(await dsp.enqueueNotification(t.id, 'anomaly.detected', { n: 3 }, t0)).toHaveLength(1);
      expect(await dsp.deliverDue(t0)).toEqual({ attempted: 5, delivered: 5, retrying: 0, dead: 0 });
      const types = (r: Receiver) => r.requests.map((q) => q.headers['x-tallyhouse-event']).sort();
      expect(types(onlyBudget!)).toEqual(['budget.exceeded']);
      expect(types(all!)).toEqual(['anomaly.detected', 'budget.exceeded', 'incident.opened']);
      expect(types(onlyIncident!)).toEqual(['incident.opened']);
      expect(disabled!.requests).toHaveLength(0);
      expect(otherTenant!.requests).toHaveLength(0);
      for (const q of all!.requests) expect(JSON.parse(q.body).tenant_id).toBe(t.id);
    });

    it("enqueues inside the caller's transaction: a rollback leaves no delivery, a commit one", async () => {
      const t = await engine.newTenant();
      const e = await endpoint(t, 'https://example.com/tx');
      const dsp = dispatcher();
      for (const end of ['ROLLBACK', 'COMMIT']) {
        const client = await engine.services.pg.pool.connect();
        try {
          await client.query('BEGIN');
          expect(await dsp.enqueueNotification(t.id, 'incident.opened', { end }, new Date(), client)).toHaveLength(1);
          await client.query(end);
        } finally {
          client.release();
        }
      }
      expect((await log(t, e.id)).map((d) => d.payload)).toEqual([{ end: 'COMMIT' }]);
    });

    it('nothing a receiver does escapes deliverDue: dropped sockets, redirects and huge error bodies are recorded', async () => {
      const t = await engine.newTenant();
      const target = await receiver();
      const drop = await receiver(() => 'destroy');
      const redirect = await receiver(() => ({ status: 302, headers: { location: target.url } }));
      const huge = await receiver(() => ({ status: 503, body: 'x'.repeat(100_000) }));
      const ends = await Promise.all([endpoint(t, drop.url), endpoint(t, redirect.url), endpoint(t, huge.url)]);
      const dsp = dispatcher();
      const t0 = new Date();
      await dsp.enqueueNotification(t.id, 'incident.opened', { incident_id: 'i-2' }, t0);
      expect(await dsp.deliverDue(t0)).toEqual({ attempted: 3, delivered: 0, retrying: 3, dead: 0 });
      const [dropped, redirected, errored] = (await Promise.all(ends.map(async (e) => (await log(t, e.id))[0]))) as WebhookDelivery[];
      expect(dropped).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
      expect(dropped!.lastError).toMatch(/fetch failed|socket|terminated/i);
      expect(redirected).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 302, lastError: 'HTTP 302' });
      expect(target.requests).toHaveLength(0); // a signed payload never follows a redirect
      expect(errored).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 503, lastError: `HTTP 503: ${'x'.repeat(300)}` });
    });

    it('the engine polls while the server runs and stops with it', async () => {
      const t = await engine.newTenant();
      const r = await receiver();
      const server = await startServer(engine.services, 0, '127.0.0.1');
      let stopped = false;
      try {
        const created = await fetch(`${server.url}/api/v1/webhooks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: r.url }),
        });
        expect(created.status).toBe(201);
        const { id, secret } = (await created.json()) as { id: string; secret: string };
        const test = await fetch(`${server.url}/api/v1/webhooks/${id}/test`, { method: 'POST', headers: { authorization: `Bearer ${t.admin}` } });
        expect(test.status).toBe(202);
        const { delivery_id } = (await test.json()) as { delivery_id: string };
        await waitFor(() => r.requests.length === 1, 5 * SEC);
        expect(r.requests[0]!.headers['x-tallyhouse-event']).toBe('webhook.test');
        expect(r.requests[0]!.headers['x-tallyhouse-delivery']).toBe(delivery_id);
        expect(verifySignature(secret, r.requests[0]!.headers['x-tallyhouse-signature'] as string, r.requests[0]!.body, 300)).toBe(true);

        await server.close();
        stopped = true;
        await engine.services.notifications.enqueueNotification(t.id, 'budget.exceeded', {});
        await new Promise((res) => setTimeout(res, 300));
        expect(r.requests).toHaveLength(1);
        // stopped polling, not broken: driven by hand (as a queue worker would) it still sends
        expect(await engine.services.notifications.deliverDue()).toMatchObject({ delivered: 1 });
        expect(r.requests.map((q) => q.headers['x-tallyhouse-event'])).toEqual(['webhook.test', 'budget.exceeded']);
      } finally {
        if (!stopped) await server.close();
      }
    });
  });
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 2000) {
  const until = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
