import { performance } from 'node:perf_hooks';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing.js';
import type { ClaimedDelivery, Queryable, WebhookStore } from './store.js';

export interface DispatcherOptions {
  /** Per-delivery budget for connect + response (AbortSignal). */
  timeoutMs: number;
  /** Sends before a delivery is marked `dead`. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt up to maxDelayMs, plus up to 10 % jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Deliveries in flight at once in this process. */
  concurrency: number;
  /** Deliveries in flight at once per endpoint, so one endpoint's backlog cannot take every slot. */
  perEndpoint: number;
  /** [0, 1); injectable so tests can pin the jitter. */
  random: () => number;
  /** Where failures that are the engine's own (not a receiver's) are reported. */
  onError: (e: unknown) => void;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  timeoutMs: 5_000,
  maxAttempts: 8,
  baseDelayMs: 10_000,
  maxDelayMs: 60 * 60_000,
  concurrency: 16,
  perEndpoint: 4,
  random: Math.random,
  onError: (e) => console.error('webhooks:', e),
};

export interface DeliveryRunSummary {
  attempted: number;
  delivered: number;
  retrying: number;
  dead: number;
}

// A claimed delivery is leased for its timeout plus this, so a sender that dies mid-send hands
// it back to the next poller instead of losing it.
const LEASE_MARGIN_MS = 30_000;
// Enough of a refusing receiver's answer to say why in the delivery log.
const ERROR_BODY_BYTES = 300;

/**
 * Sends webhook notifications. `enqueueNotification` only writes rows (the caller, e.g. the
 * detection job, never waits on a receiver); `deliverDue` sends what is due. Both are plain
 * async functions over Postgres state, so the in-process poller here and a queue worker can
 * call them alike, and several processes can poll one database (claims are leased rows).
 */
export class NotificationDispatcher {
  readonly opts: DispatcherOptions;
  private active = 0;
  private readonly busy = new Map<string, number>();
  private readonly runs = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = new AbortController();

  constructor(
    readonly store: WebhookStore,
    opts: Partial<DispatcherOptions> = {},
  ) {
    this.opts = { ...DEFAULT_DISPATCHER_OPTIONS, ...opts };
  }

  /**
   * One pending delivery per enabled endpoint of the tenant subscribed to `eventType`; their ids.
   * Pass `db` (a client in BEGIN…COMMIT) to make the notification atomic with the caller's own
   * writes, e.g. an incident and its notification commit or roll back together.
   */
  async enqueueNotification(tenantId: string, eventType: string, payload: unknown, now = new Date(), db?: Queryable): Promise<string[]> {
    const ids = await this.store.enqueueForMatching(tenantId, eventType, JSON.stringify(payload ?? null), now, db);
    if (ids.length) this.kick();
    return ids;
  }

  /** A `webhook.test` delivery to one endpoint, whatever its filter; null if not the tenant's. */
  async enqueueTest(tenantId: string, endpointId: string, now = new Date()): Promise<string | null> {
    const payload = { message: 'This is a test notification from tallyhouse.', endpoint_id: endpointId, sent_at: now.toISOString() };
    const id = await this.store.enqueueForEndpoint(tenantId, endpointId, 'webhook.test', JSON.stringify(payload), now);
    if (id) this.kick();
    return id;
  }

  /**
   * Sends every delivery due at `now` that this process has room for, concurrently, each with
   * its own timeout, and resolves when they are settled. Never rejects: a receiver's failure is
   * recorded on its delivery, and the engine's own failures go to onError.
   */
  deliverDue(now = new Date()): Promise<DeliveryRunSummary> {
    const run = this.runDue(now);
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
    return run;
  }

