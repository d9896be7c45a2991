import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { EXPORT_TMP_DIRNAME } from '../../../src/stores/clickhouse/embedded-export.js';
import type { TestEngine } from '../../helpers/engine.js';

/** RFC 4180 CSV → rows of cells (quoted cells may hold commas, quotes and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else if (ch !== '\r') cell += ch;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** CSV rows → objects keyed by the header row. */
export function csvRecords(text: string): { header: string[]; records: Record<string, string>[] } {
  const [header = [], ...rest] = parseCsv(text);
  return { header, records: rest.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']))) };
}

/** How a JSON value of the API reads in a CSV cell. */
export function csvText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * Parquet bytes read back by the engine itself: the bytes must be ONE valid Parquet file
 * (the engine reads a file through its footer; concatenated files would not add up).
 */
export async function readParquet<T>(engine: TestEngine, bytes: Buffer, select: string): Promise<T[]> {
  expect(bytes.subarray(0, 4).toString('latin1')).toBe('PAR1');
  expect(bytes.subarray(bytes.length - 4).toString('latin1')).toBe('PAR1');
  const file = path.join(os.tmpdir(), `export-test-${process.pid}-${crypto.randomUUID()}.parquet`);
  fs.writeFileSync(file, bytes);
  try {
    return await engine.services.ch.query<T>(select.replace('$FILE', 'file({f:String}, Parquet)'), { f: file });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Files the engine wrote for Parquet exports and did not delete. */
export const exportTempFiles = (engine: TestEngine): string[] => {
  if (engine.config.clickhouse.mode !== 'embedded') return [];
  const dir = path.join(engine.config.clickhouse.path, EXPORT_TMP_DIRNAME);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

export async function expectError(r: Response, status: number, code: string, field?: string) {
  const body = (await r.json()) as { error: { code: string; message: string; details?: { field?: string; issues?: { path: string }[] } } };
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  if (field) {
    const named = body.error.details?.field ?? body.error.details?.issues?.[0]?.path;
    expect(named).toBe(field);
  }
  return body.error;
}
