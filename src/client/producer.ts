import { randomUUID } from 'node:crypto';
import { TallyhouseApiError, TallyhouseNetworkError } from './errors.js';
import { fetchWithRetry, RequestAbortedError } from './http.js';
import { resolveRetry, type ResolvedRetry, type RetryOptions } from './retry.js';
import type { IngestResult, TrackEvent } from './types.js';

export interface ProducerOptions {
  /** A batch is sent once it holds this many events (default 1,000)… */
  batchMaxEvents?: number;
  /** …or this many NDJSON bytes (default 1 MiB)… */
  batchMaxBytes?: number;
  /** …or its oldest event has waited this long (default 1 s). */
  flushIntervalMs?: number;
  /** Events held (queued + in flight) before track() waits for room (default 10,000). */
  maxBufferEvents?: number;
  /** Bytes held before track() waits for room (default 16 MiB). */
  maxBufferBytes?: number;
  /** Batches in flight at once (default 1). */
  concurrency?: number;
  /** Per request attempt (default 30 s): a request with no answer by then is retried. */
  requestTimeoutMs?: number;
  /** Default: retry network errors, 408, 429 and 5xx without limit (close({timeoutMs}) bounds it). */
  retry?: RetryOptions;
  /** Events the server refused one by one (in a 202: validation). Never retried. */
  onRejected?: (rejected: RejectedEvent[]) => void;
  /** A whole batch refused (a 4xx other than 408/429) or out of attempts: its events are not stored. */
  onError?: (failure: BatchFailure) => void;
}

export interface RejectedEvent {
  event: TrackEvent;
  code: string;
  message: string;
  path: string;
}

export interface BatchFailure {
  error: TallyhouseApiError | TallyhouseNetworkError;
  events: TrackEvent[];
}

export interface ProducerStats {
  /** track() calls taken (including those still waiting for room). */
  tracked: number;
  /** Stored by this producer's batches. */
  accepted: number;
  /** Already stored (an earlier attempt whose answer was lost, or a re-sent event_id): counted once. */
  duplicates: number;
  /** Refused one by one (onRejected). */
  rejected: number;
  /** In batches refused whole or out of attempts (onError). */
  failed: number;
  /** Given up by close() past its deadline (never confirmed; some may have reached the server). */
  dropped: number;
  /** Request attempts that were retried. */
  retries: number;
  batches: number;
  /** Held now: queued or in flight. */
  bufferedEvents: number;
  bufferedBytes: number;
  /** track() calls waiting for room. */
  waiting: number;
  /** Batches sent and not yet answered for. */
  inFlightBatches: number;
}

export interface CloseResult {
  /** accepted + duplicates: events the server confirmed it holds. */
  delivered: number;
  dropped: number;
  rejected: number;
  failed: number;
}

export class ProducerClosedError extends Error {
  override readonly name = 'ProducerClosedError';
}

interface Pending {
  seq: number;
  line: string;
  bytes: number;
  at: number;
}

interface Waiter {
  line: string;
  bytes: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

const DEFAULTS = {
  batchMaxEvents: 1000,
  batchMaxBytes: 1024 * 1024,
  flushIntervalMs: 1000,
  maxBufferEvents: 10_000,
  maxBufferBytes: 16 * 1024 * 1024,
  concurrency: 1,
  requestTimeoutMs: 30_000,
};

/**
 * Buffers events and posts them as NDJSON batches to POST /api/v1/events.
 *
 * Never loses an event silently: each one gets its event_id at track() time, so a batch whose
 * answer was lost (timeout, reset, server killed) is simply sent again and the server counts it
 * once; a batch leaves memory only when the server answered for it, and every event ends up
 * counted in exactly one of accepted, duplicates, rejected, failed or dropped.
 * Memory is bounded by maxBufferEvents/maxBufferBytes: past them track() returns a promise that
 * resolves when room frees up (await it to get the backpressure).
 */
export class EventProducer {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #o: typeof DEFAULTS;
  readonly #retry: ResolvedRetry;
  readonly #onRejected?: ProducerOptions['onRejected'];
  readonly #onError?: ProducerOptions['onError'];

  #queue: Pending[] = [];
  #queueBytes = 0;
  readonly #inflight = new Set<Pending[]>();
  #heldEvents = 0;
  #heldBytes = 0;
  readonly #waiters: Waiter[] = [];
  #nextSeq = 1;
  /** Events up to this seq go out even in a partial batch (age reached or flush()). */
  #dueUntil = 0;
  #flushes: { target: number; resolve: () => void }[] = [];
  #timer: NodeJS.Timeout | null = null;
  #closing: Promise<CloseResult> | null = null;
  readonly #abort = new AbortController();
  readonly #stats = { tracked: 0, accepted: 0, duplicates: 0, rejected: 0, failed: 0, dropped: 0, retries: 0, batches: 0 };

