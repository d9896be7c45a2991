import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine, type TestTenant } from '../../../helpers/engine.js';

/**
 * Seed 002 agent analytics over a known dataset. Days are counted back from today (UTC):
 * D(k) is k days ago. The main period is D(10) .. D(1); events on D(12), D(20) and today lie
 * outside it and inside the default period (today − 30 .. today).
 */
const TODAY = DateTime.utc().startOf('day');
const D = (k: number) => TODAY.minus({ days: k }).toISODate()!;
const at = (k: number, time: string) => `${D(k)}T${time}Z`;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; requestId: string };
}

let seq = 0;
type Extra = Record<string, unknown>;
const ev = (event_type: string, ts: string, extra: Extra = {}) => ({ event_id: `e-${++seq}`, event_type, ts, ...extra });
/** n events one second apart from `time`, extra(i) per event. */
const burst = (n: number, event_type: string, k: number, time: string, extra: (i: number) => Extra) =>
  Array.from({ length: n }, (_, i) => ev(event_type, DateTime.fromISO(at(k, time)).plus({ seconds: i }).toUTC().toISO()!, extra(i)));

// Tenant A's dataset.
const A_EVENTS = [
  // api.call: endpoint, latency, outcome
  ...burst(3, 'api.call', 10, '09:15:00', (i) => ({ agent_id: 'agent-a', endpoint: '/v1/tokens', latency_ms: [10, 20, 30][i] })),
  ev('api.call', at(10, '14:00:00'), { agent_id: 'agent-a', endpoint: '/v1/agents', latency_ms: 90, success: false, status: '500' }),
  ...burst(2, 'api.call', 5, '09:40:00', (i) => ({ agent_id: 'agent-a', endpoint: '/v1/tokens', latency_ms: [40, 50][i] })),
  ...burst(4, 'api.call', 5, '14:10:00', (i) => ({ agent_id: 'agent-b', endpoint: '/v1/agents', latency_ms: [55, 65, 75, 85][i], success: i !== 3 })),
  ev('api.call', at(1, '23:59:00'), { agent_id: 'agent-b', endpoint: '/v1/tokens', latency_ms: 60 }),
  ...burst(2, 'api.call', 3, '09:05:00', (i) => ({ endpoint: '/v1/tokens', latency_ms: [70, 80][i] })), // no agent
  ev('api.call', at(3, '10:00:00'), { agent_id: 'agent-a' }), // no endpoint
  // token.issued, two failed
  ...burst(2, 'token.issued', 10, '10:00:00', () => ({ agent_id: 'agent-a' })),
  ev('token.issued', at(9, '10:00:00'), { agent_id: 'agent-a', success: false }),
  ...burst(3, 'token.issued', 9, '11:00:00', (i) => ({ agent_id: 'agent-b', success: i !== 2 })),
  ev('token.issued', at(2, '11:00:00'), { agent_id: 'agent-b' }),
  // credential.rotated: agent-a three times (6 d 6 h from first to last), agent-b once
  ev('credential.rotated', at(8, '08:00:00'), { agent_id: 'agent-a' }),
  ev('credential.rotated', at(6, '20:00:00'), { agent_id: 'agent-a' }),
  ev('credential.rotated', at(2, '14:00:00'), { agent_id: 'agent-a' }),
  ev('credential.rotated', at(4, '12:00:00'), { agent_id: 'agent-b' }),
  // agent-c only calls a model: active, but no API calls
  ...burst(2, 'llm.call', 7, '12:00:00', () => ({ agent_id: 'agent-c', user_id: 'u1', model: 'gpt-4o', input_tokens: 100, output_tokens: 50 })),
  // outside D(10)..D(1), inside the default period
  ev('api.call', at(12, '09:00:00'), { agent_id: 'agent-a', endpoint: '/v1/tokens', latency_ms: 5 }),
  ev('token.issued', at(12, '09:00:00'), { agent_id: 'agent-b' }),
  ev('credential.rotated', at(12, '12:00:00'), { agent_id: 'agent-b' }),
  ev('api.call', at(20, '12:00:00'), { agent_id: 'agent-old', endpoint: '/v1/old' }),
  ev('api.call', `${D(0)}T00:00:00Z`, { agent_id: 'agent-b', endpoint: '/v1/tokens', latency_ms: 1 }),
];

