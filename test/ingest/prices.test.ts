import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdToNano } from '../../src/ingest/money.js';
import { PriceBook } from '../../src/ingest/prices.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../helpers/engine.js';

// The seeded list prices (pg-migrations/0002_model_prices.sql) plus rows this file adds, read
// through a PriceBook on the engine's real Postgres tables.
const T = Date.parse('2026-11-01T12:00:00Z');
const M = 1_000_000; // one million tokens: the cost is the per-Mtok price, in nano-USD
const usd = usdToNano; // "2.5" → 2_500_000_000n: per-Mtok prices times 1M tokens

describe('PriceBook', () => {
  let engine: TestEngine;
  let a: TestTenant;
  let b: TestTenant;
  let book: PriceBook;

  const addPrice = (row: { tenant?: string; pattern: string; provider: string; input: string; output: string; from?: string; to?: string }) =>
    engine.services.pg.pool.query(
      `INSERT INTO model_prices (tenant_id, model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok, effective_from, effective_to)
       VALUES ($1, $2, $3, $4, $5, coalesce($6::timestamptz, '2000-01-01T00:00:00Z'), $7)`,
      [row.tenant ?? null, row.pattern, row.provider, row.input, row.output, row.from ?? null, row.to ?? null],
    );
  const inCost = (tenant: TestTenant, model: string, ts = T) => book.quote(tenant.id, model, ts, M, 0)?.costNano;
  const outCost = (tenant: TestTenant, model: string, ts = T) => book.quote(tenant.id, model, ts, 0, M)?.costNano;

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await engine.newTenant();
    b = await engine.newTenant();
    // A broad list-price glob that overlaps the seeded exact 'gpt-4o' and glob 'gpt-4o-2024-*'.
    await addPrice({ pattern: 'gpt-4o*', provider: 'openai-glob', input: '7', output: '21' });
    // Tenant a's negotiated prices: an exact name and a glob.
    await addPrice({ tenant: a.id, pattern: 'gpt-4o', provider: 'openai', input: '1.25', output: '5' });
    await addPrice({ tenant: a.id, pattern: 'claude-*', provider: 'anthropic', input: '0.5', output: '1' });
    // Tenant a's price for o3 that only started later, on top of the list price history.
    await addPrice({ tenant: a.id, pattern: 'o3', provider: 'openai', input: '1', output: '4', from: '2026-01-01T00:00:00Z' });
    book = new PriceBook(engine.services.pg.pool);
    await book.refresh();
  });
  afterAll(() => engine.close());

  it('prices the seeded list prices', () => {
    expect(book.quote(b.id, 'gpt-4o', T, 1000, 500)).toEqual({ costNano: 7_500_000n, provider: 'openai' });
    expect(inCost(b, 'gpt-4.1')).toBe(usd('2'));
    expect(outCost(b, 'gpt-4.1')).toBe(usd('8'));
    expect(book.quote(b.id, 'claude-sonnet-4-20250514', T, M, M)).toEqual({ costNano: usd('18'), provider: 'anthropic' });
  });

  it('prefers an exact name over a glob', () => {
    // 'gpt-4o' matches the exact seeded row and the 'gpt-4o*' glob added above.
    expect(book.quote(b.id, 'gpt-4o', T, M, M)).toEqual({ costNano: usd('12.5'), provider: 'openai' });
    // Another name only the glob covers gets the glob's price.
    expect(book.quote(b.id, 'gpt-4o-audio-preview', T, M, M)).toEqual({ costNano: usd('28'), provider: 'openai-glob' });
  });

  it('among globs, the longest pattern wins', () => {
    // 'gpt-4o-mini-2024-07-18' matches 'gpt-4o*' (7) and 'gpt-4o-mini*' (12).
    expect(inCost(b, 'gpt-4o-mini-2024-07-18')).toBe(usd('0.15'));
    expect(outCost(b, 'gpt-4o-mini-2024-07-18')).toBe(usd('0.6'));
    // 'gpt-4o-2024-08-06' matches 'gpt-4o*' (7) and 'gpt-4o-2024-*' (13).
    expect(inCost(b, 'gpt-4o-2024-08-06')).toBe(usd('2.5'));
    // A glob is anchored at both ends: no partial match.
    expect(book.quote(b.id, 'my-gpt-4o', T, M, M)).toBeNull();
    expect(book.quote(b.id, 'gpt-4.1-mini-x', T, M, 0)?.costNano).toBe(usd('0.4'));
    expect(book.quote(b.id, 'gpt-4.1x', T, M, 0)).toBeNull(); // 'gpt-4.1' is exact; '.' is not a wildcard
  });

  it("a tenant's own price beats the list price, for that tenant only", () => {
    expect(book.quote(a.id, 'gpt-4o', T, M, M)).toEqual({ costNano: usd('6.25'), provider: 'openai' });
    expect(book.quote(b.id, 'gpt-4o', T, M, M)).toEqual({ costNano: usd('12.5'), provider: 'openai' });
    // The tenant's glob beats the list price's longer glob.
    expect(inCost(a, 'claude-opus-4-1')).toBe(usd('0.5'));
    expect(inCost(b, 'claude-opus-4-1')).toBe(usd('15'));
    // The tenant's price also covers models the list has no price for.
    expect(inCost(a, 'claude-2')).toBe(usd('0.5'));
    expect(book.quote(b.id, 'claude-2', T, M, 0)).toBeNull();
    // Not the tenant's model: the list price as usual.
    expect(inCost(a, 'gpt-4.1')).toBe(usd('2'));
  });

  it('uses the price in effect at the event time', () => {
    const before = Date.parse('2025-06-09T23:59:59.999Z');
    const at = Date.parse('2025-06-10T00:00:00.000Z');
    expect(book.quote(b.id, 'o3', before, M, M)).toEqual({ costNano: usd('50'), provider: 'openai' });
    expect(book.quote(b.id, 'o3', at, M, M)).toEqual({ costNano: usd('10'), provider: 'openai' });
    expect(book.quote(b.id, 'o3', T, M, M)).toEqual({ costNano: usd('10'), provider: 'openai' });
    // Before o3 had a price at all.
    expect(book.quote(b.id, 'o3', Date.parse('2025-04-15T23:59:59.999Z'), M, M)).toBeNull();
    expect(book.quote(b.id, 'o3', Date.parse('2025-04-16T00:00:00Z'), M, M)?.costNano).toBe(usd('50'));
    // Tenant a: its own price from 2026 on; before that the list price history applies.
    expect(book.quote(a.id, 'o3', T, M, M)?.costNano).toBe(usd('5'));
    expect(book.quote(a.id, 'o3', Date.parse('2025-12-31T23:59:59.999Z'), M, M)?.costNano).toBe(usd('10'));
    expect(book.quote(a.id, 'o3', before, M, M)?.costNano).toBe(usd('50'));
  });

  it('unknown model → null', () => {
    expect(book.quote(a.id, 'my-local-llm', T, M, M)).toBeNull();
    expect(book.quote(a.id, '', T, M, M)).toBeNull();
    expect(book.quote(a.id, 'GPT-4O', T, M, M)).toBeNull(); // names are case-sensitive
  });

  it('picks up new rows on refresh', async () => {
    expect(book.quote(b.id, 'acme-1', T, M, 0)).toBeNull();
    await addPrice({ pattern: 'acme-*', provider: 'acme', input: '0.000000001', output: '0' });
    await book.refresh();
    expect(book.quote(b.id, 'acme-1', T, M, 0)).toEqual({ costNano: 1n, provider: 'acme' });
    // 0.5 nano → rounds half up; 0.4 nano → 0
    expect(book.quote(b.id, 'acme-1', T, 500_000, 0)?.costNano).toBe(1n);
    expect(book.quote(b.id, 'acme-1', T, 400_000, 0)?.costNano).toBe(0n);
  });

  it('the ingest path prices with the same book (engine services)', async () => {
    await engine.services.prices.refresh();
    const now = Date.parse('2026-11-10T00:00:00Z');
    const events = [
      { event_id: 'p1', event_type: 'llm.call', model: 'gpt-4o', input_tokens: M, output_tokens: M, ts: T },
      { event_id: 'p2', event_type: 'llm.call', model: 'claude-2', input_tokens: M, ts: T },
      { event_id: 'p3', event_type: 'llm.call', model: 'my-local-llm', input_tokens: 5, ts: T },
      { event_id: 'p4', event_type: 'llm.call', model: 'gpt-4o', input_tokens: M, cost: '0.01', ts: T },
    ];
    for (const t of [a, b]) {
      expect(await engine.services.ingest.ingest({ tenantId: t.id, apiKeyId: 'k' }, events, now)).toEqual({
        accepted: 4,
        duplicates: 0,
        rejected: [],
      });
    }
    const rows = await engine.services.ch.query<{ tenant_id: string; event_id: string; cost: string; unpriced: number; provider: string }>(
      `SELECT tenant_id, event_id, toString(cost_nano) AS cost, cost_unpriced AS unpriced, provider
       FROM events WHERE tenant_id IN {t:Array(String)} ORDER BY tenant_id = {a:String} DESC, event_id`,
      { t: [a.id, b.id], a: a.id },
    );
    expect(rows.map((r) => [r.event_id, r.cost, r.unpriced, r.provider])).toEqual([
      ['p1', '6250000000', 0, 'openai'],
      ['p2', '500000000', 0, 'anthropic'],
      ['p3', '0', 1, ''],
      ['p4', '10000000', 0, ''],
      ['p1', '12500000000', 0, 'openai'],
      ['p2', '0', 1, ''],
      ['p3', '0', 1, ''],
      ['p4', '10000000', 0, ''],
    ]);
  });
});
