import type { Pool } from 'pg';
import { pricePerMtokToNano, tokenCostNano } from './money.js';
import { isConnectionError } from '../stores/unavailable.js';

interface PriceRow {
  tenantId: string | null;
  pattern: string;
  regex: RegExp | null; // null = exact name
  provider: string;
  inputNano: bigint;
  outputNano: bigint;
  from: number;
  to: number; // exclusive; +Infinity when open
}

export interface PriceQuote {
  costNano: bigint;
  provider: string;
}

/**
 * The model price table, held in memory and refreshed from Postgres (prices change rarely and
 * ingest must not query per event). The price used is the one in effect at the event's time.
 * Matching order: the tenant's own price before the list price, an exact name before a glob,
 * and among globs the longest pattern.
 */
export class PriceBook {
  #rows: PriceRow[] = [];
  #byModel = new Map<string, PriceRow[]>();
  #loadedAt = 0;
  #retryAt = 0;

  constructor(
    private readonly pool: Pool,
    private readonly refreshMs = 60_000,
  ) {}

  async refresh(): Promise<void> {
    const { rows } = await this.pool.query<{
      tenant_id: string | null;
      model_pattern: string;
      provider: string;
      input_usd_per_mtok: string;
      output_usd_per_mtok: string;
      effective_from: Date;
      effective_to: Date | null;
    }>('SELECT tenant_id, model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok, effective_from, effective_to FROM model_prices');
    this.#rows = rows.map((r) => ({
      tenantId: r.tenant_id,
      pattern: r.model_pattern,
      regex: r.model_pattern.includes('*')
        ? new RegExp('^' + r.model_pattern.split('*').map(escapeRegex).join('.*') + '$')
        : null,
      provider: r.provider,
      inputNano: pricePerMtokToNano(r.input_usd_per_mtok),
      outputNano: pricePerMtokToNano(r.output_usd_per_mtok),
      from: r.effective_from.getTime(),
      to: r.effective_to ? r.effective_to.getTime() : Number.POSITIVE_INFINITY,
    }));
    this.#byModel.clear();
    this.#loadedAt = Date.now();
  }

  async ensureFresh(): Promise<void> {
    const now = Date.now();
    if (now - this.#loadedAt <= this.refreshMs || now < this.#retryAt) return;
    try {
      await this.refresh();
    } catch (e) {
      // Postgres away: ingestion goes on with the table loaded last (prices change rarely) and
      // tries again in 5 s; only a book never loaded has nothing to price with and fails the
      // batch (503, not acknowledged).
      if (this.#loadedAt === 0 || !isConnectionError(e)) throw e;
      this.#retryAt = now + 5000;
    }
  }

  /** Candidates for a model, most specific first (cached per tenant+model). */
  #candidates(tenantId: string, model: string): PriceRow[] {
    const key = tenantId + '\u0000' + model;
    let c = this.#byModel.get(key);
    if (!c) {
      c = this.#rows
        .filter((r) => (r.tenantId === null || r.tenantId === tenantId) && (r.regex ? r.regex.test(model) : r.pattern === model))
        .sort(
          (a, b) =>
            Number(b.tenantId !== null) - Number(a.tenantId !== null) ||
            Number(a.regex !== null) - Number(b.regex !== null) ||
            b.pattern.length - a.pattern.length,
        );
      if (this.#byModel.size > 100_000) this.#byModel.clear();
      this.#byModel.set(key, c);
    }
    return c;
  }

  /** Cost at the price in effect at tsMs, or null when no price covers the model then. */
  quote(tenantId: string, model: string, tsMs: number, inputTokens: number, outputTokens: number): PriceQuote | null {
    if (!model) return null;
    for (const r of this.#candidates(tenantId, model)) {
      if (r.from <= tsMs && tsMs < r.to) {
        return { costNano: tokenCostNano(inputTokens, outputTokens, r.inputNano, r.outputNano), provider: r.provider };
      }
    }
    return null;
  }
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
