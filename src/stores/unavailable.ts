/**
 * "A store is down" as one error type, so the API can answer 503 STORE_UNAVAILABLE with
 * Retry-After instead of a 500 (or, worse, an answer computed from nothing). Only errors that
 * mean the store could not be reached are turned into it: a refused, reset or timed-out
 * connection, a server shutting down. A store that answered with an error (bad SQL, a
 * constraint) keeps its own error.
 */
export type StoreName = 'clickhouse' | 'postgres' | 'redis';

export class StoreUnavailableError extends Error {
  constructor(
    readonly store: StoreName | undefined,
    override readonly cause: unknown,
  ) {
    super(`${store ?? 'a store'} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}

const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

// Messages of the drivers when the socket went away (pg, @clickhouse/client, Node's http).
const MESSAGES = [
  /socket hang up/i,
  /^Timeout error/i, // @clickhouse/client: request_timeout elapsed
  /Connection terminated/i, // pg: server closed the socket / connection timeout
  /timeout exceeded when trying to connect/i, // pg pool
  /Client has encountered a connection error/i, // pg
  /Connection is closed/i, // ioredis
  /Reached the max retries per request limit/i, // ioredis: gave up while reconnecting
  /enableOfflineQueue options is false/i, // ioredis: disconnected, offline queue off
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

/**
 * Whether `e` says the store could not be reached. Postgres SQLSTATE classes 08 (connection
 * exception) and 57P (operator intervention: shutdown, pg_terminate_backend) count; a
 * ClickHouseError (the server answered) never does.
 */
export function isConnectionError(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NODE_CODES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code) || /^57P0[1-3]$/.test(code)) return true;
  }
  if (e.constructor?.name === 'ClickHouseError') return false;
  if (MESSAGES.some((re) => re.test(e.message))) return true;
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== e && isConnectionError(cause);
}

/** Rethrows a connection error as StoreUnavailableError(store); other errors as they are. */
export function asStoreError(store: StoreName, e: unknown): unknown {
  if (e instanceof StoreUnavailableError) return e;
  return isConnectionError(e) ? new StoreUnavailableError(store, e) : e;
}

/** `p`, with a connection error turned into StoreUnavailableError(store). */
export async function guarded<T>(store: StoreName, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw asStoreError(store, e);
  }
}
