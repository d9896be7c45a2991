/**
 * The API under load: autocannon with 8 keep-alive connections for `seconds`, each cycling
 * through a mixed sequence of 7 dashboard reads (largest tenant, cache off) and 3 NDJSON ingest
 * batches of 100 events (fresh event_ids per request, so nothing is deduplicated away).
 * Throughput, latency p50/p99 and errors (connection errors, timeouts and non-2xx responses).
 * autocannon runs in the bench process, on the same 2 cores as the server.
 */
import autocannon from 'autocannon';
import { fig, round, type Figure } from './common.js';
import { ingestEvents } from './phases.js';
import { eightDashboardRequests } from './queries.js';

export async function mixedLoad(url: string, keys: { read: string; ingest: string }, nowMs: number, seconds: number, connections = 8): Promise<Figure[]> {
  const reads = eightDashboardRequests(nowMs).slice(0, 7);
  const template = ingestEvents(100, 991, nowMs).map((e) => JSON.stringify(e)).join('\n') + '\n';
  let seq = 0;
  const ingest: autocannon.Request = {
    method: 'POST',
    path: '/api/v1/events',
    headers: { authorization: `Bearer ${keys.ingest}`, 'content-type': 'application/x-ndjson' },
    setupRequest: (req) => ({ ...req, body: template.replaceAll('"event_id":"', `"event_id":"load-${nowMs}-${seq++}-`) }),
  };
  const read = (i: number): autocannon.Request => {
    const s = reads[i]!;
    return {
      method: s.method,
      path: s.path,
      headers: { authorization: `Bearer ${keys.read}`, ...(s.body ? { 'content-type': 'application/json' } : {}) },
      ...(s.body ? { body: JSON.stringify(s.body) } : {}),
    };
  };
  const requests = [read(0), ingest, read(1), read(2), ingest, read(3), read(4), ingest, read(5), read(6)];
  const result = await autocannon({ url, connections, duration: seconds, requests, timeout: 30 });
  const errors = result.errors + result.timeouts + result.non2xx;
  const note = `${connections} connections, ${seconds} s, 7 reads : 3 ingest batches of 100 events`;
  return [
    fig('load', 'load.req_per_s', 'mixed read/ingest: requests/s', round(result.requests.average, 1), 'req/s', note),
    fig('load', 'load.events_per_s', 'mixed read/ingest: events ingested/s', round((result.requests.average * 3 * 100) / 10, 0), 'events/s', 'from the request mix'),
    fig('load', 'load.p50_ms', 'mixed read/ingest: latency p50', round(result.latency.p50, 1), 'ms'),
    fig('load', 'load.p99_ms', 'mixed read/ingest: latency p99', round(result.latency.p99, 1), 'ms'),
    fig('load', 'load.errors', 'mixed read/ingest: errors (conn. errors + timeouts + non-2xx)', errors, 'count', `${result['2xx']} × 2xx, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`),
  ];
}
