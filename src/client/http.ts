import { TallyhouseNetworkError } from './errors.js';
import { backoffMs, isRetryableStatus, retryAfterMs, sleep, type ResolvedRetry } from './retry.js';

export interface AttemptOptions {
  retry: ResolvedRetry;
  /** Per attempt: a request without an answer by then is abandoned and retried. */
  timeoutMs: number;
  /** Stops retrying (close() past its deadline); the in-flight attempt is aborted. */
  signal?: AbortSignal;
  /** Told before each wait, with what failed. */
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; error?: unknown }) => void;
}

/** Thrown when options.signal aborted the request or its retries. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
}

/**
 * fetch with retries on no answer, 408, 429 (waiting at least Retry-After) and 5xx. Returns the
 * first answer that is not retryable (2xx or another 4xx: the caller decides), or the last
 * retryable answer once the attempts are spent; throws TallyhouseNetworkError when the last
 * attempt got no answer at all.
 */
export async function fetchWithRetry(url: string, init: () => RequestInit, o: AttemptOptions): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw new RequestAbortedError('aborted');
    const signals = [AbortSignal.timeout(o.timeoutMs)];
    if (o.signal) signals.push(o.signal);
    let res: Response | undefined;
    let error: unknown;
    try {
      res = await fetch(url, { ...init(), signal: AbortSignal.any(signals) });
    } catch (e) {
      if (o.signal?.aborted) throw new RequestAbortedError('aborted');
      error = e;
    }
    if (res && !isRetryableStatus(res.status)) return res;
    if (attempt >= o.retry.maxAttempts) {
      if (res) return res;
      throw new TallyhouseNetworkError(`no answer from ${url} after ${attempt} attempt(s): ${describe(error)}`, error);
    }
    let delayMs = backoffMs(attempt, o.retry);
    if (res) {
      // The server's own estimate of when it takes requests again is a floor, not a hint.
      const after = retryAfterMs(res.headers.get('retry-after'));
      if (after !== undefined) delayMs = Math.max(delayMs, after);
      await res.body?.cancel().catch(() => {});
    }
    o.onRetry?.({ attempt, delayMs, status: res?.status, error });
    await sleep(delayMs, o.signal);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}
