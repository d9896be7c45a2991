/**
 * GET /api/v1/export/events as CSV and Parquet for windows of exactly k rows of the export
 * tenant (one row every EXPORT_STEP_MS): rows/s over HTTP, and the SERVER's resident memory read
 * from /proc/<pid>/status every 50 ms (peak, growth over the RSS just before the export). The
 * client counts CSV lines as they stream; Parquet goes to a file that a separate chDB process
 * reads back (`SELECT count() FROM file(…, Parquet)`): a single valid file with every row.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fig, REPO, round, sleep, type Figure } from './common.js';
import type { ServerUnderTest } from './server.js';

export interface ExportTenant {
  startMs: number;
  stepMs: number;
  rows: number;
}

/** Rows in a Parquet file, read by chDB in its own process (the server holds the data dir). */
export function parquetRowCount(file: string): number {
  // CommonJS with chdb's absolute path (an ESM -e script ignores NODE_PATH); its own cwd, so the
  // stateless engine's scratch files land in a temp dir.
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-bench-pq-'));
  const script = `const { query } = require(${JSON.stringify(path.join(REPO, 'node_modules/chdb'))}); process.stdout.write(query(${JSON.stringify(`SELECT count() FROM file('${file}', Parquet)`)}, 'TSV'));`;
  try {
    return Number(execFileSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8' }).trim());
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

async function exportOnce(server: ServerUnderTest, key: string, t: ExportTenant, format: 'csv' | 'parquet', n: number) {
  global.gc?.();
  await sleep(1000);
  const before = server.rssMb();
  const sampler = server.sampleRss(50);
  const q = new URLSearchParams({ from: new Date(t.startMs).toISOString(), to: new Date(t.startMs + n * t.stepMs).toISOString(), format });
  const file = format === 'parquet' ? path.join(os.tmpdir(), `tallyhouse-bench-${process.pid}-${n}.parquet`) : undefined;
  const fd = file ? fs.openSync(file, 'w') : undefined;
  const t0 = performance.now();
  const r = await fetch(`${server.url}/api/v1/export/events?${q}`, { headers: { authorization: `Bearer ${key}` } });
  if (r.status !== 200) throw new Error(`export ${format}: ${r.status} ${await r.text()}`);
  let bytes = 0;
  let newlines = 0;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (fd !== undefined) fs.writeSync(fd, chunk);
    else for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const { peakMb } = sampler.stop();
  let got = newlines - 1; // a header line, then one line per row
  if (file) {
    fs.closeSync(fd!);
    got = parquetRowCount(file);
    fs.rmSync(file, { force: true });
  }
  return { format, rows: n, got, seconds, bytes, rowsPerS: n / seconds, before, peakMb, growthMb: peakMb - before };
}

export async function exports(server: ServerUnderTest, key: string, t: ExportTenant, sizes: number[], onDone?: (label: string) => void): Promise<Figure[]> {
  const out: Figure[] = [];
  const largest = Math.max(...sizes);
  for (const n of sizes) {
    const tag = n === largest ? 'large' : 'small';
    for (const format of ['csv', 'parquet'] as const) {
      const r = await exportOnce(server, key, t, format, n);
      const id = `export.${format}_${tag}`;
      const label = `${format.toUpperCase()} export ${n.toLocaleString('en')} rows`;
      const note = `${round(r.bytes / 1e6)} MB in ${round(r.seconds, 2)} s; RSS ${round(r.before, 0)} → peak ${round(r.peakMb, 0)} MB`;
      out.push(fig('exports', `${id}.rows_per_s`, `${label}: rows/s`, round(r.rowsPerS, 0), 'rows/s', note));
      out.push(fig('exports', `${id}.rss_growth_mb`, `${label}: server RSS growth`, round(r.growthMb, 0), 'MB', `peak ${round(r.peakMb, 0)} MB`));
      out.push(fig('exports', `${id}.complete`, `${label}: ${format === 'parquet' ? 'single valid file, ' : ''}rows received = rows asked`, r.got === n ? 1 : 0, 'yes=1', `${r.got} of ${n}`));
      onDone?.(`${format} ${n}`);
    }
  }
  return out;
}
