import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsTableDdl, renderStatement, type DdlContext } from '../../../src/stores/clickhouse/ddl.js';
import { clickhouseMigrationsDir } from '../../../src/stores/clickhouse/migrate.js';
import { readMigrationFiles, splitStatements } from '../../../src/stores/migration-files.js';
import { startTestEngine, type TestEngine } from '../../helpers/engine.js';

const cluster: DdlContext = { cluster: 'c1', retentionDays: 400, rollupRetentionDays: 1830 };
const single: DdlContext = { retentionDays: 400, rollupRetentionDays: 1830 };

const files = readMigrationFiles(clickhouseMigrationsDir);
const statements = files.flatMap((f) => splitStatements(f.sql).map((sql, i) => ({ file: f.name, i, sql })));

/** The statement without its leading comment lines. */
const body = (sql: string) =>
  sql
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .trim();

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS (\w+)\s/;
const CREATE_MV = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)\s/;
/** Statements of later files that change earlier objects (no engine of their own). */
const CHANGE = /^(DROP VIEW|ALTER TABLE) /;
const DIRECTIVE = /^--\s*@distributed\s+(\w+)\s+(.+)$/m;

describe('renderStatement on a cluster', () => {
  it('covers every statement of every clickhouse/*.sql file', () => {
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(['0001_events.sql', '0002_rollups.sql']));
    expect(statements.length).toBeGreaterThanOrEqual(9);
  });

  it.each(statements.map((s) => [`${s.file}#${s.i}`, s] as const))('%s', (_, s) => {
    const out = renderStatement(s.sql, cluster);
    const main = body(out[0]!);
    if (main.startsWith('INSERT')) {
      // A backfill reads and writes the Distributed tables, so it sees and reaches every shard.
      expect(out).toHaveLength(1);
      expect(main).not.toMatch(/_local\b|ON CLUSTER/);
      expect(main).toMatch(/^INSERT INTO \w+\s/);
      return;
    }
    expect(main).toContain('ON CLUSTER `c1`');
    expect(out.join('\n')).not.toMatch(/\{\{|\}\}/);
    if (CHANGE.test(main)) {
      // A later file changing an earlier table or view: on every node, on the shard-local
      // objects or (dist:) on the Distributed table of the same name.
      expect(out).toHaveLength(1);
      expect(main).toMatch(/^(DROP VIEW IF EXISTS \w+_local|ALTER TABLE \w+) ON CLUSTER `c1`/);
      return;
    }

    const table = CREATE_TABLE.exec(main);
    const mv = CREATE_MV.exec(main);
    expect(table ?? mv, 'a CREATE TABLE or CREATE MATERIALIZED VIEW').not.toBeNull();

    if (table) {
      const name = table[1]!;
      expect(name).toMatch(/_local$/);
      expect(main).toMatch(
        new RegExp(
          `ENGINE = Replicated(Replacing|Aggregating)?MergeTree\\('/clickhouse/tables/\\{shard\\}/\\{database\\}/${name}', '\\{replica\\}'\\)`,
        ),
      );
      expect(main).not.toMatch(/ENGINE = (Replacing|Aggregating)?MergeTree\b/);
    }
    if (mv) {
      expect(mv[1]).toMatch(/_local$/);
      // Every table an MV reads or writes is a shard-local one: the Distributed tables fan out
      // inserts to the shards, and each shard's MVs fire on its own local tables.
      const refs = [...main.matchAll(/\b(?:TO|FROM)\s+(\w+)/g)].map((m) => m[1]!);
      expect(refs.length).toBe(2);
      for (const r of refs) expect(r).toMatch(/_local$/);
    }

    const directive = DIRECTIVE.exec(s.sql);
    if (directive) {
      const [, name, key] = directive;
      expect(table?.[1]).toBe(`${name}_local`);
      expect(out).toHaveLength(2);
      expect(out[1]).toBe(
        `CREATE TABLE IF NOT EXISTS ${name} ON CLUSTER \`c1\` AS ${name}_local ` +
          `ENGINE = Distributed(\`c1\`, currentDatabase(), ${name}_local, ${key!.trim()})`,
      );
    } else {
      expect(out).toHaveLength(1);
    }
  });

  it('makes a Distributed table for each @distributed directive, over each table users query', () => {
    const directives = statements.flatMap((s) => {
      const d = DIRECTIVE.exec(s.sql);
      return d ? [d[1]!] : [];
    });
    expect(directives).toEqual(expect.arrayContaining(['actors_daily', 'event_ids', 'events', 'rollup_daily', 'rollup_hourly']));
    const distributed = statements
      .flatMap((s) => renderStatement(s.sql, cluster))
      .filter((r) => r.includes('ENGINE = Distributed('))
      .map((r) => CREATE_TABLE.exec(r)![1]);
    expect(distributed.sort()).toEqual(directives.sort());
  });

  it('replicates the migrations table too', () => {
    const out = migrationsTableDdl(cluster);
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('schema_migrations_local ON CLUSTER `c1`');
    expect(out[0]).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/schema_migrations_local', '{replica}')");
  });

  it('quotes the cluster name', () => {
    const out = renderStatement('CREATE TABLE {{table:t}} {{on_cluster}} (x UInt8) ENGINE = {{engine:MergeTree}} ORDER BY x', {
      ...cluster,
      cluster: 'prod.eu-1',
    });
    expect(out[0]).toContain('ON CLUSTER `prod.eu-1`');
  });
});

