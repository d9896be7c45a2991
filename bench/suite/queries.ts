/**
 * The dashboard set over HTTP on the largest tenant: usage and cost statistics (30 d hourly, 90 d
 * daily), cost by model and by user, the agent heatmap, token trends and the usage summary;
 * p50/p95/p99 over `runs` runs after 2 warm-ups, answered by the planner from the rollups (auto)
 * and forced raw, same run. The statistics routes take `source=raw` themselves; the agent
 * endpoints do not, so for them the endpoint is timed as served and the ratio comes from their
 * planner questions sent to POST /api/v1/analytics/query with source auto and raw. Response cache
 * off (the server runs with CACHE_ENABLED=false): every request reaches the engine.
 * Also: 8 dashboard requests at once versus the same 8 one after another.
 */
import { fig, round, summarize, type Figure } from './common.js';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

interface DashboardItem {
  slug: string;
  label: string;
  /** The route as a dashboard calls it (auto). */
  endpoint: RequestSpec[];
  /** Forced raw; for the statistics routes the same route with source=raw. */
  raw: RequestSpec[];
  /** Without a source parameter: the planner questions with source auto, to pair with raw. */
  plannerAuto?: RequestSpec[];
}

const HOUR = 3_600_000;
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const dayText = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function dashboardSet(nowMs: number): DashboardItem[] {
  const to = Math.floor(nowMs / HOUR) * HOUR;
  const from30 = to - 30 * DAY;
  const toDay = Math.ceil(nowMs / DAY) * DAY;
  const from90 = toDay - 90 * DAY;
  const today = dayText(nowMs);
  const from30d = dayText(nowMs - 30 * DAY);
  const stats = (topic: string, from: number, t: number, resolution: string, source?: string): RequestSpec => ({
    method: 'GET',
    path: `/api/v1/analytics/statistics/${topic}?from=${iso(from)}&to=${iso(t)}&resolution=${resolution}${source ? `&source=${source}` : ''}`,
  });
  const query = (body: Record<string, unknown>, source: 'auto' | 'raw'): RequestSpec => ({
    method: 'POST',
    path: '/api/v1/analytics/query',
    body: { from: iso(from30), to: iso(to), ...body, source },
  });
  const dayWindow = { from: `${from30d}T00:00:00Z`, to: iso(Date.parse(`${today}T00:00:00Z`) + DAY) };
  const summaryQs = (s: 'auto' | 'raw') => [
    query({ ...dayWindow, metrics: ['events'], group_by: ['time', 'event_type'], granularity: 'day', filters: [{ dimension: 'event_type', op: 'in', values: ['api.call', 'token.issued', 'credential.rotated'] }] }, s),
    query({ ...dayWindow, metrics: ['unique_agents'] }, s),
  ];
  const heatmapQ = (s: 'auto' | 'raw') => [query({ ...dayWindow, metrics: ['events'], group_by: ['time', 'agent_id', 'event_type'], granularity: 'day' }, s)];
  const trendsQ = (s: 'auto' | 'raw') => [
    query({ ...dayWindow, metrics: ['events', 'failures', 'unique_agents'], group_by: ['time'], granularity: 'day', filters: [{ dimension: 'event_type', op: 'eq', values: ['token.issued'] }] }, s),
  ];
  const byModel = (s: 'auto' | 'raw') => [query({ metrics: ['cost', 'requests', 'total_tokens'], group_by: ['model'] }, s)];
  const byUser = (s: 'auto' | 'raw') => [query({ metrics: ['cost', 'requests'], group_by: ['user_id'], order_by: { field: 'cost', direction: 'desc' }, limit: 20, other: true }, s)];
  const period = `?from=${from30d}&to=${today}`;
  return [
    { slug: 'usage_30d_hourly', label: 'usage statistics 30 d hourly (totals incl. distinct users/agents, p95 latency)', endpoint: [stats('usage', from30, to, 'hour')], raw: [stats('usage', from30, to, 'hour', 'raw')] },
    { slug: 'cost_30d_hourly', label: 'cost statistics 30 d hourly (series + by model/feature/user)', endpoint: [stats('cost', from30, to, 'hour')], raw: [stats('cost', from30, to, 'hour', 'raw')] },
    { slug: 'usage_90d_daily', label: 'usage statistics 90 d daily', endpoint: [stats('usage', from90, toDay, 'day')], raw: [stats('usage', from90, toDay, 'day', 'raw')] },
    { slug: 'cost_90d_daily', label: 'cost statistics 90 d daily', endpoint: [stats('cost', from90, toDay, 'day')], raw: [stats('cost', from90, toDay, 'day', 'raw')] },
    { slug: 'by_model_30d', label: 'cost by model 30 d (POST /analytics/query)', endpoint: byModel('auto'), raw: byModel('raw') },
    { slug: 'by_user_30d', label: 'cost by user 30 d, top 20 + other', endpoint: byUser('auto'), raw: byUser('raw') },
    { slug: 'agent_heatmap_30d', label: 'agent heatmap 30 d (GET /analytics/agent-activity)', endpoint: [{ method: 'GET', path: `/api/v1/analytics/agent-activity${period}` }], raw: heatmapQ('raw'), plannerAuto: heatmapQ('auto') },
    { slug: 'token_trends_30d', label: 'token trends 30 d daily (GET /analytics/token-trends)', endpoint: [{ method: 'GET', path: `/api/v1/analytics/token-trends${period}` }], raw: trendsQ('raw'), plannerAuto: trendsQ('auto') },
    { slug: 'usage_summary', label: 'usage summary 30 d (GET /analytics/usage-summary)', endpoint: [{ method: 'GET', path: `/api/v1/analytics/usage-summary${period}` }], raw: summaryQs('raw'), plannerAuto: summaryQs('auto') },
  ];
}

