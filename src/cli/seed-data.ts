/**
 * A realistic, reproducible demo dataset: several tenants of different sizes, models with real
 * token shapes, features, users, agents and endpoints, daily and weekly seasonality, a few
 * percent failures. Same seed → same events (and the same event_ids, so a re-run is deduplicated).
 */
export interface SeedOptions {
  events: number;
  days: number;
  tenants: number;
  seed: number;
  nowMs: number;
}

export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
function weighted<T>(r: Rand, xs: readonly (readonly [T, number])[]): T {
  const total = xs.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [v, w] of xs) if ((x -= w) < 0) return v;
  return xs[xs.length - 1]![0];
}
/** Skewed pick: index i with weight 1/(i+1) (Zipf), so a few users/agents dominate. */
function zipf<T>(r: Rand, xs: readonly T[]): T {
  const h = Math.log(xs.length + 1);
  const i = Math.floor(Math.exp(r() * h) - 1);
  return xs[Math.min(i, xs.length - 1)]!;
}
const logNormal = (r: Rand, median: number, sigma: number) =>
  median * Math.exp(sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));

const MODELS = [
  ['gpt-4o', 'openai', 30],
  ['gpt-4o-mini', 'openai', 30],
  ['gpt-4.1', 'openai', 8],
  ['claude-sonnet-4-20250514', 'anthropic', 18],
  ['claude-3-5-haiku-20241022', 'anthropic', 6],
  ['gemini-2.5-flash', 'google', 6],
  ['internal-llama-70b', 'self-hosted', 2], // no list price: shows up as cost_unpriced
] as const;
const FEATURES = ['chat', 'search', 'summarize', 'code-review', 'support-bot', 'sql-assistant', 'untagged'];
const ENDPOINTS = ['/v1/chat', '/v1/search', '/v1/agents/run', '/v1/tokens', '/v1/credentials/rotate', '/v1/reports'];
const PROJECTS = ['web', 'mobile', 'platform'];
const ENVS = [['production', 80], ['staging', 15], ['development', 5]] as const;
const TYPES = [
  ['llm.call', 60],
  ['api.call', 22],
  ['token.issued', 8],
  ['workflow.run', 5],
  ['sql_generation', 3],
  ['credential.rotated', 1],
  ['dashboard_publish', 1],
] as const;
// Hour-of-day load (UTC), business-hours peak; weekends at 40 %.
const HOURLY = [0.25, 0.2, 0.18, 0.18, 0.2, 0.3, 0.45, 0.65, 0.85, 1, 1, 0.95, 0.9, 0.95, 1, 1, 0.95, 0.85, 0.7, 0.55, 0.45, 0.38, 0.32, 0.28];

export const SEED_TENANT_NAMES = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell'];

/** Shares of the events per tenant: Zipf-like, the first tenant biggest. */
export function tenantShares(n: number): number[] {
  const w = Array.from({ length: n }, (_, i) => 1 / (i + 1));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

export function* generateEvents(tenantIndex: number, count: number, o: SeedOptions): Generator<Record<string, unknown>> {
  const r = rng(o.seed * 1000 + tenantIndex);
  const users = Array.from({ length: 40 + 80 * (3 - Math.min(tenantIndex, 2)) }, (_, i) => `user-${tenantIndex}-${String(i).padStart(3, '0')}`);
  const agents = Array.from({ length: 25 }, (_, i) => `agent-${tenantIndex}-${String(i).padStart(2, '0')}`);
  const runs = 5000;
  const spanMs = o.days * 86_400_000;
  // Whole hours: the window ends at the last closed hour so every event is in the past.
  const end = Math.floor(o.nowMs / 3_600_000) * 3_600_000;
  for (let i = 0; i < count; i++) {
    let ts: number;
    for (;;) {
      ts = end - Math.floor(r() * spanMs) - 1;
      const d = new Date(ts);
      const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
      if (r() < HOURLY[d.getUTCHours()]! * (weekend ? 0.4 : 1)) break;
    }
    const type = weighted(r, TYPES);
    const success = r() > (type === 'token.issued' ? 0.05 : 0.03);
    const e: Record<string, unknown> = {
      event_id: `seed-${o.seed}-${tenantIndex}-${i}`,
      ts: new Date(ts).toISOString(),
      event_type: type,
      project: pick(r, PROJECTS),
      environment: weighted(r, ENVS),
      user_id: zipf(r, users),
      feature: pick(r, FEATURES),
      success,
      status: success ? '200' : weighted(r, [['500', 5], ['429', 3], ['timeout', 2]] as const),
      latency_ms: Math.round(logNormal(r, 180, 0.6)),
      run_id: `run-${tenantIndex}-${Math.floor(r() * runs)}`,
    };
    if (type === 'llm.call' || type === 'sql_generation') {
      const [model, provider] = weighted(r, MODELS.map(([m, p, w]) => [[m, p], w] as const));
      e.model = model;
      e.provider = provider;
      e.input_tokens = Math.max(1, Math.round(logNormal(r, 900, 0.8)));
      e.output_tokens = success ? Math.max(1, Math.round(logNormal(r, 250, 0.7))) : 0;
      e.latency_ms = Math.round(logNormal(r, 1200, 0.5));
      e.agent_id = r() < 0.5 ? zipf(r, agents) : undefined;
    } else {
      e.agent_id = zipf(r, agents);
      e.endpoint = type === 'token.issued' ? '/v1/tokens' : type === 'credential.rotated' ? '/v1/credentials/rotate' : pick(r, ENDPOINTS);
      e.compute_units = type === 'workflow.run' ? 1 + Math.floor(r() * 20) : 0;
    }
    if (e.agent_id === undefined) delete e.agent_id;
    if (type === 'sql_generation') e.metadata = { question_length: String(Math.floor(r() * 300)) };
    yield e;
  }
}
