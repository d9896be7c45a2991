import type { Severity } from '../../../src/control/incidents/types.js';

/**
 * Generated seasonal usage for spike/drop detection: 5 weeks of hourly traffic per tenant with a
 * daily curve (peak 14:00 UTC, night at ~30 %), a weekly one (weekends at 55 %), and log-normal
 * noise (σ 0.12 by default, per profile) on every (model, feature) cell, deterministic from a seed. Each hour of each
 * cell is two events (the successes, and ~1 % failures) carrying request counts, so 5 weeks of
 * 3 tenants is ~50k events. Injections (spikes, drops, error bursts) only touch the last week,
 * the one detection is run over; the 4 weeks before are its clean baseline.
 */

export const HOUR = 3_600_000;
export const WEEK = 7 * 24 * HOUR;

export const MODELS = [
  { name: 'gpt-4o', usdPerRequest: 0.02 },
  { name: 'gpt-4o-mini', usdPerRequest: 0.002 },
  { name: 'claude-sonnet', usdPerRequest: 0.015 },
] as const;
export const FEATURES = [
  { name: 'chat', apiKey: 'key-chat', endpoint: '/v1/chat' },
  { name: 'search', apiKey: 'key-search', endpoint: '/v1/search' },
] as const;

/** Requests per hour of each (model, feature) cell at the daily and weekly peak. */
export interface TenantProfile {
  label: string;
  peakRequests: number;
  /** σ of the log-normal noise of each cell-hour (default 0.12). */
  noise?: number;
}

export type InjectionKind = 'spike' | 'drop' | 'errors';

/** What was done to one (tenant, hour, model): the truth detection is scored against. */
export interface Injection {
  label: string;
  kind: InjectionKind;
  hourMs: number;
  model: string;
  /** spike: cost × factor; drop: requests × factor (0 = outage); errors: failed share. */
  factor: number;
  /** The severity this injection should be found with at least (by its z and impact). */
  expect: Severity;
}

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const daily = (hourOfDay: number) => 0.3 + 0.7 * Math.exp(-(((hourOfDay - 14) / 4.5) ** 2));
export const weekly = (dayOfWeek: number) => (dayOfWeek === 0 || dayOfWeek === 6 ? 0.55 : 1);

/** Cost of `requests` calls of a model, as an exact decimal string (9 decimals at most). */
const costOf = (requests: number, usdPerRequest: number) => (Math.round(requests * usdPerRequest * 1e6) / 1e6).toFixed(6);

/**
 * Events of one tenant over [fromMs, toMs), hour by hour, with the injections of that tenant
 * applied. Users: each (model, feature) cell belongs to one of four users.
 */
export function tenantEvents(p: TenantProfile, fromMs: number, toMs: number, injections: Injection[], seed: number): object[] {
  const rnd = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const events: object[] = [];
  let n = 0;
  for (let h = fromMs; h < toMs; h += HOUR) {
    const d = new Date(h);
    const level = p.peakRequests * daily(d.getUTCHours()) * weekly(d.getUTCDay());
    MODELS.forEach((m, mi) =>
      FEATURES.forEach((f, fi) => {
        const inj = injections.find((i) => i.label === p.label && i.hourMs === h && i.model === m.name);
        let requests = Math.max(1, Math.round(level * Math.exp((p.noise ?? 0.12) * gauss())));
        let failed = Math.round(requests * 0.01 * Math.exp(0.3 * gauss()));
        let usdPerRequest: number = m.usdPerRequest;
        if (inj?.kind === 'spike') usdPerRequest *= inj.factor;
        if (inj?.kind === 'drop') requests = Math.round(requests * inj.factor);
        if (inj?.kind === 'errors') failed = Math.round(requests * inj.factor);
        failed = Math.min(failed, requests);
        const common = {
          ts: new Date(h + ((mi * 2 + fi) * 60_000) % HOUR).toISOString(),
          event_type: 'llm.call',
          model: m.name,
          feature: f.name,
          api_key_id: f.apiKey,
          endpoint: f.endpoint,
          user_id: `user-${(mi * 2 + fi) % 4}`,
        };
        const ok = requests - failed;
        if (ok > 0) events.push({ ...common, event_id: `${p.label}-${h}-${mi}-${fi}-ok-${n++}`, success: true, requests: ok, cost: costOf(ok, usdPerRequest) });
        if (failed > 0) events.push({ ...common, event_id: `${p.label}-${h}-${mi}-${fi}-ko-${n++}`, success: false, status: 'error', requests: failed, cost: costOf(failed, usdPerRequest) });
      }),
    );
  }
  return events;
}
