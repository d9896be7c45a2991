/**
 * When and how long to wait before sending a request again. Retried: no answer at all (refused,
 * reset, timed out), 408, 429 and 5xx. Never a 400 or another 4xx: the same bytes would be
 * refused the same way.
 */
export interface RetryOptions {
  /** Attempts per request including the first; Infinity (the producer's default) retries until close(). */
  maxAttempts?: number;
  /** First backoff step (default 100 ms); doubles per attempt. */
  baseDelayMs?: number;
  /** Backoff ceiling (default 10 s); a Retry-After longer than this is still honoured. */
  maxDelayMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export function resolveRetry(o: RetryOptions | undefined, defaultAttempts: number): ResolvedRetry {
  return { maxAttempts: o?.maxAttempts ?? defaultAttempts, baseDelayMs: o?.baseDelayMs ?? 100, maxDelayMs: o?.maxDelayMs ?? 10_000 };
}

export const isRetryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * Exponential backoff with "equal jitter": half the step fixed, half random, so producers that
 * failed together do not come back together, yet no wait collapses to ~0 against a server that
 * is down. attempt is 1 after the first failure.
 */
export function backoffMs(attempt: number, r: ResolvedRetry, random = Math.random): number {
  const step = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return step / 2 + random() * (step / 2);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Resolves after ms, or at once when the signal aborts (the caller checks signal.aborted). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
