import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface MigrationFile {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Numbered `NNNN_name.sql` files of a folder, in order. A gap or a repeated number is an error. */
export function readMigrationFiles(dir: string): MigrationFile[] {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const out: MigrationFile[] = [];
  for (const f of files) {
    const m = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(f);
    if (!m) throw new Error(`migration file ${f} in ${dir} is not named NNNN_name.sql`);
    const version = Number(m[1]);
    if (out.some((o) => o.version === version)) throw new Error(`two migrations numbered ${m[1]} in ${dir}`);
    const sql = fs.readFileSync(path.join(dir, f), 'utf8');
    out.push({ version, name: f, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

/** Statements of a file: split on a `;` that ends a line. Comment-only chunks are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('--')));
}

export class MigrationChecksumError extends Error {}

export function assertUnchanged(
  applied: Map<number, string>,
  file: MigrationFile,
): boolean {
  const prev = applied.get(file.version);
  if (prev === undefined) return false;
  if (prev !== file.checksum) {
    throw new MigrationChecksumError(
      `migration ${file.name} was changed after it was applied; add a new numbered file instead`,
    );
  }
  return true;
}