  private async runDue(now: Date): Promise<DeliveryRunSummary> {
    const summary: DeliveryRunSummary = { attempted: 0, delivered: 0, retrying: 0, dead: 0 };
    const room = this.opts.concurrency - this.active;
    if (room <= 0 || this.stopping.signal.aborted) return summary;
    // Reserve the slots before awaiting, so overlapping runs never claim more than there is room for.
    this.active += room;
    let claimed: ClaimedDelivery[] = [];
    try {
      claimed = await this.store.claimDue(now, {
        limit: room,
        perEndpoint: this.opts.perEndpoint,
        busyEndpoints: [...this.busy.keys()],
        leaseUntil: new Date(now.getTime() + this.opts.timeoutMs + LEASE_MARGIN_MS),
      });
    } catch (e) {
      this.opts.onError(e);
    } finally {
      this.active -= room - claimed.length;
    }
    for (const d of claimed) this.busy.set(d.endpointId, (this.busy.get(d.endpointId) ?? 0) + 1);
    await Promise.all(
      claimed.map(async (d) => {
        try {
          const outcome = await this.sendOne(d, now);
          if (outcome) {
            summary.attempted++;
            summary[outcome]++;
          }
        } catch (e) {
          this.opts.onError(e);
        } finally {
          this.active--;
          const left = (this.busy.get(d.endpointId) ?? 1) - 1;
          if (left > 0) this.busy.set(d.endpointId, left);
          else this.busy.delete(d.endpointId);
        }
      }),
    );
    return summary;
  }

  /** One attempt; the outcome recorded, or null when shutdown interrupted it (the lease hands it back). */
  private async sendOne(d: ClaimedDelivery, now: Date): Promise<'delivered' | 'retrying' | 'dead' | null> {
    const attempts = d.attempts + 1;
    const body = JSON.stringify({ id: d.id, type: d.eventType, created_at: d.createdAt, tenant_id: d.tenantId, data: JSON.parse(d.payloadJson) });
    const started = performance.now();
    const at = () => new Date(now.getTime() + Math.round(performance.now() - started));
    let status: number | null = null;
    let error: string;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        // 3xx is a failure, not a hop: following redirects would send signed payloads elsewhere.
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tallyhouse-webhooks/1',
          // Signed with the wall clock (receivers compare it with theirs), whatever `now` says.
          [SIGNATURE_HEADER]: signatureHeader(d.secret, body, Date.now() / 1000),
          [EVENT_HEADER]: d.eventType,
          [DELIVERY_HEADER]: d.id,
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), this.stopping.signal]),
      });
      status = res.status;
      if (res.status >= 200 && res.status < 300) {
        await res.body?.cancel().catch(() => {});
        await this.store.markDelivered(d.id, attempts, res.status, at());
        return 'delivered';
      }
      const snippet = await readSnippet(res);
      error = `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`;
    } catch (e) {
      if (this.stopping.signal.aborted) return null;
      error = describeFetchError(e, this.opts.timeoutMs);
    }
    if (attempts >= this.opts.maxAttempts) {
      await this.store.markFailed(d.id, attempts, status, error, null);
      return 'dead';
    }
    await this.store.markFailed(d.id, attempts, status, error, new Date(at().getTime() + this.retryDelayMs(attempts)));
    return 'retrying';
  }

  /** base · 2^(attempts−1), capped, plus up to 10 % jitter so a burst of failures does not retry in lockstep. */
  retryDelayMs(attempts: number): number {
    const exp = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(exp * (1 + 0.1 * this.opts.random()));
  }

  /** Polls every `intervalMs` (0 = never). Runs may overlap: a slow receiver holds only its own slots. */
  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => void this.deliverDue(), intervalMs);
    this.timer.unref();
  }

  /**
   * Stops polling, aborts sends in flight (their leases hand them back) and waits for the runs
   * to settle. Afterwards deliverDue works again when called (a worker may still drive it).
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await Promise.allSettled([...this.runs]);
    this.stopping = new AbortController();
  }

  // A fresh notification goes out on the next tick of the event loop rather than the next poll.
  private kick() {
    if (this.timer) setImmediate(() => this.timer && void this.deliverDue());
  }
}

async function readSnippet(res: Response): Promise<string> {
  try {
    const reader = res.body?.getReader();
    if (!reader) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
    await reader.cancel().catch(() => {});
    return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  } catch {
    return '';
  }
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const cause = err?.cause?.code ?? err?.cause?.message;
  return `${err?.message ?? String(e)}${cause ? ` (${cause})` : ''}`.slice(0, 500);
}
