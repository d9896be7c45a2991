import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../helpers/engine.js';

/**
 * The issue's acceptance property: random batches from several tenants go through the one
 * ingestion path, and raw `events`, `rollup_hourly` and `rollup_daily` then agree exactly — per
 * tenant, per dimension value, per hour and per day — on every count and sum, on the latency
 * histogram, and with a model computed here from the deduplicated input. actors_daily agrees
 * with raw per user and agent. Re-sending every batch changes nothing.
 */

const NOW = Date.now();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const DIMS = ['event_type', 'project', 'environment', 'model', 'provider', 'feature', 'api_key_id', 'endpoint', 'status', 'success'] as const;
type Dim = (typeof DIMS)[number];
const MEASURES = [
  'events',
  'requests',
  'input_tokens',
  'output_tokens',
  'compute_units',
  'cost_nano',
  'cost_unpriced',
  'failures',
  'latency_count',
  'latency_sum',
] as const;
type Measure = (typeof MEASURES)[number];
const ACTOR_MEASURES = ['events', 'requests', 'input_tokens', 'output_tokens', 'compute_units', 'cost_nano'] as const;

const POOLS = {
  event_type: ['llm.call', 'api.call', 'workflow.run', 'token.issued'],
  project: ['', 'alpha', 'beta'],
  environment: ['', 'prod', 'staging'],
  model: ['', 'gpt-4o', 'claude-sonnet-4-20250514', 'my-local-llm'],
  provider: ['', 'openai', 'acme'],
  feature: ['', 'chat', 'search', 'ünïcode ✓'],
  api_key_id: ['', 'key-1', 'key-2'],
  endpoint: ['', '/v1/chat', '/v1/embed'],
  status: ['', 'ok', '500', 'timeout'],
  user_id: ['', 'u1', 'u2', 'u3'],
  agent_id: ['', 'a1', 'a2'],
};

/** The list prices the model knows (pg-migrations/0002), in nano-USD per token, and their provider. */
const PRICES: Record<string, { input: bigint; output: bigint; provider: string }> = {
  'gpt-4o': { input: 2_500n, output: 10_000n, provider: 'openai' },
  'claude-sonnet-4-20250514': { input: 3_000n, output: 15_000n, provider: 'anthropic' },
};

// ---------------------------------------------------------------------------------------------
// What is sent

interface Cost {
  text: string;
  nano: bigint; // the exact amount, worked out from the digits here (not by src/ingest/money.ts)
}

interface EventSpec {
  event: Record<string, unknown>; // as posted
  eventId: string;
  tsMs: number;
  cost?: Cost;
}

interface Batch {
  tenant: number;
  apiKeyId: string;
  events: EventSpec[];
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });
const pick = (xs: readonly string[]) => fc.constantFrom(...xs);

/** A decimal USD string, up to 12 decimals, and its nano-USD value rounded half up by hand. */
const costArb: fc.Arbitrary<Cost> = fc
  .tuple(
    fc.oneof(fc.bigInt({ min: 0n, max: 9n }), fc.bigInt({ min: 0n, max: 1_000_000n })),
    fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 12 }),
  )
  .map(([whole, frac]) => {
    const kept = BigInt((frac + '000000000').slice(0, 9));
    const roundUp = frac.length > 9 && Number(frac[9]) >= 5 ? 1n : 0n;
    return { text: frac ? `${whole}.${frac}` : String(whole), nano: whole * 1_000_000_000n + kept + roundUp };
  });

/** Event time in one of the accepted forms: epoch ms, RFC 3339 UTC, RFC 3339 with an offset. */
function tsValue(ms: number, form: 'ms' | 'utc' | 'plus' | 'minus'): number | string {
  if (form === 'ms') return ms;
  if (form === 'utc') return new Date(ms).toISOString();
  const off = form === 'plus' ? 5.5 * HOUR : -3 * HOUR;
  return new Date(ms + off).toISOString().replace('Z', form === 'plus' ? '+05:30' : '-03:00');
}