// Tenant B: its own agent, same event types, other names.
const B_EVENTS = [
  ...burst(2, 'api.call', 5, '16:00:00', () => ({ agent_id: 'agent-z', endpoint: '/v1/secret', latency_ms: 7 })),
  ev('credential.rotated', at(5, '16:30:00'), { agent_id: 'agent-z' }),
];

const MAIN = `from=${D(10)}&to=${D(1)}`;
const ROUTES = ['usage-summary', 'agent-activity', 'token-trends', 'credential-rotations', 'endpoint-patterns'] as const;

describe('seed 002 agent analytics', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  let free: TestTenant;

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await engine.newTenant();
    b = await engine.newTenant();
    free = await engine.newTenant(undefined, 'free');
    for (const [t, events] of [
      [a, A_EVENTS],
      [b, B_EVENTS],
    ] as const) {
      const r = await engine.services.ingest.ingest({ tenantId: t.id, apiKeyId: 'k' }, events);
      expect(r.rejected).toEqual([]);
      expect(r.accepted).toBe(events.length);
    }
  });
  afterAll(() => engine?.close());

  const get = async (route: string, query: string, key: string | undefined) => {
    const r = await engine.request('GET', `/api/v1/analytics/${route}${query ? `?${query}` : ''}`, { key });
    return { r, body: (await r.json()) as Record<string, unknown> };
  };
  const ok = async (route: string, query: string, key = a.read) => {
    const { r, body } = await get(route, query, key);
    expect(r.status, JSON.stringify(body)).toBe(200);
    return body as any;
  };
  const fails = async (route: string, query: string, key: string | undefined, status: number, code: string) => {
    const { r, body } = await get(route, query, key);
    const err = (body as unknown as ErrorBody).error;
    expect(r.status, JSON.stringify(body)).toBe(status);
    expect(err.code).toBe(code);
    expect(err.requestId).toBeTruthy();
    return err;
  };
  /** Every day of D(from)..D(to) with zero counts, then the given days set. */
  const heat = (from: number, to: number, set: Record<number, [number, number, number]>) =>
    Array.from({ length: from - to + 1 }, (_, i) => {
      const k = from - i;
      const [apiCalls, tokenIssuances, credentialRotations] = set[k] ?? [0, 0, 0];
      return { date: D(k), apiCalls, tokenIssuances, credentialRotations };
    });

  describe('GET /api/v1/analytics/usage-summary', () => {
    it('sums the period exactly: API calls, issuances, rotations, active agents, average and peak day', async () => {
      expect(await ok('usage-summary', MAIN)).toEqual({
        tenantId: a.id,
        period: { from: D(10), to: D(1) },
        summary: {
          totalApiCalls: 14, // api.call only: the two llm.call events are not API calls
          totalTokenIssuances: 7,
          totalCredentialRotations: 4,
          activeAgentCount: 3, // agent-a, agent-b and agent-c (llm.call only)
          averageDailyApiCalls: 1.4, // 14 over 10 days
          peakDailyApiCalls: 6,
          peakDate: D(5),
        },
      });
    });

    it('defaults to the 30 days before today through today, and rounds the average half up', async () => {
      expect(await ok('usage-summary', '')).toEqual({
        tenantId: a.id,
        period: { from: D(30), to: D(0) },
        summary: {
          totalApiCalls: 17, // + D(12), D(20) and today's
          totalTokenIssuances: 8,
          totalCredentialRotations: 5,
          activeAgentCount: 4, // + agent-old
          averageDailyApiCalls: 0.55, // 17 / 31 = 0.548…
          peakDailyApiCalls: 6,
          peakDate: D(5),
        },
      });
      // `from` alone: through today; `to` alone: the 30 days before it.
      expect((await ok('usage-summary', `from=${D(3)}`)).summary.totalApiCalls).toBe(5); // D(3): 3, D(1): 1, today: 1
      expect((await ok('usage-summary', `to=${D(11)}`)).period).toEqual({ from: D(41), to: D(11) });
    });

    it('has no peak date when there were no API calls', async () => {
      expect((await ok('usage-summary', `from=${D(9)}&to=${D(6)}`)).summary).toEqual({
        totalApiCalls: 0,
        totalTokenIssuances: 4,
        totalCredentialRotations: 2,
        activeAgentCount: 3,
        averageDailyApiCalls: 0,
        peakDailyApiCalls: 0,
        peakDate: null,
      });
    });

    it('refuses bad ranges with 400 INVALID_DATE_RANGE naming the field', async () => {
      expect((await fails('usage-summary', `from=${D(1)}&to=${D(2)}`, a.read, 400, 'INVALID_DATE_RANGE')).details).toEqual({ field: 'from' });
      const future = TODAY.plus({ days: 1 }).toISODate()!;
      const err = await fails('usage-summary', `from=${D(2)}&to=${future}`, a.read, 400, 'INVALID_DATE_RANGE');
      expect(err.details).toEqual({ field: 'to' });
      expect(err.message).toContain('after today');
      expect((await fails('usage-summary', 'from=yesterday', a.read, 400, 'INVALID_DATE_RANGE')).details).toEqual({ field: 'from' });
      expect((await fails('usage-summary', 'to=2026-02-30', a.read, 400, 'INVALID_DATE_RANGE')).details).toEqual({ field: 'to' });
      expect((await fails('usage-summary', `to=${D(1)}T00:00:00Z`, a.read, 400, 'INVALID_DATE_RANGE')).message).toContain('`to`');
      const long = await fails('usage-summary', `from=${D(366)}&to=${D(0)}`, a.read, 400, 'INVALID_DATE_RANGE');
      expect(long.message).toContain('at most 365');
      expect(long.details).toEqual({ field: 'from', maxDays: 365 });
      expect((await ok('usage-summary', `from=${D(365)}&to=${D(0)}`)).summary.totalApiCalls).toBe(17);
    });
  });

  describe('GET /api/v1/analytics/agent-activity', () => {
    it('gives every agent of the period a gap-filled daily row, agents sorted by id', async () => {
      expect(await ok('agent-activity', MAIN)).toEqual({
        tenantId: a.id,
        period: { from: D(10), to: D(1) },
        agents: [
          {
            agentId: 'agent-a',
            agentName: 'agent-a',
            dailyActivity: heat(10, 1, { 10: [4, 2, 0], 9: [0, 1, 0], 8: [0, 0, 1], 6: [0, 0, 1], 5: [2, 0, 0], 3: [1, 0, 0], 2: [0, 0, 1] }),
          },
          { agentId: 'agent-b', agentName: 'agent-b', dailyActivity: heat(10, 1, { 9: [0, 3, 0], 5: [4, 0, 0], 4: [0, 0, 1], 2: [0, 1, 0], 1: [1, 0, 0] }) },
          { agentId: 'agent-c', agentName: 'agent-c', dailyActivity: heat(10, 1, {}) },
        ],
      });
    });

    it('filters to one agent; an agent quiet in the period but known to the tenant gets zeros', async () => {
      expect((await ok('agent-activity', `${MAIN}&agentId=agent-b`)).agents).toEqual([
        { agentId: 'agent-b', agentName: 'agent-b', dailyActivity: heat(10, 1, { 9: [0, 3, 0], 5: [4, 0, 0], 4: [0, 0, 1], 2: [0, 1, 0], 1: [1, 0, 0] }) },
      ]);
      expect((await ok('agent-activity', `${MAIN}&agentId=agent-old`)).agents).toEqual([{ agentId: 'agent-old', agentName: 'agent-old', dailyActivity: heat(10, 1, {}) }]);
    });

    it('answers 404 AGENT_NOT_FOUND for an unknown agent and for another tenant’s agent', async () => {
      const err = await fails('agent-activity', `${MAIN}&agentId=agent-nobody`, a.read, 404, 'AGENT_NOT_FOUND');
      expect(err.message).toContain('agent-nobody');
      expect(err.details).toEqual({ field: 'agentId' });
      await fails('agent-activity', `${MAIN}&agentId=agent-z`, a.read, 404, 'AGENT_NOT_FOUND');
      expect((await ok('agent-activity', `${MAIN}&agentId=agent-z`, b.read)).agents[0].agentId).toBe('agent-z');
    });

    it('allows 90 days and refuses 91 with INVALID_DATE_RANGE', async () => {
      expect((await ok('agent-activity', `from=${D(90)}&to=${D(0)}&agentId=agent-c`)).agents[0].dailyActivity).toHaveLength(91);
      const err = await fails('agent-activity', `from=${D(91)}&to=${D(0)}`, a.read, 400, 'INVALID_DATE_RANGE');
      expect(err.details).toEqual({ field: 'from', maxDays: 90 });
      await fails('agent-activity', `from=${D(1)}&to=${D(3)}`, a.read, 400, 'INVALID_DATE_RANGE');
    });
  });

  describe('GET /api/v1/analytics/token-trends', () => {
    const DAILY: Record<number, [number, number, number, number]> = { 10: [2, 2, 0, 1], 9: [4, 2, 2, 2], 2: [1, 1, 0, 1] };

    it('gives total, successful, failed and unique agents per day, every day present', async () => {
      const body = await ok('token-trends', MAIN);
      expect(body.granularity).toBe('day');
      expect(body.dataPoints).toEqual(
        Array.from({ length: 10 }, (_, i) => {
          const k = 10 - i;
          const [totalIssuances, successfulIssuances, failedIssuances, uniqueAgents] = DAILY[k] ?? [0, 0, 0, 0];
          return { date: D(k), totalIssuances, successfulIssuances, failedIssuances, uniqueAgents };
        }),
      );
    });

    it('buckets ISO weeks (Monday dates), counting each agent once per week', async () => {
      // The issuances as (day, agent, ok), and the weeks they fall in.
      const issued: [number, string, boolean][] = [
        [10, 'agent-a', true], [10, 'agent-a', true], [9, 'agent-a', false], [9, 'agent-b', true], [9, 'agent-b', true], [9, 'agent-b', false], [2, 'agent-b', true],
      ];
      const monday = (k: number) => TODAY.minus({ days: k }).startOf('week').toISODate()!;
      const weeks = new Map<string, { totalIssuances: number; successfulIssuances: number; failedIssuances: number; agents: Set<string> }>();
      for (let k = 10; k >= 1; k--) weeks.set(monday(k), weeks.get(monday(k)) ?? { totalIssuances: 0, successfulIssuances: 0, failedIssuances: 0, agents: new Set() });
      for (const [k, agent, success] of issued) {
        const w = weeks.get(monday(k))!;
        w.totalIssuances++;
        if (success) w.successfulIssuances++;
        else w.failedIssuances++;
        w.agents.add(agent);
      }
      const body = await ok('token-trends', `${MAIN}&granularity=week`);
      expect(body.granularity).toBe('week');
      expect(body.dataPoints).toEqual([...weeks].map(([date, { agents, ...w }]) => ({ date, ...w, uniqueAgents: agents.size })));
      expect(body.dataPoints.reduce((s: number, p: { totalIssuances: number }) => s + p.totalIssuances, 0)).toBe(7);
    });

    it('refuses a granularity other than day or week with 400 INVALID_GRANULARITY', async () => {
      const err = await fails('token-trends', `${MAIN}&granularity=month`, a.read, 400, 'INVALID_GRANULARITY');
      expect(err.details).toEqual({ field: 'granularity', valid: ['day', 'week'] });
      await fails('token-trends', 'granularity=', a.read, 400, 'INVALID_GRANULARITY');
      await fails('token-trends', `from=${D(366)}&to=${D(0)}`, a.read, 400, 'INVALID_DATE_RANGE');
    });
  });

  describe('GET /api/v1/analytics/credential-rotations', () => {
    const ROT_A = { agentId: 'agent-a', rotations: 3, lastRotatedAt: `${D(2)}T14:00:00.000Z`, averageDaysBetweenRotations: 3.13 }; // 6.25 d / 2
    const ROT_B = { agentId: 'agent-b', rotations: 1, lastRotatedAt: `${D(4)}T12:00:00.000Z` };
    const ROT_C = { agentId: 'agent-c', rotations: 0 };

    it('lists every active agent with its rotations, last rotation and average interval, most rotations first', async () => {
      expect(await ok('credential-rotations', MAIN)).toEqual({ tenantId: a.id, period: { from: D(10), to: D(1) }, agents: [ROT_A, ROT_B, ROT_C] });
      // D(12)'s rotation of agent-b joins in the default period: two rotations, 8 days apart.
      const all = await ok('credential-rotations', '');
      expect(all.agents.find((x: { agentId: string }) => x.agentId === 'agent-b')).toEqual({
        agentId: 'agent-b',
        rotations: 2,
        lastRotatedAt: `${D(4)}T12:00:00.000Z`,
        averageDaysBetweenRotations: 8,
      });
    });

    it('sorts by agentId or lastRotatedAt in either order', async () => {
      const ids = async (q: string) => (await ok('credential-rotations', `${MAIN}&${q}`)).agents.map((x: { agentId: string }) => x.agentId);
      expect(await ids('sort=rotations&order=asc')).toEqual(['agent-c', 'agent-b', 'agent-a']);
      expect(await ids('sort=agentId')).toEqual(['agent-a', 'agent-b', 'agent-c']);
      expect(await ids('sort=agentId&order=desc')).toEqual(['agent-c', 'agent-b', 'agent-a']);
      expect(await ids('sort=lastRotatedAt')).toEqual(['agent-a', 'agent-b', 'agent-c']);
      expect(await ids('sort=lastRotatedAt&order=asc')).toEqual(['agent-c', 'agent-b', 'agent-a']);
      const err = await fails('credential-rotations', `${MAIN}&sort=name`, a.read, 400, 'INVALID_REQUEST');
      expect(err.message).toContain('sort');
      await fails('credential-rotations', `from=${D(366)}&to=${D(0)}`, a.read, 400, 'INVALID_DATE_RANGE');
    });
  });

  describe('GET /api/v1/analytics/endpoint-patterns', () => {
    const days = (set: Record<number, number>) => Array.from({ length: 10 }, (_, i) => ({ date: D(10 - i), calls: set[10 - i] ?? 0 }));

    it('gives calls, success rate, p95 latency, peak hour and daily calls per endpoint, busiest first', async () => {
      expect(await ok('endpoint-patterns', MAIN)).toEqual({
        tenantId: a.id,
        period: { from: D(10), to: D(1) },
        tz: 'UTC',
        totalEndpoints: 2, // the api.call without an endpoint is in no row
        endpoints: [
          // latencies 10..80: nearest-rank p95 of 8 is the 8th
          { endpoint: '/v1/tokens', totalCalls: 8, successRate: 1, p95LatencyMs: 80, peakHour: 9, dailyCalls: days({ 10: 3, 5: 2, 3: 2, 1: 1 }) },
          { endpoint: '/v1/agents', totalCalls: 5, successRate: 0.6, p95LatencyMs: 90, peakHour: 14, dailyCalls: days({ 10: 1, 5: 4 }) },
        ],
      });
      const top = await ok('endpoint-patterns', `${MAIN}&limit=1`);
      expect(top.totalEndpoints).toBe(2);
      expect(top.endpoints.map((e: { endpoint: string }) => e.endpoint)).toEqual(['/v1/tokens']);
    });

    it('counts days and hours in tz (Asia/Kolkata, UTC+5:30: D(1) 23:59 UTC is the next day there)', async () => {
      expect(await ok('endpoint-patterns', `${MAIN}&tz=Asia/Kolkata`)).toEqual({
        tenantId: a.id,
        period: { from: D(10), to: D(1) },
        tz: 'Asia/Kolkata',
        totalEndpoints: 2,
        endpoints: [
          { endpoint: '/v1/tokens', totalCalls: 7, successRate: 1, p95LatencyMs: 80, peakHour: 14, dailyCalls: days({ 10: 3, 5: 2, 3: 2 }) },
          { endpoint: '/v1/agents', totalCalls: 5, successRate: 0.6, p95LatencyMs: 90, peakHour: 19, dailyCalls: days({ 10: 1, 5: 4 }) },
        ],
      });
    });

    it('refuses a bad tz, limit or range', async () => {
      expect((await fails('endpoint-patterns', `${MAIN}&tz=Mars/Base`, a.read, 400, 'INVALID_TIMEZONE')).details).toEqual({ field: 'tz' });
      expect((await fails('endpoint-patterns', `${MAIN}&limit=0`, a.read, 400, 'INVALID_REQUEST')).message).toContain('limit');
      await fails('endpoint-patterns', `from=${D(91)}&to=${D(0)}`, a.read, 400, 'INVALID_DATE_RANGE');
    });
  });

  describe('caching, metrics and access', () => {
    it('answers a second identical request from the cache without reaching ClickHouse', async () => {
      for (const route of ROUTES) {
        const q = `from=${D(11)}&to=${D(2)}`; // not asked before in this file
        const first = await engine.request('GET', `/api/v1/analytics/${route}?${q}`, { key: a.read });
        expect(first.status).toBe(200);
        expect(first.headers.get('x-cache')).toBe('MISS');
        const body = await first.text();
        const before = engine.services.ch.stats.queries;
        const second = await engine.request('GET', `/api/v1/analytics/${route}?${q}`, { key: a.read });
        expect(second.headers.get('x-cache')).toBe('HIT');
        expect(await second.text()).toBe(body);
        expect(engine.services.ch.stats.queries).toBe(before);
        // Another tenant's identical request is its own entry.
        const other = await engine.request('GET', `/api/v1/analytics/${route}?${q}`, { key: b.read });
        expect(other.headers.get('x-cache')).toBe('MISS');
        expect(await other.text()).not.toBe(body);
      }
    });

    it('records query durations per endpoint and the tables that answered', async () => {
      const text = await engine.services.metrics.registry.metrics();
      const sources = (endpoint: string) =>
        [...text.matchAll(new RegExp(`analytics_query_duration_seconds_count\\{endpoint="${endpoint}",source="([^"]+)"\\} (\\d+)`, 'g'))]
          .filter((m) => Number(m[2]) > 0)
          .map((m) => m[1]!.split('+'));
      for (const route of ROUTES) expect(sources(route).length, route).toBeGreaterThan(0);
      // Whole UTC days: rollups answer, raw events are not read.
      for (const route of ['usage-summary', 'agent-activity', 'token-trends']) {
        for (const s of sources(route)) expect(s, route).not.toContain('raw');
      }
      // Exact first/last rotation times come from raw events, the counts from a rollup.
      for (const s of sources('credential-rotations')) expect(s.length > 1 && s.includes('raw'), s.join('+')).toBe(true);
      // Asia/Kolkata's half-hour offset leaves its day and hour buckets to raw events; UTC does not.
      const ep = sources('endpoint-patterns');
      expect(ep.some((s) => s.includes('raw'))).toBe(true);
      expect(ep.some((s) => !s.includes('raw'))).toBe(true);
      expect(text).toMatch(/analytics_cache_hits_total\{endpoint="token-trends"\} [1-9]/);
    });

    it('shows another tenant none of this tenant’s data', async () => {
      expect((await ok('usage-summary', MAIN, b.read)).summary).toEqual({
        totalApiCalls: 2,
        totalTokenIssuances: 0,
        totalCredentialRotations: 1,
        activeAgentCount: 1,
        averageDailyApiCalls: 0.2,
        peakDailyApiCalls: 2,
        peakDate: D(5),
      });
      expect((await ok('agent-activity', MAIN, b.read)).agents.map((x: { agentId: string }) => x.agentId)).toEqual(['agent-z']);
      expect((await ok('token-trends', MAIN, b.read)).dataPoints.every((p: { totalIssuances: number }) => p.totalIssuances === 0)).toBe(true);
      expect((await ok('credential-rotations', MAIN, b.read)).agents).toEqual([
        { agentId: 'agent-z', rotations: 1, lastRotatedAt: `${D(5)}T16:30:00.000Z` },
      ]);
      const endpoints = await ok('endpoint-patterns', MAIN, b.read);
      expect(endpoints.tenantId).toBe(b.id);
      expect(endpoints.endpoints.map((e: { endpoint: string }) => e.endpoint)).toEqual(['/v1/secret']);
    });

    it('needs a key with the read scope, and a paid plan', async () => {
      for (const route of ROUTES) {
        await fails(route, MAIN, undefined, 401, 'UNAUTHORIZED');
        await fails(route, MAIN, 'th_not_a_key', 401, 'UNAUTHORIZED');
        expect((await fails(route, MAIN, a.ingest, 403, 'FORBIDDEN')).details).toEqual({ required: 'read', granted: ['ingest'] });
        const err = await fails(route, MAIN, free.read, 403, 'ANALYTICS_NOT_AVAILABLE');
        expect(err.message).toContain('Pro or Enterprise');
        expect((await ok(route, MAIN, a.admin)).tenantId).toBe(a.id); // admin implies read
      }
    });

    it('documents the routes and their errors in the OpenAPI document', async () => {
      const doc = (await (await engine.request('GET', '/openapi.json')).json()) as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
      for (const route of ROUTES) {
        const op = doc.paths[`/api/v1/analytics/${route}`]?.get;
        expect(op, route).toBeDefined();
        expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '429']));
      }
      expect(Object.keys(doc.paths['/api/v1/analytics/agent-activity']!.get!.responses)).toContain('404');
    });
  });
});
