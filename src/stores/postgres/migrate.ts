import path from 'node:path';
import { assertUnchanged, readMigrationFiles, repoRoot } from '../migration-files.js';
import type { PostgresStore } from './pool.js';

export const postgresMigrationsDir = path.join(repoRoot, 'pg-migrations');

/** Applies each numbered file not yet recorded, each in its own transaction. */
export async function migratePostgres(pgStore: PostgresStore, dir = postgresMigrationsDir): Promise<string[]> {
  const client = await pgStore.pool.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    // Two processes migrating one database at once: the second waits, then finds nothing to do.
    await client.query('BEGIN');
    await client.query('LOCK TABLE schema_migrations IN EXCLUSIVE MODE');
    const { rows } = await client.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations',
    );
    const applied = new Map(rows.map((r) => [r.version, r.checksum]));
    const done: string[] = [];
    for (const file of readMigrationFiles(dir)) {
      if (assertUnchanged(applied, file)) continue;
      await client.query(file.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        file.version,
        file.name,
        file.checksum,
      ]);
      done.push(file.name);
    }
    await client.query('COMMIT');
    return done;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
