import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

/** The value of one Prometheus sample line, e.g. `clickhouse_insert_duration_seconds_count{table="events"}`. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`ops endpoints (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let t: TestTenant;
    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      t = await engine.newTenant();
    });
    afterAll(() => engine?.close());
    afterEach(() => {
      vi.restoreAllMocks();
    });

    const get = (path: string) => engine.request('GET', path);
    const metrics = async () => {
      const r = await get('/metrics');
      expect(r.status).toBe(200);
      return r.text();
    };

    describe('/healthz and /readyz', () => {
      it('/healthz answers 200 {status:"ok"} without a key', async () => {
        const r = await get('/healthz');
        expect(r.status).toBe(200);
        expect(await r.json()).toEqual({ status: 'ok' });
      });

      it('/readyz answers 200 with each store ok, required and timed', async () => {
        const r = await get('/readyz');
        expect(r.status).toBe(200);
        const body = (await r.json()) as { status: string; stores: Record<string, { ok: boolean; required: boolean; latency_ms: number; error?: string }> };
        expect(body.status).toBe('ready');
        expect(Object.keys(body.stores).sort()).toEqual(['clickhouse', 'postgres']); // no REDIS_URL: no redis entry
        for (const p of Object.values(body.stores)) {
          expect(p).toMatchObject({ ok: true, required: true });
          expect(p.error).toBeUndefined();
          expect(p.latency_ms).toBeGreaterThanOrEqual(0);
          expect(p.latency_ms).toBeLessThan(2000);
        }
      });

      it('/readyz answers 503 naming the store that is down', async () => {
        vi.spyOn(engine.services.pg, 'ping').mockResolvedValue(false);
        const r = await get('/readyz');
        expect(r.status).toBe(503);
        expect(await r.json()).toMatchObject({
          status: 'unavailable',
          stores: { clickhouse: { ok: true }, postgres: { ok: false, required: true, error: 'unreachable' } },
        });
        vi.restoreAllMocks();
        vi.spyOn(engine.services.ch, 'ping').mockResolvedValue(false);
        const r2 = await get('/readyz');
        expect(r2.status).toBe(503);
        expect(await r2.json()).toMatchObject({ status: 'unavailable', stores: { clickhouse: { ok: false, error: 'unreachable' }, postgres: { ok: true } } });
      });

      it('/readyz gives up on a store that does not answer within 2 s and says so', async () => {
        vi.spyOn(engine.services.pg, 'ping').mockReturnValue(new Promise(() => {}));
        const started = Date.now();
        const r = await get('/readyz');
        expect(Date.now() - started).toBeLessThan(3000);
        expect(r.status).toBe(503);
        const body = (await r.json()) as { stores: { postgres: { ok: boolean; latency_ms: number; error: string } } };
        expect(body.stores.postgres).toMatchObject({ ok: false, error: 'no answer within 2000 ms' });
        expect(body.stores.postgres.latency_ms).toBeGreaterThanOrEqual(1990);
      });
    });

    describe('/api/v1/analytics/health', () => {
      it('reports healthy stores, the store modes and the uptime', async () => {
        const r = await get('/api/v1/analytics/health');
        expect(r.status).toBe(200);
        const body = (await r.json()) as { status: string; stores: object; mode: object; uptime_sec: number };
        expect(body).toMatchObject({ status: 'healthy', stores: { clickhouse: true, postgres: true }, mode: { clickhouse: 'embedded', postgres: mode } });
        expect(Number.isInteger(body.uptime_sec)).toBe(true);
        expect(body.uptime_sec).toBeGreaterThanOrEqual(0);
      });

      it('reports degraded when a store is down', async () => {
        vi.spyOn(engine.services.ch, 'ping').mockResolvedValue(false);
        const r = await get('/api/v1/analytics/health');
        expect(r.status).toBe(200);
        expect(await r.json()).toMatchObject({ status: 'degraded', stores: { clickhouse: false, postgres: true } });
      });
    });

    describe('/metrics', () => {
      it('serves Prometheus text with the HTTP duration histogram labelled by route template', async () => {
        await get('/healthz');
        const r = await get('/metrics');
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        const text = await r.text();
        expect(text).toContain('# TYPE http_request_duration_seconds histogram');
        expect(sample(text, 'http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}')).toBeGreaterThanOrEqual(1);
        // Default process metrics are there too.
        expect(text).toContain('process_cpu_user_seconds_total');
      });

      it('labels a parameterised route by its template and an unknown path without the path', async () => {
        const id = '00000000-0000-4000-8000-000000000000';
        expect((await engine.request('DELETE', `/api/v1/keys/${id}`, { key: t.admin })).status).toBe(404);
        const unknown = `/no/such/${Math.random().toString(36).slice(2)}`;
        expect((await get(unknown)).status).toBe(404);
        const text = await metrics();
        expect(sample(text, 'http_request_duration_seconds_count{method="DELETE",route="/api/v1/keys/:id",status="404"}')).toBe(1);
        expect(text).not.toContain(id);
        expect(text).not.toContain(unknown);
      });

      it('labels refusals (401, 403, 400) by the route they were for', async () => {
        await engine.request('POST', '/api/v1/events', { body: [] });
        await engine.request('POST', '/api/v1/events', { key: t.read, body: [] });
        await engine.request('POST', '/api/v1/events', { key: t.ingest, body: [] });
        const text = await metrics();
        for (const status of ['401', '403', '400']) {
          expect(sample(text, `http_request_duration_seconds_count{method="POST",route="/api/v1/events",status="${status}"}`), status).toBeGreaterThanOrEqual(1);
        }
      });

      it('counts accepted events (no per-type label), batch sizes and insert durations after an ingest', async () => {
        const type = `ops.metric.${Math.random().toString(36).slice(2, 8)}`;
        const before = await metrics();
        const batches = sample(before, 'ingest_batch_size_count') ?? 0;
        const inserts = sample(before, 'clickhouse_insert_duration_seconds_count{table="events"}') ?? 0;
        const accepted = sample(before, 'usage_events_total') ?? 0;
        const r = await engine.request('POST', '/api/v1/events', {
          key: t.ingest,
          body: [
            { event_id: `${type}-1`, event_type: type },
            { event_id: `${type}-2`, event_type: type },
            { event_id: `${type}-3`, event_type: type },
            { event_type: 'ops.rejected', input_tokens: -1 },
          ],
        });
        expect(await r.json()).toMatchObject({ accepted: 3, duplicates: 0 });
        // A re-send stores nothing, so it counts nothing.
        await engine.request('POST', '/api/v1/events', { key: t.ingest, body: [{ event_id: `${type}-1`, event_type: type }] });

        const text = await metrics();
        expect(text).toContain('# TYPE usage_events_total counter');
        expect((sample(text, 'usage_events_total') ?? 0) - accepted).toBe(3);
        // Event types are tenant data: the engine-wide page names none of them.
        expect(text).not.toContain(type);
        expect(text).toContain('# TYPE ingest_batch_size histogram');
        expect(sample(text, 'ingest_batch_size_count')).toBe(batches + 2);
        expect(sample(text, 'ingest_batch_size_bucket{le="10"}')).toBeGreaterThanOrEqual(2);
        expect(text).toContain('# TYPE clickhouse_insert_duration_seconds histogram');
        expect(sample(text, 'clickhouse_insert_duration_seconds_count{table="events"}')).toBe(inserts + 1);
        expect(sample(text, 'ingest_rejected_events_total')).toBeGreaterThanOrEqual(1);
      });

      it('counts a single usage event, without naming its type', async () => {
        const type = `ops.usage.${Math.random().toString(36).slice(2, 8)}`;
        const before = sample(await metrics(), 'usage_events_total') ?? 0;
        expect((await engine.request('POST', '/api/v1/usage/events', { key: t.ingest, body: { event_type: type } })).status).toBe(202);
        const text = await metrics();
        expect((sample(text, 'usage_events_total') ?? 0) - before).toBe(1);
        expect(text).not.toContain(type);
      });
    });

    describe('/openapi.json', () => {
      it('is an OpenAPI 3.1 document listing the routes, their security and the error envelope', async () => {
        const r = await get('/openapi.json');
        expect(r.status).toBe(200);
        const doc = (await r.json()) as {
          openapi: string;
          info: { title: string };
          paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
          components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
        };
        expect(doc.openapi).toBe('3.1.0');
        expect(doc.info.title).toBe('tallyhouse');
        expect(Object.keys(doc.paths)).toEqual(
          expect.arrayContaining(['/api/v1/events', '/api/v1/usage/events', '/api/v1/keys', '/api/v1/keys/{id}', '/healthz', '/readyz', '/api/v1/analytics/health']),
        );
        const ingest = doc.paths['/api/v1/events']!.post!;
        expect(ingest.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(ingest.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '413', '415']));
        expect(doc.paths['/api/v1/keys/{id}']!.delete).toBeDefined();
        expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
        expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Error', 'Event', 'IngestResult']));
        // The event schema is documented as strict, like the validator.
        expect(doc.components.schemas.Event).toMatchObject({ type: 'object', additionalProperties: false, required: ['event_type'] });
      });
    });

    describe('unknown routes and the error envelope', () => {
      it('answers an unknown route with the 404 envelope {error:{code,message,requestId}}', async () => {
        const r = await get('/api/v1/nope');
        expect(r.status).toBe(404);
        const body = (await r.json()) as ErrorBody;
        expect(Object.keys(body)).toEqual(['error']);
        expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'requestId']);
        expect(body.error.code).toBe('NOT_FOUND');
        expect(body.error.message).toContain('GET /api/v1/nope');
        expect(body.error.requestId).toBeTruthy();
        expect(r.headers.get('x-request-id')).toBe(body.error.requestId);
      });

      it('answers 404 for a known path with a method it does not serve', async () => {
        const r = await engine.request('PUT', '/api/v1/keys', { key: t.admin, body: {} });
        expect(r.status).toBe(404);
        expect(((await r.json()) as ErrorBody).error.code).toBe('NOT_FOUND');
      });

      it('gives every error a request id that matches the X-Request-Id header', async () => {
        for (const r of [await engine.request('GET', '/api/v1/keys'), await engine.request('GET', '/api/v1/keys', { key: t.read })]) {
          const body = (await r.json()) as ErrorBody;
          expect(body.error.requestId).toBeTruthy();
          expect(r.headers.get('x-request-id')).toBe(body.error.requestId);
        }
      });

      it('keeps a caller-sent X-Request-Id', async () => {
        const r = await engine.request('GET', '/api/v1/missing', { headers: { 'x-request-id': 'trace-abc-123' } });
        expect(((await r.json()) as ErrorBody).error.requestId).toBe('trace-abc-123');
      });
    });
  });
}
