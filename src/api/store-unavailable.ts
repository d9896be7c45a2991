import { StoreUnavailableError } from '../stores/unavailable.js';
import { ApiError } from './errors.js';

/** Seconds a client is asked to wait before retrying against a store that is down. */
export const STORE_RETRY_AFTER_SEC = 5;

/**
 * A store that could not be reached → 503 STORE_UNAVAILABLE with Retry-After, naming the store
 * (never its address or the driver's message: those describe the deployment, not the request).
 * Nothing was acknowledged: an ingest batch answered this way was not stored as a whole, or is
 * deduplicated by event_id when the producer retries it.
 */
export function storeUnavailable(err: unknown): ApiError {
  const store = err instanceof StoreUnavailableError ? err.store : undefined;
  return new ApiError(
    503,
    'STORE_UNAVAILABLE',
    `${store ?? 'a backing store'} is unavailable; retry in ${STORE_RETRY_AFTER_SEC} s`,
    { store: store ?? 'unknown', retry_after_sec: STORE_RETRY_AFTER_SEC },
    { 'Retry-After': String(STORE_RETRY_AFTER_SEC) },
  );
}