  constructor(baseUrl: string, apiKey: string, options: ProducerOptions = {}) {
    this.#url = new URL('/api/v1/events', baseUrl).toString();
    this.#headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/x-ndjson' };
    const o = { ...DEFAULTS };
    for (const k of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
      const v = options[k];
      if (v === undefined) continue;
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${k} must be a positive number; got ${v}`);
      o[k] = v;
    }
    this.#o = o;
    this.#retry = resolveRetry(options.retry, Infinity);
    this.#onRejected = options.onRejected;
    this.#onError = options.onError;
  }

  /**
   * Buffers one event; resolves with its event_id once it is buffered (at once while there is
   * room). The event is serialised now: later changes to the object are not seen.
   */
  track(event: TrackEvent): Promise<string> {
    if (this.#closing) return Promise.reject(new ProducerClosedError('track() after close()'));
    const withId: TrackEvent = event.event_id ? event : { ...event, event_id: randomUUID() };
    let line: string;
    try {
      line = JSON.stringify(withId);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const bytes = Buffer.byteLength(line) + 1;
    const id = withId.event_id!;
    this.#stats.tracked++;
    if (this.#waiters.length === 0 && this.#hasRoom(bytes)) {
      this.#admit(line, bytes);
      return Promise.resolve(id);
    }
    return new Promise<string>((resolve, reject) => {
      this.#waiters.push({ line, bytes, resolve: () => resolve(id), reject });
    });
  }

  /** Resolves when every event tracked before the call has been answered for (stored, refused or failed). */
  flush(): Promise<void> {
    const target = this.#nextSeq - 1 + this.#waiters.length;
    if (target < this.#lowestUnsettled()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#flushes.push({ target, resolve });
      this.#dueUntil = Math.max(this.#dueUntil, target);
      this.#pump();
    });
  }

  /**
   * Stops taking events and delivers everything pending. With timeoutMs, whatever is still
   * unconfirmed then is given up: in-flight requests are aborted, waiting track() calls reject,
   * and the count comes back as dropped.
   */
  close(opts: { timeoutMs?: number } = {}): Promise<CloseResult> {
    this.#closing ??= this.#close(opts.timeoutMs ?? Infinity);
    return this.#closing;
  }

  stats(): ProducerStats {
    return { ...this.#stats, bufferedEvents: this.#heldEvents, bufferedBytes: this.#heldBytes, waiting: this.#waiters.length, inFlightBatches: this.#inflight.size };
  }

  async #close(timeoutMs: number): Promise<CloseResult> {
    const flushed = this.flush();
    if (Number.isFinite(timeoutMs)) {
      let timer: NodeJS.Timeout | undefined;
      const expired = await Promise.race([
        flushed.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), Math.max(0, timeoutMs)))),
      ]);
      clearTimeout(timer);
      if (expired) await this.#giveUp();
    } else {
      await flushed;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const s = this.#stats;
    return { delivered: s.accepted + s.duplicates, dropped: s.dropped, rejected: s.rejected, failed: s.failed };
  }

  async #giveUp() {
    this.#abort.abort();
    const waiters = this.#waiters.splice(0);
    this.#stats.dropped += waiters.length + this.#queue.length;
    for (const w of waiters) w.reject(new ProducerClosedError('closed before there was room for this event'));
    this.#heldEvents -= this.#queue.length;
    this.#heldBytes -= this.#queueBytes;
    this.#queue = [];
    this.#queueBytes = 0;
    // In-flight sends end promptly once aborted and count themselves as dropped.
    while (this.#inflight.size) await new Promise<void>((r) => this.#flushes.push({ target: 0, resolve: r }));
    this.#settleFlushes(true);
  }

  #hasRoom(bytes: number): boolean {
    // An event larger than the whole buffer still goes through alone, or it would wait forever.
    if (this.#heldEvents === 0) return true;
    return this.#heldEvents + 1 <= this.#o.maxBufferEvents && this.#heldBytes + bytes <= this.#o.maxBufferBytes;
  }

  #admit(line: string, bytes: number) {
    this.#queue.push({ seq: this.#nextSeq++, line, bytes, at: Date.now() });
    this.#queueBytes += bytes;
    this.#heldEvents++;
    this.#heldBytes += bytes;
    if (this.#queue.length >= this.#o.batchMaxEvents || this.#queueBytes >= this.#o.batchMaxBytes || this.#queue[0]!.seq <= this.#dueUntil) this.#pump();
    else this.#armTimer();
  }

  #armTimer() {
    if (this.#timer || this.#queue.length === 0 || this.#abort.signal.aborted) return;
    const oldest = this.#queue[0]!;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const last = this.#queue[this.#queue.length - 1];
      if (last) this.#dueUntil = Math.max(this.#dueUntil, last.seq);
      this.#pump();
    }, Math.max(0, oldest.at + this.#o.flushIntervalMs - Date.now()));
  }

  /** Starts as many batches as are ready and allowed in flight. */
  #pump() {
    while (this.#inflight.size < this.#o.concurrency && this.#queue.length > 0 && !this.#abort.signal.aborted) {
      const full = this.#queue.length >= this.#o.batchMaxEvents || this.#queueBytes >= this.#o.batchMaxBytes;
      if (!full && this.#queue[0]!.seq > this.#dueUntil) break;
      let n = 0;
      let bytes = 0;
      while (n < this.#queue.length && n < this.#o.batchMaxEvents) {
        const b = this.#queue[n]!.bytes;
        if (n > 0 && bytes + b > this.#o.batchMaxBytes) break;
        bytes += b;
        n++;
      }
      const batch = this.#queue.splice(0, n);
      this.#queueBytes -= bytes;
      this.#inflight.add(batch);
      void this.#send(batch);
    }
    if (this.#queue.length === 0 && this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    } else {
      this.#armTimer();
    }
  }

  async #send(batch: Pending[]) {
    try {
      await this.#post(batch);
    } catch (e) {
      // #post handles every answer; anything else is a bug here, not a reason to lose the count.
      this.#stats.failed += batch.length;
      this.#report(() => this.#onError?.({ error: new TallyhouseNetworkError(`batch failed: ${(e as Error).message}`, e), events: batch.map(parse) }));
    } finally {
      this.#inflight.delete(batch);
      this.#heldEvents -= batch.length;
      for (const p of batch) this.#heldBytes -= p.bytes;
      this.#admitWaiters();
      this.#settleFlushes(false);
      this.#pump();
    }
  }

  async #post(items: Pending[]): Promise<void> {
    const body = items.map((p) => p.line).join('\n') + '\n';
    let res: Response;
    try {
      this.#stats.batches++;
      res = await fetchWithRetry(this.#url, () => ({ method: 'POST', headers: this.#headers, body }), {
        retry: this.#retry,
        timeoutMs: this.#o.requestTimeoutMs,
        signal: this.#abort.signal,
        onRetry: () => this.#stats.retries++,
      });
    } catch (e) {
      if (e instanceof RequestAbortedError) {
        this.#stats.dropped += items.length;
        return;
      }
      if (!(e instanceof TallyhouseNetworkError)) throw e;
      this.#stats.failed += items.length;
      this.#report(() => this.#onError?.({ error: e, events: items.map(parse) }));
      return;
    }
    if (res.ok) {
      const result = (await res.json()) as IngestResult;
      this.#stats.accepted += result.accepted;
      this.#stats.duplicates += result.duplicates;
      this.#stats.rejected += result.rejected.length;
      if (result.rejected.length) {
        const rejected = result.rejected.map((r) => ({ event: parse(items[r.index]!), code: r.code, message: r.message, path: r.path }));
        this.#report(() => this.#onRejected?.(rejected));
      }
      return;
    }
    // Over the server's INGEST_MAX_EVENTS / INGEST_MAX_BYTES: the halves may fit.
    if (res.status === 413 && items.length > 1) {
      await res.body?.cancel().catch(() => {});
      const half = Math.ceil(items.length / 2);
      await this.#post(items.slice(0, half));
      await this.#post(items.slice(half));
      return;
    }
    const error = await TallyhouseApiError.fromResponse(res);
    this.#stats.failed += items.length;
    this.#report(() => this.#onError?.({ error, events: items.map(parse) }));
  }

  /** A throwing callback must not break the accounting. */
  #report(fn: () => void) {
    try {
      fn();
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  #admitWaiters() {
    while (this.#waiters.length && this.#hasRoom(this.#waiters[0]!.bytes)) {
      const w = this.#waiters.shift()!;
      this.#admit(w.line, w.bytes);
      w.resolve();
    }
  }

  #lowestUnsettled(): number {
    let low = this.#queue[0]?.seq ?? Infinity;
    for (const b of this.#inflight) low = Math.min(low, b[0]!.seq);
    if (this.#waiters.length) low = Math.min(low, this.#nextSeq);
    return low;
  }

  #settleFlushes(all: boolean) {
    if (!this.#flushes.length) return;
    const low = this.#lowestUnsettled();
    const keep: { target: number; resolve: () => void }[] = [];
    for (const f of this.#flushes) {
      if (all || f.target < low || (f.target === 0 && this.#inflight.size === 0)) f.resolve();
      else keep.push(f);
    }
    this.#flushes = keep;
  }
}

const parse = (p: Pending) => JSON.parse(p.line) as TrackEvent;
