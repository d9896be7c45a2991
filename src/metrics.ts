import client from 'prom-client';

/** Prometheus metrics, one registry per engine instance (tests build several in one process). */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    usageEvents: new client.Counter({
      name: 'usage_events_total',
      // No per-type label: event types are producer-chosen strings, i.e. tenant data, and /metrics
      // is one engine-wide page that must not show one tenant's vocabulary to anyone else.
      help: 'Accepted usage events (all tenants)',
      registers: [registry],
    }),
    ingestBatchSize: new client.Histogram({
      name: 'ingest_batch_size',
      help: 'Events per ingest batch as received',
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000],
      registers: [registry],
    }),
    ingestRejected: new client.Counter({
      name: 'ingest_rejected_events_total',
      help: 'Events rejected by validation',
      registers: [registry],
    }),
    insertDuration: new client.Histogram({
      name: 'clickhouse_insert_duration_seconds',
      help: 'Duration of inserts into ClickHouse',
      labelNames: ['table'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    journalPending: new client.Gauge({
      name: 'ingest_journal_pending_events',
      help: 'Single usage events journaled and not yet inserted (all tenants)',
      registers: [registry],
    }),
    cacheHits: new client.Counter({
      name: 'analytics_cache_hits_total',
      help: 'Analytics responses served from the cache',
      labelNames: ['endpoint'] as const,
      registers: [registry],
    }),
    cacheMisses: new client.Counter({
      name: 'analytics_cache_misses_total',
      help: 'Analytics responses computed (cache miss)',
      labelNames: ['endpoint'] as const,
      registers: [registry],
    }),
    queryDuration: new client.Histogram({
      name: 'analytics_query_duration_seconds',
      help: 'Analytics query duration (before cache) by endpoint and the tables that answered',
      labelNames: ['endpoint', 'source'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    reconciliationDuration: new client.Gauge({
      name: 'reconciliation_last_duration_seconds',
      help: 'Duration of the last reconciliation run',
      registers: [registry],
    }),
    reconciliationLastSuccess: new client.Gauge({
      name: 'reconciliation_last_success_timestamp_seconds',
      help: 'Unix time the last successful reconciliation run finished',
      registers: [registry],
    }),
    reconciliationHoursRepaired: new client.Gauge({
      name: 'reconciliation_last_hours_repaired',
      help: 'Tenant-hours whose rollups differed from deduplicated raw events in the last run',
      registers: [registry],
    }),
    jobDuration: new client.Histogram({
      name: 'job_duration_seconds',
      help: 'Duration of one attempt of a scheduled job window (src/jobs)',
      labelNames: ['job'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
      registers: [registry],
    }),
    jobLastSuccess: new client.Gauge({
      name: 'job_last_success_timestamp_seconds',
      help: 'Unix time of the last successful run of a scheduled job in this process',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
    jobFailures: new client.Counter({
      name: 'job_failures_total',
      help: 'Failed attempts of scheduled jobs (retried ones included)',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