const eventArb: fc.Arbitrary<EventSpec> = fc
  .record({
    id: fc.integer({ min: 0, max: 24 }),
    // Spread over the last 30 days, on ms precision.
    ago: fc.oneof(fc.integer({ min: 0, max: 30 * DAY }), fc.integer({ min: 0, max: 3 * DAY })),
    tsForm: fc.constantFrom('ms' as const, 'utc' as const, 'plus' as const, 'minus' as const),
    event_type: pick(POOLS.event_type),
    project: opt(pick(POOLS.project)),
    environment: opt(pick(POOLS.environment)),
    model: opt(pick(POOLS.model)),
    provider: opt(pick(POOLS.provider)),
    feature: opt(pick(POOLS.feature)),
    api_key_id: opt(pick(POOLS.api_key_id)),
    endpoint: opt(pick(POOLS.endpoint)),
    status: opt(pick(POOLS.status)),
    user_id: opt(pick(POOLS.user_id)),
    agent_id: opt(pick(POOLS.agent_id)),
    success: opt(fc.boolean()),
    requests: opt(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1_000_000 }))),
    input_tokens: opt(fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 1e12 }))),
    output_tokens: opt(fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 1e12 }))),
    compute_units: opt(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 1e12 }))),
    latency_ms: opt(
      fc.oneof(
        fc.integer({ min: 0, max: 99 }),
        fc.integer({ min: 100, max: 86_400_000 }),
        fc.integer({ min: 0, max: 40_000 }).map((x) => x / 2), // fractional ms: stored rounded
      ),
    ),
    cost: opt(costArb),
    metadata: opt(fc.dictionary(fc.constantFrom('k1', 'k2', 'route'), fc.string({ maxLength: 8 }), { maxKeys: 2 })),
  })
  .map(({ id, ago, tsForm, cost, ...fields }) => {
    const tsMs = NOW - ago;
    const eventId = `ev-${id}`;
    const event: Record<string, unknown> = { event_id: eventId, ts: tsValue(tsMs, tsForm) };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) event[k] = v;
    if (cost) event.cost = cost.text;
    return { event, eventId, tsMs, cost };
  });

const batchArb = fc.record({
  apiKeyId: pick(['key-1', 'key-ingest']),
  events: fc.array(eventArb, { minLength: 1, maxLength: 15 }),
  // Verbatim copies of events of this tenant's previous batch (a producer's retry).
  echo: fc.array(fc.nat(), { maxLength: 4 }),
});

/** 2–3 tenants, 1–3 batches each, interleaved round-robin. */
const scenarioArb = fc
  .array(fc.array(batchArb, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 })
  .map((perTenant): Batch[] => {
    const withEcho = perTenant.map((batches, tenant) =>
      batches.map((b, k): Batch => {
        const prev = batches[k - 1]?.events ?? [];
        const echoed = prev.length ? b.echo.map((i) => prev[i % prev.length]!) : [];
        return { tenant, apiKeyId: b.apiKeyId, events: [...b.events, ...echoed] };
      }),
    );
    const out: Batch[] = [];
    for (let k = 0; k < 3; k++) for (const batches of withEcho) if (batches[k]) out.push(batches[k]!);
    return out;
  });

// ---------------------------------------------------------------------------------------------
// The model: what the tables must hold, from the deduplicated input

interface ModelRow {
  tenant: string;
  hour: string;
  day: string;
  dims: Record<Dim, string>;
  user: string;
  agent: string;
  m: Record<Measure, bigint>;
}

const chHour = (ms: number) => new Date(Math.floor(ms / HOUR) * HOUR).toISOString().slice(0, 19).replace('T', ' ');
const chDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function modelRow(tenant: string, apiKeyId: string, spec: EventSpec): ModelRow {
  const e = spec.event as Record<string, string | number | boolean | undefined>;
  const input = BigInt((e.input_tokens as number | undefined) ?? 0);
  const output = BigInt((e.output_tokens as number | undefined) ?? 0);
  const success = (e.success as boolean | undefined) ?? true;
  const latency = e.latency_ms === undefined ? null : Math.round(e.latency_ms as number);
  let provider = (e.provider as string | undefined) ?? '';
  let cost = 0n;
  let unpriced = 0n;
  if (spec.cost) cost = spec.cost.nano;
  else {
    const price = PRICES[(e.model as string | undefined) ?? ''];
    if (price) {
      cost = input * price.input + output * price.output;
      provider ||= price.provider;
    } else if (input + output > 0n) unpriced = 1n;
  }
  const str = (k: string) => (e[k] as string | undefined) ?? '';
  return {
    tenant,
    hour: chHour(spec.tsMs),
    day: chDay(spec.tsMs),
    dims: {
      event_type: str('event_type'),
      project: str('project'),
      environment: str('environment'),
      model: str('model'),
      provider,
      feature: str('feature'),
      api_key_id: (e.api_key_id as string | undefined) ?? apiKeyId,
      endpoint: str('endpoint'),
      status: str('status'),
      success: String(success),
    },
    user: str('user_id'),
    agent: str('agent_id'),
    m: {
      events: 1n,
      requests: BigInt((e.requests as number | undefined) ?? 1),
      input_tokens: input,
      output_tokens: output,
      compute_units: BigInt((e.compute_units as number | undefined) ?? 0),
      cost_nano: cost,
      cost_unpriced: unpriced,
      failures: success ? 0n : 1n,
      latency_count: latency === null ? 0n : 1n,
      latency_sum: BigInt(latency ?? 0),
    },
  };
}

