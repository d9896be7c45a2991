import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../config.js';
import { asStoreError } from '../unavailable.js';

// int8 and numeric stay strings: ids and money must not pass through a float.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export interface PostgresStore {
  readonly mode: 'embedded' | 'server';
  readonly pool: pg.Pool;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Postgres through `pg` in both modes. Embedded: PGlite (real Postgres compiled to WASM) under
 * the data directory, served on a unix socket inside this process by pglite-socket, so the
 * rest of the code speaks the same `pg` protocol as against a server.
 */
export async function createPostgresStore(config: Config['postgres']): Promise<PostgresStore> {
  if (config.mode === 'server') {
    // A connect that hangs (server gone without a RST) fails after 5 s instead of holding the
    // request forever; keepAlive notices a dead peer on idle pooled sockets.
    const pool = new pg.Pool({ connectionString: config.url, max: 10, connectionTimeoutMillis: 5000, keepAlive: true });
    pool.on('error', () => {}); // idle-client errors surface on the next query instead
    return wrap('server', pool, async () => {});
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  fs.mkdirSync(config.path, { recursive: true });
  const db = await PGlite.create(config.path);
  // Unix socket: no TCP port to collide with or expose. pg looks for `.s.PGSQL.<port>` in `host`.
  const socketDir = fs.mkdtempSync(path.join((process.env.TMPDIR ?? '/tmp'), 'tallyhouse-pg-'));
  const server = new PGLiteSocketServer({ db, path: path.join(socketDir, '.s.PGSQL.5432') });
  await server.start();
  // PGlite is single-connection: one pooled client keeps transactions whole.
  const pool = new pg.Pool({ host: socketDir, port: 5432, user: 'postgres', database: 'postgres', max: 1 });
  pool.on('error', () => {});
  return wrap('embedded', pool, async () => {
    await server.stop();
    await db.close();
    fs.rmSync(socketDir, { recursive: true, force: true });
  });
}

function wrap(mode: 'embedded' | 'server', pool: pg.Pool, onClose: () => Promise<void>): PostgresStore {
  guardPool(pool);
  return {
    mode,
    pool,
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await pool.end();
      await onClose();
    },
  };
}

/**
 * pool.query and pool.connect reject with StoreUnavailableError('postgres') when Postgres cannot
 * be reached (the API turns it into 503 STORE_UNAVAILABLE); errors Postgres itself answered
 * (a constraint, SQLSTATE 23505 …) pass through unchanged, so callers' checks still see them.
 */
function guardPool(pool: pg.Pool) {
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  const guard = (fn: (...args: unknown[]) => unknown) =>
    (...args: unknown[]) => {
      const r = fn(...args);
      // The callback forms return undefined and report errors to the callback.
      return r instanceof Promise ? r.catch((e: unknown) => Promise.reject(asStoreError('postgres', e))) : r;
    };
  pool.query = guard(query) as typeof pool.query;
  pool.connect = guard(connect) as typeof pool.connect;
}
