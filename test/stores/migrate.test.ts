import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateAll } from '../../src/services.js';
import { clickhouseMigrationsDir, migrateClickHouse } from '../../src/stores/clickhouse/migrate.js';
import { MigrationChecksumError, readMigrationFiles } from '../../src/stores/migration-files.js';
import { migratePostgres, postgresMigrationsDir } from '../../src/stores/postgres/migrate.js';
import { startTestEngine, type TestEngine } from '../helpers/engine.js';
import { pgModes } from '../helpers/pg-modes.js';

const CH_TABLES = [
  'actors_daily',
  'actors_daily_mv',
  'event_ids',
  'event_ids_mv',
  'events',
  'rollup_daily',
  'rollup_daily_mv',
  'rollup_hourly',
  'rollup_hourly_mv',
  'schema_migrations',
];
const PG_TABLES = ['api_keys', 'model_prices', 'schema_migrations', 'tenants'];

/** A temp copy of a migrations folder that a test may change. */
function copyDir(dir: string): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-migrations-'));
  for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(tmp, f));
  return tmp;
}

// Embedded PGlite, and the real Postgres when it answers (in CI an unreachable one fails).
describe.each(await pgModes())('migrations (Postgres %s)', (pgMode, skip) => {
  const test = it.skipIf(skip);
  let engine: TestEngine;
  const tmpDirs: string[] = [];
  const ddlCtx = () => ({
    cluster: engine.config.clickhouse.cluster,
    retentionDays: engine.config.retentionDays,
    rollupRetentionDays: engine.config.rollupRetentionDays,
  });
  const tmpCopy = (dir: string) => {
    const d = copyDir(dir);
    tmpDirs.push(d);
    return d;
  };

  beforeAll(async () => {
    if (skip) return;
    // The embedded run also proves RETENTION_DAYS reaches the events TTL; the server run keeps the default.
    engine = await startTestEngine(pgMode === 'server' ? { pg: 'server' } : { env: { RETENTION_DAYS: '30' } });
  });
  afterAll(async () => {
    await engine?.close();
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('runs against the intended Postgres', () => {
    expect(engine.services.pg.mode).toBe(pgMode);
    expect(engine.config.postgres.mode).toBe(pgMode);
  });

  test('applies the ClickHouse migrations at start', async () => {
    const rows = await engine.services.ch.query<{ name: string; engine: string }>(
      'SELECT name, engine FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    );
    const names = rows.map((r) => r.name);
    for (const t of CH_TABLES) expect(names).toContain(t);
    const engineOf = Object.fromEntries(rows.map((r) => [r.name, r.engine]));
    expect(engineOf).toMatchObject({
      events: 'MergeTree',
      event_ids: 'ReplacingMergeTree',
      rollup_hourly: 'AggregatingMergeTree',
      rollup_daily: 'AggregatingMergeTree',
      actors_daily: 'AggregatingMergeTree',
      event_ids_mv: 'MaterializedView',
      rollup_hourly_mv: 'MaterializedView',
      rollup_daily_mv: 'MaterializedView',
      actors_daily_mv: 'MaterializedView',
    });
  });

  test('applies the Postgres migrations at start, with the seeded prices', async () => {
    const pool = engine.services.pg.pool;
    const { rows } = await pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(PG_TABLES));
    const prices = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM model_prices WHERE tenant_id IS NULL');
    expect(prices.rows[0]!.n).toBeGreaterThanOrEqual(14);
    const gpt4o = await pool.query('SELECT provider, input_usd_per_mtok, output_usd_per_mtok FROM model_prices WHERE model_pattern = $1', ['gpt-4o']);
    expect(gpt4o.rows).toEqual([{ provider: 'openai', input_usd_per_mtok: '2.500000000', output_usd_per_mtok: '10.000000000' }]);
  });

  test('records each applied file with its checksum', async () => {
    const chFiles = readMigrationFiles(clickhouseMigrationsDir).map((f) => ({ version: f.version, name: f.name, checksum: f.checksum }));
    const pgFiles = readMigrationFiles(postgresMigrationsDir).map((f) => ({ version: f.version, name: f.name, checksum: f.checksum }));
    expect(chFiles.length).toBeGreaterThanOrEqual(2);
    expect(pgFiles.length).toBeGreaterThanOrEqual(2);

    const ch = await engine.services.ch.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    expect(ch).toEqual(chFiles);
    const pg = await engine.services.pg.pool.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    expect(pg.rows).toEqual(pgFiles);
    for (const r of [...ch, ...pg.rows]) expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a second run applies nothing', async () => {
    expect(await migrateAll(engine.config, engine.services.ch, engine.services.pg)).toEqual({ postgres: [], clickhouse: [] });
    // And again: still nothing, and nothing recorded twice.
    expect(await migrateAll(engine.config, engine.services.ch, engine.services.pg)).toEqual({ postgres: [], clickhouse: [] });
    const ch = await engine.services.ch.query<{ n: string }>('SELECT toString(count()) AS n FROM schema_migrations FINAL');
    expect(ch[0]!.n).toBe(String(readMigrationFiles(clickhouseMigrationsDir).length));
    const pg = await engine.services.pg.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(pg.rows[0]!.n).toBe(readMigrationFiles(postgresMigrationsDir).length);
  });

  test('the events TTL uses RETENTION_DAYS', async () => {
    const days = pgMode === 'server' ? 400 : 30;
    expect(engine.config.retentionDays).toBe(days);
    const [row] = await engine.services.ch.query<{ statement: string }>('SHOW CREATE TABLE events');
    expect(row!.statement).toContain(`TTL toDateTime(ts) + toIntervalDay(${days})`);
    const [ids] = await engine.services.ch.query<{ statement: string }>('SHOW CREATE TABLE event_ids');
    expect(ids!.statement).toContain(`toIntervalDay(${days})`);
    const [hourly] = await engine.services.ch.query<{ statement: string }>('SHOW CREATE TABLE rollup_hourly');
    expect(hourly!.statement).toContain(`toIntervalDay(${engine.config.rollupRetentionDays})`);
  });

  test('an unchanged copy of the folders applies nothing', async () => {
    expect(await migrateClickHouse(engine.services.ch, ddlCtx(), tmpCopy(clickhouseMigrationsDir))).toEqual([]);
    expect(await migratePostgres(engine.services.pg, tmpCopy(postgresMigrationsDir))).toEqual([]);
  });

  test('a changed applied file raises MigrationChecksumError', async () => {
    const chDir = tmpCopy(clickhouseMigrationsDir);
    fs.appendFileSync(path.join(chDir, '0001_events.sql'), '\n-- edited after it was applied\n');
    await expect(migrateClickHouse(engine.services.ch, ddlCtx(), chDir)).rejects.toThrow(MigrationChecksumError);
    await expect(migrateClickHouse(engine.services.ch, ddlCtx(), chDir)).rejects.toThrow(/0001_events\.sql was changed/);

    const pgDir = tmpCopy(postgresMigrationsDir);
    const f = path.join(pgDir, '0002_model_prices.sql');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('2.50,  10.00', '2.75,  11.00'));
    await expect(migratePostgres(engine.services.pg, pgDir)).rejects.toThrow(MigrationChecksumError);
    await expect(migratePostgres(engine.services.pg, pgDir)).rejects.toThrow(/0002_model_prices\.sql was changed/);

    // Nothing was applied or recorded by the refused runs, and the schema still works.
    const pg = await engine.services.pg.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(pg.rows[0]!.n).toBe(readMigrationFiles(postgresMigrationsDir).length);
    expect(await migrateAll(engine.config, engine.services.ch, engine.services.pg)).toEqual({ postgres: [], clickhouse: [] });
  });

  test('a new numbered file is applied once, in order', async () => {
    const chDir = tmpCopy(clickhouseMigrationsDir);
    fs.writeFileSync(
      path.join(chDir, '0099_probe.sql'),
      '-- a probe table\nCREATE TABLE IF NOT EXISTS {{table:migrate_probe}} {{on_cluster}} (x UInt8)\nENGINE = {{engine:MergeTree}} ORDER BY x;\n',
    );
    expect(await migrateClickHouse(engine.services.ch, ddlCtx(), chDir)).toEqual(['0099_probe.sql']);
    expect(await migrateClickHouse(engine.services.ch, ddlCtx(), chDir)).toEqual([]);
    const t = await engine.services.ch.query('SELECT name FROM system.tables WHERE database = currentDatabase() AND name = {n:String}', {
      n: 'migrate_probe',
    });
    expect(t).toHaveLength(1);

    const pgDir = tmpCopy(postgresMigrationsDir);
    fs.writeFileSync(path.join(pgDir, '0099_probe.sql'), 'CREATE TABLE migrate_probe (x int);\nINSERT INTO migrate_probe VALUES (1);\n');
    expect(await migratePostgres(engine.services.pg, pgDir)).toEqual(['0099_probe.sql']);
    expect(await migratePostgres(engine.services.pg, pgDir)).toEqual([]);
    const { rows } = await engine.services.pg.pool.query('SELECT x FROM migrate_probe');
    expect(rows).toEqual([{ x: 1 }]);
  });

  test('a failing Postgres migration is rolled back whole and not recorded', async () => {
    const pgDir = tmpCopy(postgresMigrationsDir);
    fs.writeFileSync(path.join(pgDir, '0100_broken.sql'), 'CREATE TABLE half_done (x int);\nSELECT * FROM no_such_table;\n');
    await expect(migratePostgres(engine.services.pg, pgDir)).rejects.toThrow(/no_such_table/);
    const { rows } = await engine.services.pg.pool.query(
      `SELECT (SELECT count(*)::int FROM schema_migrations WHERE version = 100) AS recorded,
              to_regclass('half_done') IS NOT NULL AS table_exists`,
    );
    expect(rows).toEqual([{ recorded: 0, table_exists: false }]);
  });
});