describe('renderStatement on one node', () => {
  it.each(statements.map((s) => [`${s.file}#${s.i}`, s] as const))('%s', (_, s) => {
    const out = renderStatement(s.sql, single);
    expect(out).toHaveLength(1);
    const main = body(out[0]!);
    expect(main).not.toContain('ON CLUSTER');
    expect(main).not.toContain('Replicated');
    expect(main).not.toContain('Distributed');
    expect(main).not.toMatch(/_local\b/);
    expect(main).not.toMatch(/\{\{|\}\}/);
    if (main.startsWith('INSERT')) {
      expect(s.sql).toMatch(/INSERT INTO \{\{dist:\w+\}\}/);
      return;
    }
    if (CHANGE.test(main)) {
      expect(s.sql).toMatch(/^(DROP VIEW IF EXISTS|ALTER TABLE) \{\{(table|dist):\w+\}\} \{\{on_cluster\}\}/m);
      return;
    }
    const name = (CREATE_TABLE.exec(main) ?? CREATE_MV.exec(main))?.[1];
    expect(name).toBeDefined();
    expect(s.sql).toContain(`{{table:${name}}}`);
  });

  it('fills in the retention settings', () => {
    const events = statements.find((s) => /\{\{table:events\}\} \{\{on_cluster\}\}/.test(s.sql))!;
    const out = renderStatement(events.sql, { retentionDays: 30, rollupRetentionDays: 99 })[0]!;
    expect(out).toContain('TTL toDateTime(ts) + INTERVAL 30 DAY DELETE');
    const hourly = statements.find((s) => /\{\{table:rollup_hourly\}\} \{\{on_cluster\}\}/.test(s.sql))!;
    expect(renderStatement(hourly.sql, { retentionDays: 30, rollupRetentionDays: 99 })[0]).toContain('TTL hour + INTERVAL 99 DAY DELETE');
  });
});

describe('renderStatement errors', () => {
  it('throws on an unknown placeholder', () => {
    expect(() => renderStatement('CREATE TABLE {{table:t}} (x UInt8) ENGINE = MergeTree TTL x + {{retention_weeks}}', single)).toThrow(
      /unknown DDL placeholder \{\{retention_weeks\}\}/,
    );
    expect(() => renderStatement('SELECT {{nope}}', cluster)).toThrow(/unknown DDL placeholder/);
    // An engine placeholder that is not a MergeTree is unknown too.
    expect(() => renderStatement('CREATE TABLE {{table:t}} (x UInt8) ENGINE = {{engine:Log}}', single)).toThrow(
      /unknown DDL placeholder \{\{engine:Log\}\}/,
    );
  });

  it('refuses a replicated engine without a table to name its path after', () => {
    expect(() => renderStatement('CREATE TABLE t (x UInt8) ENGINE = {{engine:MergeTree}} ORDER BY x', cluster)).toThrow(/needs a \{\{table:/);
  });
});

describe("rendered DDL is accepted by the engine's parser", () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(() => engine.close());

  const parse = async (q: string) => {
    const rows = await engine.services.ch.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q });
    return rows[0]!.f;
  };

  it('formatQuery rejects what does not parse (the check can fail)', async () => {
    await expect(parse('CREATE TABLE x ON CLUSTER ENGINE = (')).rejects.toThrow();
  });

  it('every cluster statement parses', async () => {
    const rendered = [...statements.flatMap((s) => renderStatement(s.sql, cluster)), ...migrationsTableDdl(cluster)];
    expect(rendered.length).toBeGreaterThanOrEqual(15);
    for (const q of rendered) {
      const f = await parse(q);
      if (/^INSERT/.test(body(q))) continue; // backfills: parsed, checked above
      // The parsed form keeps what makes it a cluster statement.
      expect(f, q).toMatch(/ON CLUSTER c1/);
      if (CHANGE.test(body(q))) continue;
      expect(f, q).toMatch(/ENGINE = (Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\w+_local', '\{replica\}'\)|Distributed\(c1, currentDatabase\(\), \w+_local, cityHash64\()|\bTO \w+_local\b/);
    }
  });

  it('every single-node statement parses', async () => {
    for (const q of [...statements.flatMap((s) => renderStatement(s.sql, single)), ...migrationsTableDdl(single)]) {
      const f = await parse(q);
      expect(f, q).not.toContain('ON CLUSTER');
    }
  });
});
