import { TallyhouseApiError } from './errors.js';
import { fetchWithRetry } from './http.js';
import { EventProducer, type CloseResult, type ProducerOptions, type ProducerStats } from './producer.js';
import { resolveRetry, type ResolvedRetry, type RetryOptions } from './retry.js';
import type {
  CostsBreakdown,
  CostsQuery,
  CostStatistics,
  CostStatisticsQuery,
  EventsPage,
  EventsPageQuery,
  GetPath,
  QueryOf,
  ResponseOf,
  TrackEvent,
  UsageStatistics,
  UsageStatisticsQuery,
  UsageSummary,
  UsageSummaryQuery,
} from './types.js';

export interface ClientOptions extends ProducerOptions {
  /** The engine, e.g. http://127.0.0.1:8787 */
  baseUrl: string;
  /** An API key: scope ingest to track, read for the query helpers (admin does both). */
  apiKey: string;
  /** Retries of the query helpers (default 3 attempts; same backoff rules as ingest). */
  queryRetry?: RetryOptions;
}

/**
 * The tallyhouse producer SDK: track() events (batched, retried, bounded; see EventProducer)
 * and typed reads of the analytics endpoints. Every type comes from the OpenAPI document
 * (src/client/openapi.d.ts, `npm run gen:client`).
 */
export class TallyhouseClient {
  readonly #producer: EventProducer;
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #queryRetry: ResolvedRetry;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.#baseUrl = options.baseUrl;
    this.#apiKey = options.apiKey;
    this.#producer = new EventProducer(options.baseUrl, options.apiKey, options);
    this.#queryRetry = resolveRetry(options.queryRetry, 3);
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** Buffers an event (an event_id is assigned when absent); resolves with the id once buffered. */
  track(event: TrackEvent): Promise<string> {
    return this.#producer.track(event);
  }

  flush(): Promise<void> {
    return this.#producer.flush();
  }

  close(opts?: { timeoutMs?: number }): Promise<CloseResult> {
    return this.#producer.close(opts);
  }

  stats(): ProducerStats {
    return this.#producer.stats();
  }

  /** GET /api/v1/analytics/statistics/usage */
  usageStatistics(query: UsageStatisticsQuery = {}): Promise<UsageStatistics> {
    return this.get('/api/v1/analytics/statistics/usage', query);
  }

  /** GET /api/v1/analytics/statistics/cost */
  costStatistics(query: CostStatisticsQuery = {}): Promise<CostStatistics> {
    return this.get('/api/v1/analytics/statistics/cost', query);
  }

  /** GET /api/v1/analytics/usage-summary */
  usageSummary(query: UsageSummaryQuery = {}): Promise<UsageSummary> {
    return this.get('/api/v1/analytics/usage-summary', query);
  }

  /** GET /api/v1/analytics/costs: cost breakdown by a dimension. */
  costs(query: CostsQuery): Promise<CostsBreakdown> {
    return this.get('/api/v1/analytics/costs', query);
  }

  /** GET /api/v1/events: one page of stored events, newest first. */
  events(query: EventsPageQuery = {}): Promise<EventsPage> {
    return this.get('/api/v1/events', query);
  }

  /** Any JSON GET of the API, typed by path. Throws TallyhouseApiError on a non-2xx answer. */
  async get<P extends GetPath>(path: P, query?: QueryOf<P>): Promise<ResponseOf<P>> {
    const url = new URL(path, this.#baseUrl);
    for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, String(item));
      else url.searchParams.set(k, String(v));
    }
    const res = await fetchWithRetry(url.toString(), () => ({ headers: { authorization: `Bearer ${this.#apiKey}`, accept: 'application/json' } }), {
      retry: this.#queryRetry,
      timeoutMs: this.#timeoutMs,
    });
    if (!res.ok) throw await TallyhouseApiError.fromResponse(res);
    return (await res.json()) as ResponseOf<P>;
  }
}