export async function send(url: string, key: string, spec: RequestSpec): Promise<{ status: number; json: unknown }> {
  const r = await fetch(url + spec.path, {
    method: spec.method,
    headers: { authorization: `Bearer ${key}`, ...(spec.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
  });
  const json = await r.json();
  if (r.status !== 200) throw new Error(`${spec.method} ${spec.path}: ${r.status} ${JSON.stringify(json).slice(0, 400)}`);
  return { status: r.status, json };
}

/** The tables that answered, from a statistics or query response. */
function sourcesOf(json: unknown): string[] {
  const j = json as { sources?: string[]; signals?: { sources?: string[] } };
  return j.sources ?? j.signals?.sources ?? [];
}

/** One dashboard view: its requests together, as the page sends them. */
async function timeView(url: string, key: string, specs: RequestSpec[], runs: number, onRun?: () => void): Promise<{ times: number[]; sources: string[] }> {
  const times: number[] = [];
  const sources = new Set<string>();
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    const rs = await Promise.all(specs.map((s) => send(url, key, s)));
    const ms = performance.now() - t0;
    if (i >= 2) times.push(ms);
    if (i === 0) rs.forEach((r) => sourcesOf(r.json).forEach((s) => sources.add(s)));
    onRun?.();
  }
  return { times, sources: [...sources].sort() };
}

export const queryRunsPerItem = (items: DashboardItem[], runs: number) => items.reduce((n, it) => n + (runs + 2) * (it.plannerAuto ? 3 : 2), 0);

export async function dashboardQueries(url: string, key: string, nowMs: number, runs: number, onRun?: () => void): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const it of dashboardSet(nowMs)) {
    const ep = await timeView(url, key, it.endpoint, runs, onRun);
    const auto = it.plannerAuto ? await timeView(url, key, it.plannerAuto, runs, onRun) : ep;
    const raw = await timeView(url, key, it.raw, runs, onRun);
    const e = summarize(ep.times);
    const a = summarize(auto.times);
    const r = summarize(raw.times);
    const s = `queries.${it.slug}`;
    const sec = 'queries';
    if (it.plannerAuto) {
      out.push(fig(sec, `${s}.endpoint.p50_ms`, `${it.label}: endpoint p50`, round(e.p50), 'ms'));
      out.push(fig(sec, `${s}.endpoint.p95_ms`, `${it.label}: endpoint p95`, round(e.p95), 'ms'));
      out.push(fig(sec, `${s}.endpoint.p99_ms`, `${it.label}: endpoint p99`, round(e.p99), 'ms'));
    }
    const via = it.plannerAuto ? ' (its questions via /analytics/query)' : '';
    out.push(fig(sec, `${s}.auto.p50_ms`, `${it.label}: rollups p50${via}`, round(a.p50), 'ms', `tables ${auto.sources.join('+')}`));
    out.push(fig(sec, `${s}.auto.p95_ms`, `${it.label}: rollups p95${via}`, round(a.p95), 'ms'));
    out.push(fig(sec, `${s}.auto.p99_ms`, `${it.label}: rollups p99${via}`, round(a.p99), 'ms'));
    out.push(fig(sec, `${s}.raw.p50_ms`, `${it.label}: forced raw p50`, round(r.p50), 'ms', `tables ${raw.sources.join('+')}`));
    out.push(fig(sec, `${s}.raw.p95_ms`, `${it.label}: forced raw p95`, round(r.p95), 'ms'));
    out.push(fig(sec, `${s}.raw.p99_ms`, `${it.label}: forced raw p99`, round(r.p99), 'ms'));
    out.push(fig(sec, `${s}.raw_over_auto_p95`, `${it.label}: raw ÷ rollups (p95)`, round(r.p95 / a.p95, 2), 'ratio'));
  }
  return out;
}

/** The eight dashboard requests of the concurrency figure: one of each dashboard view's first request. */
export function eightDashboardRequests(nowMs: number): RequestSpec[] {
  const items = dashboardSet(nowMs);
  const pick = ['usage_30d_hourly', 'cost_30d_hourly', 'usage_90d_daily', 'cost_90d_daily', 'by_model_30d', 'by_user_30d', 'agent_heatmap_30d', 'usage_summary'];
  return pick.map((s) => items.find((i) => i.slug === s)!.endpoint[0]!);
}

export async function concurrency(url: string, key: string, nowMs: number, rounds: number, onRound?: () => void): Promise<Figure[]> {
  const specs = eightDashboardRequests(nowMs);
  for (const s of specs) await send(url, key, s); // warm-up
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const s of specs) await send(url, key, s);
    onRound?.();
  }
  const seqS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let r = 0; r < rounds; r++) {
    await Promise.all(specs.map((s) => send(url, key, s)));
    onRound?.();
  }
  const parS = (performance.now() - t1) / 1000;
  const n = specs.length * rounds;
  return [
    fig('concurrency', 'concurrency.sequential_qps', '8 dashboard requests one after another', round(n / seqS, 1), 'req/s', `${rounds} rounds`),
    fig('concurrency', 'concurrency.concurrent_qps', '8 dashboard requests at once', round(n / parS, 1), 'req/s'),
    fig('concurrency', 'concurrency.speedup', '8 at once ÷ one after another (throughput)', round(seqS / parS, 2), 'ratio'),
  ];
}
