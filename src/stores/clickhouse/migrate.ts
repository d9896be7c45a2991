import path from 'node:path';
import { assertUnchanged, readMigrationFiles, repoRoot, splitStatements } from '../migration-files.js';
import { migrationsTableDdl, renderStatement, type DdlContext } from './ddl.js';
import type { ClickHouseStore } from './store.js';

export const clickhouseMigrationsDir = path.join(repoRoot, 'clickhouse');

/** Applies the numbered files not yet recorded in schema_migrations; a second run does nothing. */
export async function migrateClickHouse(
  ch: ClickHouseStore,
  ctx: DdlContext,
  dir = clickhouseMigrationsDir,
): Promise<string[]> {
  for (const s of migrationsTableDdl(ctx)) await ch.command(s);
  const table = ctx.cluster ? 'schema_migrations_local' : 'schema_migrations';
  const rows = await ch.query<{ version: number; checksum: string }>(
    `SELECT version, argMax(checksum, applied_at) AS checksum FROM ${table} GROUP BY version`,
  );
  const applied = new Map(rows.map((r) => [Number(r.version), r.checksum]));
  const done: string[] = [];
  for (const file of readMigrationFiles(dir)) {
    if (assertUnchanged(applied, file)) continue;
    for (const stmt of splitStatements(file.sql)) {
      for (const rendered of renderStatement(stmt, ctx)) await ch.command(rendered);
    }
    await ch.command(
      `INSERT INTO ${table} (version, name, checksum) VALUES ({v:UInt32}, {n:String}, {c:String})`,
      { v: file.version, n: file.name, c: file.checksum },
    );
    done.push(file.name);
  }
  return done;
}
