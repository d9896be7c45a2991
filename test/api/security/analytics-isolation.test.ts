import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIMENSIONS } from '../../../src/query/catalog.js';
import { recordAnomaly, transitionIncident } from '../../../src/control/incidents/record.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { dimensionParams, isStringSchema, operations, pathVariants, requestFor, resolve, valueFor, type FillContext, type OpenApiDoc, type Operation, type WalkRequest } from './openapi-walk.js';

/**
 * Every GET/POST route under these prefixes that /openapi.json lists is walked, so a route added
 * later is covered without anyone remembering to add it here. Operations tagged `ingest` write
 * usage (an ingest key is their rightful caller): they are held to authentication only.
 */
const PREFIXES = ['/api/v1/analytics', '/api/v1/reports', '/api/v1/usage', '/api/v1/export'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const tag = crypto.randomBytes(4).toString('hex');
const mark = (dim: string) => `mk${tag}-${dim.replace(/_/g, '-')}`;

/** Tenant A's distinctive value of every dimension; none may ever reach tenant B. */
const A_DIMS: Record<string, string> = {
  model: mark('model'),
  feature: mark('feature'),
  user_id: mark('user'),
  // seed 002 names agents by uuid
  agent_id: crypto.randomUUID(),
  endpoint: `/v1/${mark('endpoint')}`,
  project: mark('project'),
  environment: mark('env'),
  provider: mark('provider'),
  run_id: mark('run'),
  policy_id: mark('policy'),
  source: mark('source'),
  status: mark('status'),
  api_key_id: mark('apikey'),
};
const A_TYPE = `mk${tag}.type`;
const META = { key: mark('metakey'), value: mark('metavalue') };
const DASHBOARD = mark('dashboard');
/** The event types the seeds' routes count, plus one of A's own. */
const TYPES = ['llm.call', 'api.call', 'token.issued', 'credential.rotated', 'workflow.run', 'sql_generation', 'sql_execution', 'dashboard_view', A_TYPE];
/** Routes that show no tenant data at all (health and configuration): they cannot show A's. */
const NO_TENANT_DATA = ['/api/v1/analytics/health', '/api/v1/analytics/_status'];

const INJECTIONS = ["model'; DROP TABLE events --", '1 OR 1=1', "x` OR 1=1 --", "' OR tenant_id != '' OR '", '{p0:String}', "\\'; SELECT * FROM events; --"];
const CLICKHOUSE_ERROR = /DB::Exception|\bCode: \d+\b|Syntax error|SYNTAX_ERROR|UNKNOWN_(IDENTIFIER|TABLE|FUNCTION|SETTING)|TYPE_MISMATCH|CANNOT_PARSE|BAD_QUERY_PARAMETER|UNKNOWN_QUERY_PARAMETER/;

/** Numbers that are not measures of data (echoed inputs, limits, configuration, process facts). */
const NOT_DATA = /^(days|limit|offset|page|page_size|per_page|uptime_sec|version|retention_days|granularity_sec|resolution_sec|signals_bound|max_[a-z_]+|[a-z_]+_limit)$/;
/** Objects that echo the request (the window), not data. */
const ECHO_OBJECTS = /^(window|period|query|request|params)$/;

function eventsOfA(now: number) {
  const events: Record<string, unknown>[] = [];
  let i = 0;
  for (const type of TYPES) {
    for (const ago of [50 * HOUR, 26 * HOUR, 3 * HOUR]) {
      events.push({
        event_id: `a-${i++}`,
        ts: new Date(now - ago).toISOString(),
        event_type: type,
        ...A_DIMS,
        success: i % 4 !== 0,
        requests: 2,
        input_tokens: 120,
        output_tokens: 30,
        compute_units: 3,
        latency_ms: 40 + i,
        cost: '0.25',
        metadata: { [META.key]: META.value, dashboard_id: DASHBOARD },
      });
    }
  }
  return events;
}

interface Walked {
  op: Operation;
  req: WalkRequest;
  /** A request that names one of A's dimension values in an optional parameter. */
  probe?: boolean;
}

interface Result {
  op: Operation;
  req: WalkRequest;
  status: number;
  contentType: string;
  text: string;
}

const label = (r: { op: Operation; req: WalkRequest }) => `${r.req.method} ${r.req.url}${r.req.body === undefined ? '' : ' ' + JSON.stringify(r.req.body)}`;

describe('tenant isolation and injection safety of every analytics, reports, usage and export route', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  let doc: OpenApiDoc;
  let all: Operation[];
  let reads: Operation[];
  let secured: Operation[];
  let aSecrets: string[];
  let aEventCount: number;
  const now = Date.now();
  /** Covers A's events; `to` a little in the past, as routes may refuse a future `to`. */
  const window = { fromMs: now - 6 * DAY, toMs: now - 60_000 };
  const ctxFor = (t: TestTenant): FillContext => ({ tenantId: t.id, ...window, dimensions: A_DIMS });

  beforeAll(async () => {
    // AUTH_FAILURES_PER_MINUTE off: the 401 sweep sends hundreds of unknown keys from one source
    engine = await startTestEngine({ env: { RATE_LIMIT_PER_MINUTE: '1000000', AUTH_FAILURES_PER_MINUTE: '0' } });
    a = await engine.newTenant(`iso-a-${tag}`);
    b = await engine.newTenant(`iso-b-${tag}`);
    const events = eventsOfA(now - 60 * 60_000);
    const r = await engine.services.ingest.ingest({ tenantId: a.id, apiKeyId: A_DIMS.api_key_id! }, events);
    expect(r.rejected).toEqual([]);
    // seed 003's single usage events, through the API with A's ingest key
    for (const type of ['query.run', 'dashboard_view', 'llm.tokens']) {
      const res = await engine.request('POST', '/api/v1/usage/events', { key: a.ingest, body: { event_type: type, metadata: { [META.key]: META.value }, source: A_DIMS.source } });
      expect(res.status).toBe(202);
    }
    aEventCount = events.length + 3;
    const keyIds = (await engine.services.tenants.listKeys(a.id)).map((k) => k.id);
    aSecrets = [...Object.values(A_DIMS), A_TYPE, META.key, META.value, DASHBOARD, a.id, a.name, ...keyIds];
    await engine.services.pg.pool.query(`INSERT INTO tenant_unit_rates (tenant_id, event_type, usd_per_event) VALUES ($1, $2, 0.5)`, [a.id, A_TYPE]);
    // One incident resolved inside the window, so /reports/mttr has A's data to show (and to hide from B).
    const deps = { pool: engine.services.pg.pool, notifications: engine.services.notifications };
    const found = await recordAnomaly(deps, { tenantId: a.id, type: 'BUDGET_EXCEEDED', severity: 'HIGH', dimension: 'tenant', windowStart: new Date(now - 3 * 3_600_000), windowEnd: new Date(now - 2 * 3_600_000), observed: '1', dedupKey: 'isolation' }, new Date(now - 2 * 3_600_000));
    await transitionIncident(deps, a.id, found.incident!.id, 'resolved', 'isolation test', { at: new Date(now - 3_600_000) });

    doc = (await (await engine.request('GET', '/openapi.json')).json()) as OpenApiDoc;
    all = operations(doc, PREFIXES);
    reads = all.filter((op) => !op.tags.includes('ingest'));
    secured = all.filter((op) => op.secured);
  });
  afterAll(() => engine?.close());

  async function send(key: string | undefined, op: Operation, req: WalkRequest): Promise<Result> {
    const r = await engine.request(req.method, req.url, { key, body: req.body as object | undefined });
    const contentType = r.headers.get('content-type') ?? '';
    if (/parquet/.test(contentType)) {
      // read back as NDJSON rows, checked like any NDJSON body
      return { op, req, status: r.status, contentType: 'application/x-ndjson', text: await parquetAsText(Buffer.from(await r.arrayBuffer())) };
    }
    return { op, req, status: r.status, contentType, text: await r.text() };
  }

  /** Parquet bodies are read back by the engine itself, so their strings can be searched like text. */
  async function parquetAsText(bytes: Buffer): Promise<string> {
    if (bytes.length === 0) return '';
    const file = path.join(os.tmpdir(), `walk-${tag}-${crypto.randomUUID()}.parquet`);
    fs.writeFileSync(file, bytes);
    try {
      const rows = await engine.services.ch.query(`SELECT * FROM file({f:String}, Parquet)`, { f: file });
      return rows.map((row) => JSON.stringify(row)).join('\n');
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /**
   * Every request of the walk for one key: each operation (each enum path value) with valid
   * values. With `probes`, also once per optional parameter that selects a dimension value
   * (agentId, project, api_key_id, …), set to A's value: B asking for A's agent by name.
   */
  function walk(t: TestTenant, probes = false): Walked[] {
    const out: Walked[] = [];
    for (const op of reads) {
      for (const variant of pathVariants(doc, op)) {
        out.push({ op, req: requestFor(doc, op, ctxFor(t), { params: variant }) });
        if (probes) {
          for (const p of dimensionParams(doc, op, ctxFor(t))) {
            out.push({ op, probe: true, req: requestFor(doc, op, ctxFor(t), { params: { ...variant, [p.name]: valueFor(doc, p.name, p.schema, ctxFor(t), p.example) } }) });
          }
        }
      }
      if (op.method === 'post' && op.path === '/api/v1/analytics/query') {
        // The general query can show any dimension: ask for each, so A's every value is on the table.
        const base = requestFor(doc, op, ctxFor(t));
        const body = base.body as Record<string, unknown>;
        for (const d of DIMENSIONS) out.push({ op, req: { ...base, body: { ...body, metrics: ['events', 'requests', 'cost', 'unique_users'], group_by: [d] } } });
        out.push({ op, req: { ...base, body: { ...body, metrics: ['events'], metadata: { [META.key]: META.value } } } });
      }
    }
    return out;
  }

  /** The marker values a body shows, other than those the request itself sent (an echo is no leak). */
  function leaks(r: Result): string[] {
    const sent = label(r);
    return aSecrets.filter((s) => r.text.includes(s) && !sent.includes(s) && !sent.includes(encodeURIComponent(s)));
  }

  /** Paths of measures that are not zero: tenant B has no data, so every total must be 0 or empty. */
  function nonZero(r: Result): string[] {
    if (r.status < 200 || r.status > 299) return [];
    const out: string[] = [];
    const visit = (v: unknown, at: string, key: string) => {
      if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${at}[${i}]`, key));
      else if (v && typeof v === 'object') {
        if (ECHO_OBJECTS.test(key)) return;
        for (const [k, x] of Object.entries(v)) visit(x, at ? `${at}.${k}` : k, k);
      } else if ((typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))) && !NOT_DATA.test(key) && Number(v) !== 0) {
        out.push(`${at}=${String(v)}`);
      }
    };
    if (/json/.test(r.contentType)) {
      const lines = /ndjson|x-ndjson|jsonl/.test(r.contentType) ? r.text.split('\n').filter(Boolean) : [r.text];
      lines.forEach((l) => visit(JSON.parse(l), '', ''));
    } else if (/csv/.test(r.contentType)) {
      const [head = '', ...rows] = r.text.trimEnd().split('\n');
      const cols = head.split(',');
      const isTime = (c: string) => /time|date|^ts$|bucket|from|to$|day|hour|week|month|metric|section/.test(c);
      rows.forEach((row, i) =>
        row.split(',').forEach((cell, j) => {
          if (!isTime(cols[j] ?? '') && /^-?\d+(\.\d+)?$/.test(cell) && Number(cell) !== 0) out.push(`row ${i + 1} ${cols[j]}=${cell}`);
        }),
      );
    }
    return out;
  }

  /** Every error status a route answered is one its OpenAPI operation documents. */
  function undocumented(results: Result[]): string[] {
    return results.filter((r) => r.status >= 400 && !(String(r.status) in r.op.responses)).map((r) => `${r.status} ${label(r)}`);
  }

  it('finds the routes in /openapi.json', () => {
    const paths = reads.map((o) => `${o.method} ${o.path}`);
    expect(paths).toEqual(expect.arrayContaining(['post /api/v1/analytics/query', 'get /api/v1/reports/overview', 'get /api/v1/reports/tenant/{id}', 'get /api/v1/export/csv/{type}']));
    // no data route is public by mistake: only the ops probes answer without a key
    expect(all.filter((o) => !o.secured && !o.tags.includes('ops')).map((o) => `${o.method} ${o.path}`)).toEqual([]);
  });

  it("tenant A's own key gets an answer from every route, and A's values are there to find", async () => {
    const results = await sequential(walk(a).map(({ op, req }) => () => send(a.admin, op, req)));
    const failed = results.filter((r) => r.status < 200 || r.status > 299).map((r) => `${r.status} ${label(r)}: ${r.text.slice(0, 300)}`);
    expect(failed).toEqual([]);
    const all = results.map((r) => r.text).join('\n');
    // the walk really reads A's data, so B seeing none of it means something
    for (const v of [A_DIMS.model, A_DIMS.feature, A_DIMS.user_id, A_DIMS.agent_id, A_DIMS.endpoint, A_TYPE, DASHBOARD]) expect(all, v).toContain(v);
    // …and every route shows some of it: a route the dataset does not reach would pass B's walk vacuously
    const dataValues = [...Object.values(A_DIMS), A_TYPE, DASHBOARD];
    const seesA = (r: Result) => nonZero(r).length > 0 || dataValues.some((v) => r.text.includes(v));
    const blind = [...new Set(reads.map((op) => op.path))].filter((p) => !results.some((r) => r.op.path === p && seesA(r)));
    expect(blind.filter((p) => !NO_TENANT_DATA.includes(p))).toEqual([]);
    expect(undocumented(results)).toEqual([]);
  });

  for (const keyKind of ['admin', 'read'] as const) {
    it(`tenant B's ${keyKind} key sees none of A's values and only zero totals, on every route`, async () => {
      const requests: (Walked & { cross?: boolean })[] = [
        ...walk(b, true),
        // A's tenant id in every uuid path parameter: a 404, never A's report
        ...reads
          .filter((op) => op.parameters.some((p) => p.in === 'path' && resolve(doc, p.schema).format === 'uuid'))
          .flatMap((op) => pathVariants(doc, op).map((v) => ({ op, cross: true, req: requestFor(doc, op, ctxFor(a), { params: v }) }))),
      ];
      const results = await sequential(requests.map((w) => async () => ({ ...w, ...(await send(b[keyKind], w.op, w.req)) })));
      const problems: string[] = [];
      for (const r of results) {
        const ok2xx = r.status >= 200 && r.status <= 299;
        const allowed = r.cross
          ? r.status === 404
          : ok2xx || (keyKind === 'read' && r.status === 403) || (r.probe === true && (r.status === 400 || r.status === 404));
        if (!allowed) problems.push(`status ${r.status}: ${label(r)}: ${r.text.slice(0, 200)}`);
        const leaked = leaks(r);
        if (leaked.length) problems.push(`leaks ${leaked.join(', ')}: ${label(r)}`);
        const totals = nonZero(r);
        if (totals.length) problems.push(`non-zero ${totals.slice(0, 5).join(', ')}: ${label(r)}`);
      }
      expect(problems).toEqual([]);
      expect(results.filter((r) => r.probe).length, 'probes of optional dimension parameters').toBeGreaterThan(0);
      expect(undocumented(results)).toEqual([]);
    });
  }

  it('an ingest-only key is refused by every read route (403), and sees nothing', async () => {
    const results = await sequential(walk(a).map(({ op, req }) => () => send(a.ingest, op, req)));
    const problems = results
      .filter((r) => r.op.secured)
      .filter((r) => !(r.status === 403 || (r.status === 404 && !engine.config.analytics.enabled)) || leaks(r).length)
      .map((r) => `${r.status} ${label(r)}: ${r.text.slice(0, 200)}`);
    expect(problems).toEqual([]);
    expect(undocumented(results)).toEqual([]);
  });

  it('no key or an unknown key: 401 on every secured route, the writers included', async () => {
    expect(secured.length).toBeGreaterThan(0);
    const requests = secured.flatMap((op) => pathVariants(doc, op).map((v) => ({ op, req: requestFor(doc, op, ctxFor(a), { params: v }) })));
    for (const key of [undefined, 'th_' + 'x'.repeat(40)]) {
      const results = await sequential(requests.map(({ op, req }) => () => send(key, op, req)));
      expect(results.filter((r) => r.status !== 401).map((r) => `${r.status} ${label(r)}`)).toEqual([]);
      for (const r of results) expect(leaks(r), label(r)).toEqual([]);
      expect(undocumented(results)).toEqual([]);
    }
  });

  it('injection in every string parameter and body field: a 400 or a normal empty answer, never SQL', async () => {
    const requests: { op: Operation; req: WalkRequest }[] = [];
    for (const op of reads) {
      const strings = op.parameters.filter((p) => (p.in === 'query' || p.in === 'path') && isStringSchema(doc, p.schema));
      for (const variant of pathVariants(doc, op)) {
        for (const p of strings) for (const bad of INJECTIONS) requests.push({ op, req: requestFor(doc, op, ctxFor(b), { params: { ...variant, [p.name]: bad } }) });
      }
      if (op.body) {
        const base = requestFor(doc, op, ctxFor(b)).body;
        for (const bad of INJECTIONS) for (const body of replaceEachString(base, bad)) requests.push({ op, req: { ...requestFor(doc, op, ctxFor(b)), body } });
      }
      if (op.method === 'post' && op.path === '/api/v1/analytics/query') {
        const base = requestFor(doc, op, ctxFor(b)).body as Record<string, unknown>;
        for (const bad of INJECTIONS) {
          for (const extra of [
            { group_by: [bad] },
            { group_by: ['model', bad] },
            { filters: [{ dimension: bad, op: 'eq', values: ['x'] }] },
            { filters: [{ dimension: 'model', op: 'eq', values: [bad] }] },
            { filters: [{ dimension: 'user_id', op: 'in', values: [bad, A_DIMS.user_id] }] },
            { filters: [{ dimension: 'feature', op: 'not_in', values: [bad] }] },
            { metadata: { [bad]: bad } },
            { order_by: { field: bad, direction: 'asc' } },
            { tz: bad },
            { metrics: [bad] },
          ]) {
            requests.push({ op, req: { ...requestFor(doc, op, ctxFor(b)), body: { ...base, ...extra } } });
          }
        }
      }
    }
    expect(requests.length).toBeGreaterThan(INJECTIONS.length * 10);
    const results = await sequential(requests.map(({ op, req }) => () => send(b.admin, op, req)));
    const problems: string[] = [];
    for (const r of results) {
      if (!((r.status >= 200 && r.status <= 299) || r.status === 400 || r.status === 404)) problems.push(`status ${r.status}: ${label(r)}: ${r.text.slice(0, 200)}`);
      if (CLICKHOUSE_ERROR.test(r.text)) problems.push(`engine error text: ${label(r)}: ${r.text.slice(0, 300)}`);
      const leaked = leaks(r);
      if (leaked.length) problems.push(`leaks ${leaked.join(', ')}: ${label(r)}`);
      const totals = nonZero(r);
      if (totals.length) problems.push(`non-zero ${totals.slice(0, 5).join(', ')}: ${label(r)}`);
    }
    expect(problems).toEqual([]);
    expect(undocumented(results)).toEqual([]);

    // …and the data is all still there
    const tables = await engine.services.ch.query<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase()');
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['events', 'rollup_hourly', 'rollup_daily']));
    const count = await engine.services.ch.query<{ n: string }>('SELECT toString(count()) AS n FROM events WHERE tenant_id = {t:String}', { t: a.id });
    expect(Number(count[0]!.n)).toBe(aEventCount);
  });
});

/** One request at a time: the embedded engine runs one query at a time anyway. */
async function sequential<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const t of tasks) out.push(await t());
  return out;
}

/** The body once per string leaf, that leaf replaced by `bad`. */
function replaceEachString(body: unknown, bad: string): unknown[] {
  const out: unknown[] = [];
  const visit = (v: unknown, set: (x: unknown) => unknown) => {
    if (typeof v === 'string') out.push(set(bad));
    else if (Array.isArray(v)) v.forEach((x, i) => visit(x, (y) => set(v.map((z, j) => (j === i ? y : z)))));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, (y) => set({ ...v, [k]: y }));
  };
  visit(body, (x) => x);
  return out;
}
