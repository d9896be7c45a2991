/**
 * Renders the numbered ClickHouse DDL files for one node or for a cluster.
 *
 * Files use placeholders so one text serves both: `{{table:NAME}}` (NAME, or NAME_local on
 * a cluster), `{{dist:NAME}}` (always NAME: the Distributed table on a cluster, for statements
 * that must see every shard, like a backfill), `{{on_cluster}}`, `{{engine:XMergeTree}}` (Replicated on a cluster, with the
 * statement's table as the ZooKeeper path) and settings such as `{{retention_days}}`.
 * A `-- @distributed NAME SHARDING_EXPR` line before a CREATE TABLE adds, on a cluster, the
 * Distributed table NAME over NAME_local, which is what queries and inserts use.
 */
export interface DdlContext {
  cluster?: string;
  retentionDays: number;
  rollupRetentionDays: number;
}

const quoteIdent = (s: string) => '`' + s.replace(/`/g, '') + '`';

export function renderStatement(stmt: string, ctx: DdlContext): string[] {
  const clustered = ctx.cluster !== undefined;
  const firstTable = /\{\{table:([A-Za-z_][A-Za-z0-9_]*)\}\}/.exec(stmt)?.[1];
  const localName = (t: string) => (clustered ? `${t}_local` : t);
  const out = stmt
    .replace(/\{\{table:([A-Za-z_][A-Za-z0-9_]*)\}\}/g, (_, t: string) => localName(t))
    .replace(/\{\{dist:([A-Za-z_][A-Za-z0-9_]*)\}\}/g, (_, t: string) => t)
    .replace(/\{\{on_cluster\}\}/g, clustered ? `ON CLUSTER ${quoteIdent(ctx.cluster!)}` : '')
    .replace(/\{\{engine:([A-Za-z]*MergeTree)\}\}/g, (_, engine: string) => {
      if (!clustered) return engine;
      if (!firstTable) throw new Error('{{engine:…}} needs a {{table:…}} in the same statement');
      return `Replicated${engine}('/clickhouse/tables/{shard}/{database}/${localName(firstTable)}', '{replica}')`;
    })
    .replace(/\{\{retention_days\}\}/g, String(ctx.retentionDays))
    .replace(/\{\{rollup_retention_days\}\}/g, String(ctx.rollupRetentionDays));
  const left = /\{\{[^}]*\}\}/.exec(out);
  if (left) throw new Error(`unknown DDL placeholder ${left[0]}`);

  const statements = [out];
  const dist = /^--\s*@distributed\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.+)$/m.exec(stmt);
  if (dist && clustered) {
    const [, name, key] = dist;
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${name} ON CLUSTER ${quoteIdent(ctx.cluster!)} AS ${name}_local ` +
        `ENGINE = Distributed(${quoteIdent(ctx.cluster!)}, currentDatabase(), ${name}_local, ${key!.trim()})`,
    );
  }
  return statements;
}

export const migrationsTableDdl = (ctx: DdlContext) =>
  renderStatement(
    `CREATE TABLE IF NOT EXISTS {{table:schema_migrations}} {{on_cluster}}
     (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = {{engine:ReplacingMergeTree}} ORDER BY version`,
    ctx,
  );
