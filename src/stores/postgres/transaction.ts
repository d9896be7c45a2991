import type { Pool, PoolClient } from 'pg';
import { asStoreError, isConnectionError } from '../unavailable.js';

/** Runs fn in one transaction on one pooled client: committed if it returns, rolled back if it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    // A client whose connection failed is destroyed, not handed to the next request.
    if (isConnectionError(e)) broken = e as Error;
    throw asStoreError('postgres', e);
  } finally {
    client.release(broken);
  }
}
