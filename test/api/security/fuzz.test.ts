import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIMENSIONS, METRICS } from '../../../src/query/catalog.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';

/**
 * Generated hostile input against the ingest and query endpoints: zero 5xx, zero hangs (every
 * request has a deadline), zero accepted-then-lost events (every event a 202 counted as
 * accepted is read back through GET /api/v1/events, by event_id, and nothing more).
 * CI-sized; FUZZ_SEED=<n> replays a failure (the seed is printed when a property fails), and
 * FUZZ_RUNS=<n> scales the runs up for a longer local session.
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ (Math.random() * 0x7fffffff);
const RUNS = Number(process.env.FUZZ_RUNS ?? 0);
const runs = (ci: number) => (RUNS > 0 ? RUNS : ci);
/** Per property test: CI runs take well under a minute; FUZZ_RUNS scales the allowance. */
const TEST_TIMEOUT_MS = RUNS > 0 ? 120_000 + RUNS * 500 : 120_000;
const DEADLINE_MS = 10_000;
const DAY = 86_400_000;
const NOW = Date.now();

/** Characters that have broken text handling somewhere: controls, NUL, surrogates, separators, quotes. */
const NASTY = ['\u0000', '\u0007', '\n', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\u202e', '\ufeff', '\uffff', '\ud800', '\udfff', '😀', 'e\u0301', "'", '"', '\\', '`', '{p:String}', "'; DROP TABLE events; --", '%00', '&', '#', '+', ' '];
const nastyString = (maxLength = 40) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 3 })), { maxLength: 8 }).map((p) => p.join('')),
  );
const nastyNumber = fc.oneof(
  fc.integer({ min: -5, max: 1_000_000 }),
  fc.double({ noDefaultInfinity: false, noNaN: false }),
  fc.constantFrom(0, -0, -1, 0.5, 1e12, 1e12 + 1, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e308, 5e-324),
);
const costValue = fc.oneof(
  fc.integer({ min: 0, max: 1000 }).map((c) => (c / 1000).toString()),
  fc.constantFrom('0', '0.000000001', '1e5', '-1', 'NaN', 'Infinity', '1.', '.5', '9999999999', '1000000000', '1000000000.000000001', ' 1', '0x10', '１'),
  nastyNumber,
);
const tsValue = fc.oneof(
  fc.integer({ min: 0, max: 390 }).map((d) => new Date(NOW - d * DAY - 1000).toISOString()),
  fc.integer({ min: 0, max: 390 * DAY }).map((ms) => NOW - ms - 1000),
  fc.constantFrom(0, -1, 1.5, 8.64e15, '1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01', 'now', ''),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

let idCounter = 0;
/** One event as a producer (or an attacker) might send it; the fuzzer's own ids are unique. */
const eventArb = fc
  .record(
    {
      event_id: fc.oneof(fc.constant(undefined), fc.constant(''), nastyString(20).map((s) => `fz${SEED}-${s}`)),
      ts: tsValue,
      event_type: fc.oneof(fc.constantFrom('llm.call', 'api.call', 'tool.call'), nastyString(30)),
      model: fc.oneof(fc.constantFrom('gpt-4o', 'small'), nastyString()),
      project: nastyString(),
      user_id: nastyString(),
      run_id: nastyString(),
      requests: nastyNumber,
      input_tokens: nastyNumber,
      output_tokens: nastyNumber,
      latency_ms: nastyNumber,
      success: fc.oneof(fc.boolean(), fc.constantFrom('true', 1, null)),
      cost: costValue,
      metadata: fc.oneof(fc.dictionary(nastyString(10), nastyString(20), { maxKeys: 5 }), fc.constantFrom(null, 'x', [], { a: { b: 1 } })),
      tenant_id: fc.constant('someone-else'),
      extra: fc.anything({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  )
  .map((e) => {
    // unique ids: a re-sent id is the dedup's business, tested on its own below
    if (typeof e.event_id === 'string' && e.event_id.startsWith('fz')) e.event_id = `${e.event_id}#${++idCounter}`;
    for (const k of Object.keys(e) as (keyof typeof e)[]) if (e[k] === undefined) delete e[k];
    return e;
  });
/** Mostly plausible events, so that many are accepted and the lost-event check has work to do. */
const plausibleEventArb = fc.record({
  event_id: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map((s) => `fz${SEED}-ok-${s}#${++idCounter}`),
  ts: fc.integer({ min: 0, max: 390 * DAY }).map((ms) => new Date(NOW - ms - 1000).toISOString()),
  event_type: fc.constantFrom('llm.call', 'api.call'),
  model: fc.oneof(fc.constantFrom('gpt-4o', 'small'), fc.string({ unit: 'grapheme', maxLength: 20 })),
  requests: fc.integer({ min: 0, max: 10 }),
  cost: fc.integer({ min: 0, max: 10_000 }).map((n) => (n / 1000).toString()),
});