type Totals = Record<string, Record<string, string>>; // key → measure → decimal string

function addTo(totals: Totals, key: string, m: Partial<Record<Measure, bigint>>, names: readonly Measure[]) {
  const t = (totals[key] ??= Object.fromEntries(names.map((n) => [n, '0'])));
  for (const n of names) t[n] = (BigInt(t[n]!) + m[n]!).toString();
}

/** Model totals keyed like the queries below: `tenant|dim|value`, with pseudo-dims tenant, hour, day. */
function modelTotals(rows: ModelRow[]): Totals {
  const out: Totals = {};
  for (const r of rows) {
    addTo(out, `${r.tenant}|tenant|`, r.m, MEASURES);
    addTo(out, `${r.tenant}|hour|${r.hour}`, r.m, MEASURES);
    addTo(out, `${r.tenant}|day|${r.day}`, r.m, MEASURES);
    for (const d of DIMS) addTo(out, `${r.tenant}|${d}|${r.dims[d]}`, r.m, MEASURES);
  }
  return out;
}

function modelActors(rows: ModelRow[]): Totals {
  const out: Totals = {};
  for (const r of rows) {
    if (r.user) addTo(out, `${r.tenant}|user|${r.user}|${r.day}`, r.m, ACTOR_MEASURES);
    if (r.agent) addTo(out, `${r.tenant}|agent|${r.agent}|${r.day}`, r.m, ACTOR_MEASURES);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What the tables hold

/** `[('tenant', ''), ('hour', …), ('event_type', …), …]` for an ARRAY JOIN over one table's columns. */
function dimArray(buckets: [string, string][]): string {
  const pairs = [['tenant', "''"], ...buckets, ...DIMS.map((d) => [d, `toString(${d})`])];
  return '[' + pairs.map(([name, expr]) => `('${name}', ${expr})`).join(', ') + ']';
}

const RAW_MEASURES: Record<Measure, string> = {
  events: 'count()',
  requests: 'sum(requests)',
  input_tokens: 'sum(input_tokens)',
  output_tokens: 'sum(output_tokens)',
  compute_units: 'sum(compute_units)',
  cost_nano: 'sum(cost_nano)',
  cost_unpriced: 'sum(cost_unpriced)',
  failures: 'countIf(NOT success)',
  latency_count: 'count(latency_ms)',
  latency_sum: 'sum(ifNull(latency_ms, 0))',
};
const RAW_HIST = 'sumMapIf(map(latency_bucket, toUInt64(1)), latency_ms IS NOT NULL)';

interface Snapshot {
  raw: Totals;
  hourly: Totals;
  daily: Totals;
  hist: { raw: Record<string, unknown>; hourly: Record<string, unknown>; daily: Record<string, unknown> };
  actors: { raw: Totals; rollup: Totals };
}

describe('rollups agree with raw events (property)', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(() => engine.close());

  async function byDimension(table: string, dims: string, measures: Record<Measure, string>, hist: string, tenants: string[]) {
    // Output names are prefixed: an alias equal to a column name (sum(events) AS events) would
    // shadow the column inside its own expression.
    const rows = await engine.services.ch.query<Record<string, string> & { hist: Record<string, string> }>(
      `SELECT tenant_id AS tenant, d.1 AS dim, d.2 AS value,
              ${MEASURES.map((m) => `toString(${measures[m]}) AS m_${m}`).join(', ')},
              ${hist} AS hist
       FROM ${table} ARRAY JOIN ${dims} AS d
       WHERE tenant_id IN {tenants:Array(String)}
       GROUP BY tenant, dim, value`,
      { tenants },
    );
    const totals: Totals = {};
    const hists: Record<string, unknown> = {};
    for (const r of rows) {
      const key = `${r.tenant}|${r.dim}|${r.value}`;
      totals[key] = Object.fromEntries(MEASURES.map((m) => [m, r[`m_${m}`]!]));
      hists[key] = r.hist;
    }
    return { totals, hists };
  }

  async function actors(tenants: string[]) {
    const sums = ACTOR_MEASURES.map((m) => `toString(${m === 'events' ? 'count()' : `sum(${m})`}) AS m_${m}`).join(', ');
    const raw = await engine.services.ch.query<Record<string, string>>(
      `SELECT tenant_id AS tenant, 'user' AS kind, user_id AS actor, toString(toDate(ts)) AS day, ${sums}
       FROM events WHERE tenant_id IN {tenants:Array(String)} AND user_id != '' GROUP BY tenant, actor, day
       UNION ALL
       SELECT tenant_id AS tenant, 'agent' AS kind, agent_id AS actor, toString(toDate(ts)) AS day, ${sums}
       FROM events WHERE tenant_id IN {tenants:Array(String)} AND agent_id != '' GROUP BY tenant, actor, day`,
      { tenants },
    );
    const rollup = await engine.services.ch.query<Record<string, string>>(
      `SELECT tenant_id AS tenant, toString(actor_kind) AS kind, actor_id AS actor, toString(day) AS day,
              ${ACTOR_MEASURES.map((m) => `toString(sum(${m})) AS m_${m}`).join(', ')}
       FROM actors_daily WHERE tenant_id IN {tenants:Array(String)} GROUP BY tenant, kind, actor, day`,
      { tenants },
    );
    const keyed = (rows: Record<string, string>[]) =>
      Object.fromEntries(
        rows.map((r) => [`${r.tenant}|${r.kind}|${r.actor}|${r.day}`, Object.fromEntries(ACTOR_MEASURES.map((m) => [m, r[`m_${m}`]!]))]),
      );
    return { raw: keyed(raw), rollup: keyed(rollup) };
  }

  async function snapshot(tenants: string[]): Promise<Snapshot> {
    const raw = await byDimension(
      'events',
      dimArray([
        ['hour', 'toString(toStartOfHour(ts))'],
        ['day', 'toString(toDate(ts))'],
      ]),
      RAW_MEASURES,
      RAW_HIST,
      tenants,
    );
    const sums = Object.fromEntries(MEASURES.map((m) => [m, `sum(${m})`])) as Record<Measure, string>;
    const hourly = await byDimension(
      'rollup_hourly',
      dimArray([
        ['hour', 'toString(hour)'],
        ['day', 'toString(toDate(hour))'],
      ]),
      sums,
      'sumMap(latency_hist)',
      tenants,
    );
    const daily = await byDimension('rollup_daily', dimArray([['day', 'toString(day)']]), sums, 'sumMap(latency_hist)', tenants);
    return {
      raw: raw.totals,
      hourly: hourly.totals,
      daily: daily.totals,
      hist: { raw: raw.hists, hourly: hourly.hists, daily: daily.hists },
      actors: await actors(tenants),
    };
  }

  /** Entries whose dim is not an hour (rollup_daily has no hours). */
  const withoutHours = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).filter(([k]) => k.split('|')[1] !== 'hour'));

  it('hourly, daily and raw totals agree exactly with each other and with the model; re-sending changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (batches) => {
        const tenantCount = Math.max(...batches.map((b) => b.tenant)) + 1;
        const tenants: string[] = [];
        for (let i = 0; i < tenantCount; i++) tenants.push((await engine.newTenant()).id);

        // Ingest, and build the model: an event counts once per (tenant, event_id), first one wins.
        const seen = tenants.map(() => new Set<string>());
        const rows: ModelRow[] = [];
        for (const b of batches) {
          let accepted = 0;
          for (const spec of b.events) {
            if (seen[b.tenant]!.has(spec.eventId)) continue;
            seen[b.tenant]!.add(spec.eventId);
            rows.push(modelRow(tenants[b.tenant]!, b.apiKeyId, spec));
            accepted++;
          }
          const result = await engine.services.ingest.ingest(
            { tenantId: tenants[b.tenant]!, apiKeyId: b.apiKeyId },
            b.events.map((s) => s.event),
            NOW,
          );
          expect(result).toEqual({ accepted, duplicates: b.events.length - accepted, rejected: [] });
        }

        const snap = await snapshot(tenants);
        const model = modelTotals(rows);

        // Raw is what was sent, deduplicated; the rollups are raw, exactly.
        expect(snap.raw).toEqual(model);
        expect(snap.hourly).toEqual(snap.raw);
        expect(snap.daily).toEqual(withoutHours(snap.raw));
        expect(Object.keys(snap.raw).filter((k) => k.endsWith('|tenant|'))).toHaveLength(tenantCount);

        // Latency histograms: the same buckets and counts from raw and both rollups.
        expect(snap.hist.hourly).toEqual(snap.hist.raw);
        expect(snap.hist.daily).toEqual(withoutHours(snap.hist.raw));
        for (const [key, hist] of Object.entries(snap.hist.raw)) {
          const n = Object.values(hist as Record<string, string>).reduce((s, v) => s + BigInt(v), 0n);
          expect(n.toString(), key).toBe(model[key]!.latency_count);
        }

        // Users and agents per day.
        const actorModel = modelActors(rows);
        expect(snap.actors.raw).toEqual(actorModel);
        expect(snap.actors.rollup).toEqual(snap.actors.raw);

        // Re-sending every batch: all duplicates, no insert at all, every number unchanged.
        const inserts = engine.services.ch.stats.inserts;
        for (const b of batches) {
          const again = await engine.services.ingest.ingest(
            { tenantId: tenants[b.tenant]!, apiKeyId: b.apiKeyId },
            b.events.map((s) => s.event),
            NOW,
          );
          expect(again).toEqual({ accepted: 0, duplicates: b.events.length, rejected: [] });
        }
        expect(engine.services.ch.stats.inserts).toBe(inserts);
        expect(await snapshot(tenants)).toEqual(snap);
      }),
      // Shrinking a failure re-runs the engine many times: cap the whole run (a counterexample
      // found by then is still reported), and count an unfinished run as a failure, not a pass.
      { numRuns: 20, plugins: [fc.interruptAfterTimeLimit(120_000, { failOnInterrupt: true })] },
    );
  }, 180_000);

  it('latency buckets are exact below 100 ms and 1 % wide above', async () => {
    const t = await engine.newTenant();
    const latencies = [0, 1, 99, 100, 101, 102, 1000, 1010, 86_400_000];
    const events = latencies.map((latency_ms, i) => ({ event_id: `lat-${i}`, event_type: 'api.call', latency_ms, ts: NOW - HOUR }));
    expect(await engine.services.ingest.ingest({ tenantId: t.id, apiKeyId: 'k' }, events, NOW)).toMatchObject({ accepted: latencies.length });
    const rows = await engine.services.ch.query<{ latency_ms: number; latency_bucket: number }>(
      'SELECT latency_ms, latency_bucket FROM events WHERE tenant_id = {t:String} ORDER BY latency_ms',
      { t: t.id },
    );
    const bucket = new Map(rows.map((r) => [r.latency_ms, r.latency_bucket]));
    for (const l of [0, 1, 99]) expect(bucket.get(l)).toBe(l);
    // Bucket b ≥ 100 holds [100 × 1.01^(b-100), 100 × 1.01^(b-99)).
    expect(bucket.get(100)).toBe(100);
    expect(bucket.get(101)).toBe(101);
    expect(bucket.get(102)).toBe(101);
    expect(bucket.get(1010)! - bucket.get(1000)!).toBe(1);
    expect(bucket.get(86_400_000)).toBeLessThan(65_536); // fits UInt16 with room to spare
    // The rollups hold the same histogram.
    const [h] = await engine.services.ch.query<{ raw: string; hourly: string; daily: string }>(
      `SELECT
         (SELECT toString(sumMapIf(map(latency_bucket, toUInt64(1)), latency_ms IS NOT NULL)) FROM events WHERE tenant_id = {t:String}) AS raw,
         (SELECT toString(sumMap(latency_hist)) FROM rollup_hourly WHERE tenant_id = {t:String}) AS hourly,
         (SELECT toString(sumMap(latency_hist)) FROM rollup_daily WHERE tenant_id = {t:String}) AS daily`,
      { t: t.id },
    );
    expect(h!.hourly).toBe(h!.raw);
    expect(h!.daily).toBe(h!.raw);
  });

  it('events without an event_id get a server-made id each time, so a re-send counts again', async () => {
    const t = await engine.newTenant();
    const batch = [
      { event_type: 'api.call', requests: 2, ts: NOW - DAY },
      { event_type: 'api.call', requests: 3, ts: NOW - DAY },
    ];
    const ctx = { tenantId: t.id, apiKeyId: 'k' };
    expect(await engine.services.ingest.ingest(ctx, batch, NOW)).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    expect(await engine.services.ingest.ingest(ctx, batch, NOW)).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    const [r] = await engine.services.ch.query<{ n: string; ids: string; req: string; hourly: string }>(
      `SELECT toString(count()) AS n, toString(uniqExact(event_id)) AS ids, toString(sum(requests)) AS req,
              (SELECT toString(sum(requests)) FROM rollup_hourly WHERE tenant_id = {t:String}) AS hourly
       FROM events WHERE tenant_id = {t:String}`,
      { t: t.id },
    );
    expect(r).toEqual({ n: '4', ids: '4', req: '10', hourly: '10' });
  });
});
