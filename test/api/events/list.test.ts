import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';

// This file's process (and so the embedded engine, which reads TZ when it starts) runs off UTC:
// the read-back window is given in UTC and must not move with the server's time zone.
process.env.TZ = 'America/New_York';

const HOUR = 3_600_000;

interface StoredEvent {
  event_id: string;
  ts: string;
  ingested_at: string;
  event_type: string;
  run_id: string;
  model: string;
  provider: string;
  api_key_id: string;
  success: boolean;
  requests: number;
  input_tokens: string;
  output_tokens: string;
  compute_units: string;
  latency_ms: number | null;
  cost_usd: string;
  cost_unpriced: boolean;
  metadata: Record<string, string>;
}

interface Page {
  events: StoredEvent[];
  next_cursor: string | null;
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown; requestId: string };
}

async function expectError(r: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await r.json()) as ErrorBody;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  expect(body.error.requestId).toBeTruthy();
  return body.error;
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`GET /api/v1/events (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    // Whole seconds two days back, so windows around the events are easy to state.
    const base = Math.floor((Date.now() - 48 * HOUR) / 1000) * 1000;
    const at = (i: number) => new Date(base + i * 60_000).toISOString();

    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
      const events = Array.from({ length: 7 }, (_, i) => ({
        event_id: `a-${i}`,
        ts: at(i),
        event_type: i % 2 ? 'llm.call' : 'api.call',
        run_id: i < 3 ? 'run-1' : 'run-2',
        ...(i === 0 ? { model: 'gpt-4o', input_tokens: 1000, output_tokens: 500, latency_ms: 42, metadata: { k: 'v' } } : {}),
        ...(i === 1 ? { model: 'mystery', input_tokens: 9 } : {}),
      }));
      const ra = await engine.request('POST', '/api/v1/events', { key: a.ingest, body: events });
      expect(await ra.json()).toMatchObject({ accepted: 7 });
      // Tenant b: same ids, same times.
      const rb = await engine.request('POST', '/api/v1/events', { key: b.ingest, body: events.map((e) => ({ ...e, event_type: 'b.secret' })) });
      expect(await rb.json()).toMatchObject({ accepted: 7 });
    });
    afterAll(() => engine?.close());

    const list = async (key: string, query: Record<string, string>) => {
      const r = await engine.request('GET', `/api/v1/events?${new URLSearchParams(query)}`, { key });
      const body = (await r.json()) as Page;
      expect(r.status, JSON.stringify(body)).toBe(200);
      return body;
    };
    const window = { from: at(0), to: at(7) };

    it('returns the tenant events in [from, to), newest first, with exact cost and 64-bit values as strings', async () => {
      const page = await list(a.read, window);
      expect(page.events.map((e) => e.event_id)).toEqual(['a-6', 'a-5', 'a-4', 'a-3', 'a-2', 'a-1', 'a-0']);
      expect(page.next_cursor).toBeNull();
      const first = page.events.find((e) => e.event_id === 'a-0')!;
      expect(first).toMatchObject({
        ts: at(0),
        event_type: 'api.call',
        model: 'gpt-4o',
        provider: 'openai',
        success: true,
        requests: 1,
        input_tokens: '1000',
        output_tokens: '500',
        compute_units: '0',
        latency_ms: 42,
        cost_usd: '0.0075',
        cost_unpriced: false,
        metadata: { k: 'v' },
      });
      expect(first.ingested_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(page.events.find((e) => e.event_id === 'a-1')).toMatchObject({ cost_usd: '0.00', cost_unpriced: true });
    });

    it('treats the window as half-open and accepts offsets', async () => {
      const page = await list(a.read, { from: at(2), to: at(4) });
      expect(page.events.map((e) => e.event_id)).toEqual(['a-3', 'a-2']);
      const shifted = new Date(base + 2 * 60_000 + 2 * HOUR).toISOString().replace('Z', '+02:00');
      expect((await list(a.read, { from: shifted, to: at(3) })).events.map((e) => e.event_id)).toEqual(['a-2']);
    });

    it('filters by event_type and run_id', async () => {
      expect((await list(a.read, { ...window, event_type: 'llm.call' })).events.map((e) => e.event_id)).toEqual(['a-5', 'a-3', 'a-1']);
      expect((await list(a.read, { ...window, run_id: 'run-1' })).events.map((e) => e.event_id)).toEqual(['a-2', 'a-1', 'a-0']);
      expect((await list(a.read, { ...window, event_type: 'nope' })).events).toEqual([]);
    });

    it('pages with next_cursor without skipping or repeating', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page = await list(a.read, { ...window, limit: '3', ...(cursor ? { cursor } : {}) });
        seen.push(...page.events.map((e) => e.event_id));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(['a-6', 'a-5', 'a-4', 'a-3', 'a-2', 'a-1', 'a-0']);
      expect(pages).toBe(3);
    });

    it("never shows another tenant's events", async () => {
      const page = await list(b.read, window);
      expect(page.events).toHaveLength(7);
      for (const e of page.events) expect(e.event_type).toBe('b.secret');
      const own = await list(a.read, { ...window, event_type: 'b.secret' });
      expect(own.events).toEqual([]);
    });

    it('answers 400 for bad query parameters, naming them', async () => {
      const bad: [Record<string, string>, string][] = [
        [{ from: 'yesterday' }, 'from'],
        [{ to: '2026-01-01T00:00:00' }, 'to'],
        [{ limit: '0' }, 'limit'],
        [{ limit: '1001' }, 'limit'],
        [{ limit: 'ten' }, 'limit'],
        [{ cursor: 'abc' }, 'cursor'],
      ];
      for (const [query, field] of bad) {
        const err = await expectError(await engine.request('GET', `/api/v1/events?${new URLSearchParams(query)}`, { key: a.read }), 400, 'INVALID_REQUEST');
        expect(err.message).toContain(`"${field}"`);
      }
      const range = await expectError(await engine.request('GET', `/api/v1/events?${new URLSearchParams({ from: at(3), to: at(3) })}`, { key: a.read }), 400, 'INVALID_DATE_RANGE');
      expect(range.message).toContain('from');
    });

    it('answers 400, not 500, for a cursor that was never issued', async () => {
      for (const cursor of ['99999999999999999999999:x', '1:']) {
        const r = await engine.request('GET', `/api/v1/events?${new URLSearchParams({ ...window, cursor })}`, { key: a.read });
        await expectError(r, 400, 'INVALID_REQUEST');
      }
    });

    it('needs the read scope and a valid key', async () => {
      const q = `/api/v1/events?${new URLSearchParams(window)}`;
      await expectError(await engine.request('GET', q), 401, 'UNAUTHORIZED');
      const err = await expectError(await engine.request('GET', q, { key: a.ingest }), 403, 'FORBIDDEN');
      expect(err.message).toContain('read');
      expect((await list(a.admin, window)).events).toHaveLength(7);
    });
  });
}