type Encoding = 'json' | 'ndjson' | 'truncated' | 'dup-key' | 'raw-nan' | 'garbage';
const batchArb = fc.record({
  events: fc.array(fc.oneof({ weight: 2, arbitrary: plausibleEventArb }, { weight: 3, arbitrary: eventArb }), { minLength: 0, maxLength: 25 }),
  encoding: fc.constantFrom<Encoding>('json', 'json', 'ndjson', 'ndjson', 'truncated', 'dup-key', 'raw-nan', 'garbage'),
  cut: fc.nat(),
  garbage: nastyString(10),
  resend: fc.boolean(),
});

function encode(b: { events: object[]; encoding: Encoding; cut: number; garbage: string }): { body: string; contentType: string; intact: boolean } {
  const ndjson = b.encoding === 'ndjson' || (b.encoding === 'truncated' && b.cut % 2 === 0);
  const body = ndjson ? b.events.map((e) => JSON.stringify(e)).join('\n') + '\n' : JSON.stringify(b.events);
  const contentType = ndjson ? 'application/x-ndjson' : 'application/json';
  switch (b.encoding) {
    case 'json':
    case 'ndjson':
      return { body, contentType, intact: true };
    case 'truncated':
      return { body: body.slice(0, body.length ? b.cut % body.length : 0), contentType, intact: false };
    case 'dup-key':
      return { body: body.replace(/\{"/, '{"event_type":"dup","'), contentType, intact: false };
    case 'raw-nan':
      return { body: body.replace(/:(-?\d+(\.\d+)?)([,}])/, ':NaN$3'), contentType, intact: false };
    case 'garbage': {
      const at = body.length ? b.cut % body.length : 0;
      return { body: body.slice(0, at) + b.garbage + body.slice(at), contentType, intact: false };
    }
  }
}

interface Answer {
  status: number;
  text: string;
}

describe('fuzzing ingest and query: no 5xx, no hang, nothing accepted then lost', () => {
  let engine: TestEngine;
  let t: TestTenant;
  /** event_ids the engine acknowledged as accepted */
  const acceptedIds = new Set<string>();
  let acceptedTotal = 0;
  let acceptedWithoutKnownId = 0;
  const failures: string[] = [];

  beforeAll(async () => {
    engine = await startTestEngine({ env: { RATE_LIMIT_PER_MINUTE: '0' } });
    t = await engine.newTenant('fuzz');
    console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
  });
  afterAll(() => engine?.close());

  async function send(method: string, url: string, init: { key: string; body?: string | object; contentType?: string }): Promise<Answer> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        engine.request(method, url, init),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`HANG: no answer in ${DEADLINE_MS} ms`)), DEADLINE_MS);
        }),
      ]);
      return { status: r.status, text: await r.text() };
    } finally {
      clearTimeout(timer);
    }
  }

  const params = (seed: number) => ({ seed, numRuns: 0, endOnFailure: true, verbose: 1 as const });

  it('POST /api/v1/events: a 202 with per-event answers or a clear 4xx; every accepted event is stored', async () => {
    await fc.assert(
      fc.asyncProperty(batchArb, async (b) => {
        const { body, contentType, intact } = encode(b);
        for (let attempt = 0; attempt < (b.resend && intact ? 2 : 1); attempt++) {
          const r = await send('POST', '/api/v1/events', { key: t.ingest, body, contentType });
          expect([202, 400, 413, 415], r.text.slice(0, 300)).toContain(r.status);
          if (r.status !== 202) {
            const err = JSON.parse(r.text) as { error: { code: string; message: string } };
            expect(err.error.code).toMatch(/^[A-Z_]+$/);
            continue;
          }
          const res = JSON.parse(r.text) as { accepted: number; duplicates: number; rejected: { index: number; code: string; path: string }[] };
          acceptedTotal += res.accepted;
          if (attempt === 1) {
            // the same batch again: every event with its own id is a duplicate now, none counted twice
            const withId = b.events.filter((e, i) => 'event_id' in e && !res.rejected.some((x) => x.index === i)).length;
            expect(res.duplicates).toBe(withId);
          }
          if (!intact) {
            acceptedWithoutKnownId += res.accepted;
            continue;
          }
          expect(res.accepted + res.duplicates + res.rejected.length).toBe(b.events.length);
          const rejected = new Set(res.rejected.map((x) => x.index));
          let counted = 0;
          b.events.forEach((e, i) => {
            if (rejected.has(i)) return;
            const id = (e as { event_id?: string }).event_id;
            if (id === undefined) counted++; // a fresh server id on every send
            else if (attempt === 0) acceptedIds.add(id);
          });
          acceptedWithoutKnownId += counted;
        }
      }),
      { ...params(SEED), numRuns: runs(150) },
    ).catch((e: Error) => {
      failures.push(`ingest (FUZZ_SEED=${SEED}): ${e.message}`);
      throw e;
    });
    expect(acceptedTotal).toBeGreaterThan(50); // the fuzzer must get events in, or the loss check is empty
  }, TEST_TIMEOUT_MS);

  const usageEventArb = fc.oneof(
    fc.record({ event_type: fc.oneof(fc.constantFrom('query.run', 'dashboard_view'), nastyString(30)), metadata: fc.dictionary(nastyString(10), nastyString(20), { maxKeys: 4 }), source: nastyString(10) }, { requiredKeys: ['event_type'] }),
    fc.record({ event_type: nastyNumber, metadata: fc.anything({ maxDepth: 2 }), tenant_id: fc.constant('x') }, { requiredKeys: [] }),
  );

  it('POST /api/v1/usage/events: 202 (stored) or a clear 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(usageEventArb, fc.boolean(), async (body, dupKey) => {
        const text = JSON.stringify(body);
        const sent = dupKey && text.startsWith('{"') ? text.replace('{"', '{"event_type":"dup","') : text;
        const r = await send('POST', '/api/v1/usage/events', { key: t.ingest, body: sent });
        expect([202, 400], `${sent} → ${r.text.slice(0, 300)}`).toContain(r.status);
        if (r.status === 202) {
          acceptedTotal += 1;
          acceptedWithoutKnownId += 1;
        }
      }),
      { ...params(SEED + 3), numRuns: runs(60) },
    );
  }, TEST_TIMEOUT_MS);

  it('every accepted event is readable back by event_id, and there is nothing more', async () => {
    const stored: string[] = [];
    let cursor: string | null = null;
    const from = new Date(NOW - 400 * DAY).toISOString();
    const to = new Date(NOW + 8 * DAY).toISOString();
    for (let page = 0; page < 10_000; page++) {
      // small pages: the cursor (which carries an event_id) is fuzzed too
      const url = `/api/v1/events?from=${from}&to=${to}&limit=37${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const r = await send('GET', url, { key: t.read });
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      const p = JSON.parse(r.text) as { events: { event_id: string }[]; next_cursor: string | null };
      stored.push(...p.events.map((e) => e.event_id));
      cursor = p.next_cursor;
      if (!cursor) break;
    }
    expect(new Set(stored).size, 'no event stored twice').toBe(stored.length);
    const storedSet = new Set(stored);
    const lost = [...acceptedIds].filter((id) => !storedSet.has(id));
    expect(lost, `accepted then lost (FUZZ_SEED=${SEED})`).toEqual([]);
    expect(stored.length, `stored == accepted (FUZZ_SEED=${SEED})`).toBe(acceptedTotal);
    expect(acceptedIds.size + acceptedWithoutKnownId).toBe(acceptedTotal);
  });

  const isoish = fc.oneof(
    fc.integer({ min: -800, max: 30 }).map((d) => new Date(NOW + d * DAY).toISOString()),
    fc.constantFrom('1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '', 'yesterday', '2026-01-01T00:00:00+14:00', '2026-01-01T00:00:00.123456789Z'),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    nastyString(20),
  );
  const queryBodyArb = fc.record(
    {
      metrics: fc.oneof(fc.subarray([...METRICS], { minLength: 1 }), fc.array(nastyString(15), { maxLength: 3 }), fc.constantFrom(null, 'events', [])),
      group_by: fc.oneof(fc.subarray(['time', ...DIMENSIONS], { maxLength: 3 }), fc.array(nastyString(15), { maxLength: 3 })),
      filters: fc.array(
        fc.record({ dimension: fc.oneof(fc.constantFrom(...DIMENSIONS), nastyString(10)), op: fc.constantFrom('eq', 'in', 'not_in', 'like', ''), values: fc.array(nastyString(30), { maxLength: 4 }) }),
        { maxLength: 3 },
      ),
      metadata: fc.dictionary(nastyString(10), nastyString(20), { maxKeys: 3 }),
      from: isoish,
      to: isoish,
      granularity: fc.constantFrom('hour', 'day', 'week', 'month', 'minute', '', undefined),
      tz: fc.oneof(fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'Pacific/Chatham', 'utc', 'Mars/Base', 'Etc/GMT+14'), nastyString(20)),
      order_by: fc.record({ field: fc.oneof(fc.constantFrom(...METRICS), nastyString(10)), direction: fc.constantFrom('asc', 'desc', 'sideways') }),
      limit: nastyNumber,
      other: fc.oneof(fc.boolean(), fc.constant('yes')),
      source: fc.constantFrom('auto', 'raw', 'hourly', 'daily', 'actors_daily', 'nope'),
    },
    { requiredKeys: ['metrics', 'from', 'to'] },
  );

  /** Well-formed questions with hostile values (filter values, metadata, zones, windows at the edges). */
  const validQueryArb = fc
    .record({
      metrics: fc.subarray([...METRICS], { minLength: 1, maxLength: 4 }),
      group_by: fc.subarray([...DIMENSIONS], { maxLength: 2 }),
      time: fc.boolean(),
      granularity: fc.constantFrom('hour', 'day', 'week', 'month'),
      filters: fc.array(fc.record({ dimension: fc.constantFrom(...DIMENSIONS), op: fc.constantFrom('eq', 'in', 'not_in'), values: fc.array(nastyString(30).filter((v) => v.length <= 1024), { minLength: 1, maxLength: 3 }) }), { maxLength: 2 }),
      metadata: fc.dictionary(nastyString(10).filter((k) => k.length >= 1 && k.length <= 128), nastyString(20), { maxKeys: 2 }),
      fromDaysAgo: fc.integer({ min: 0, max: 399 }),
      spanHours: fc.integer({ min: 1, max: 24 * 14 }),
      tz: fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns'),
      limit: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }),
    })
    .map((q) => {
      const from = NOW - q.fromDaysAgo * DAY;
      return {
        metrics: q.metrics,
        group_by: q.time ? ['time', ...q.group_by] : q.group_by,
        ...(q.time ? { granularity: q.spanHours > 24 * 7 && q.granularity === 'hour' ? 'day' : q.granularity } : {}),
        filters: q.filters,
        metadata: q.metadata,
        from: new Date(from).toISOString(),
        to: new Date(from + q.spanHours * 3_600_000).toISOString(),
        tz: q.tz,
        ...(q.limit === undefined ? {} : { limit: q.limit }),
      };
    });

  it('POST /api/v1/analytics/query: 200 or a clear 4xx for any body, in time', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.oneof(validQueryArb, queryBodyArb), async (body) => {
        const r = await send('POST', '/api/v1/analytics/query', { key: t.read, body });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        expect(r.status, `${JSON.stringify(body)} → ${r.text.slice(0, 300)}`).toBeLessThan(500);
        if (r.status >= 400) expect((JSON.parse(r.text) as { error: { code: string } }).error.code).toMatch(/^[A-Z_]+$/);
      }),
      { ...params(SEED + 1), numRuns: runs(250) },
    );
    // some of the generated questions are valid: the fuzzer reaches the planner and the store
    expect(statuses.get(200) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(25);
  }, TEST_TIMEOUT_MS);

  const queryValue = fc.oneof(nastyString(20), nastyNumber.map(String), isoish);
  const statisticsArb = fc.record({
    path: fc.constantFrom('/api/v1/analytics/statistics/usage', '/api/v1/analytics/statistics/cost', '/api/v1/analytics/statistics/cost/export.csv', '/api/v1/events', '/api/v1/analytics/costs', '/api/v1/analytics/endpoint-patterns', '/api/v1/timeline', '/api/v1/anomalies'),
    params: fc.dictionary(fc.constantFrom('from', 'to', 'resolution', 'scope', 'project', 'env', 'tz', 'source', 'limit', 'cursor', 'event_type', 'run_id', 'group_by', 'api_key_id', 'granularity', 'days', 'junk'), queryValue, { maxKeys: 5 }),
  });

  it('GET statistics, events and control-plane lists: 200 or a clear 4xx for any query string, in time', async () => {
    await fc.assert(
      fc.asyncProperty(statisticsArb, async ({ path, params: p }) => {
        // encodeURIComponent throws on a lone surrogate; the raw %ED%A0%80 escape stands in for it
        const qs = Object.entries(p)
          .map(([k, v]) => `${k}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '\u0001')).replace(/%01/g, '%ED%A0%80')}`)
          .join('&');
        const r = await send('GET', `${path}?${qs}`, { key: t.read });
        expect(r.status, `${path}?${qs} → ${r.text.slice(0, 300)}`).toBeLessThan(500);
      }),
      { ...params(SEED + 2), numRuns: runs(250) },
    );
  }, TEST_TIMEOUT_MS);
});
