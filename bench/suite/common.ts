/**
 * Shared pieces of the bench suite: the figure record every section returns, percentiles, the
 * child-process protocol of the engine phases (RESULT / PROGRESS lines on stdout) and a
 * cli-progress bar factory.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One measured number. `id` is what bench/budgets.json keys budgets by. */
export interface Figure {
  section: string;
  id: string;
  label: string;
  value: number;
  unit: string;
  /** Filled in by the report from budgets.json. */
  budget?: string;
  status?: 'within' | 'over' | 'info';
  note?: string;
}

export const fig = (section: string, id: string, label: string, value: number, unit: string, note?: string): Figure => ({ section, id, label, value, unit, note });

/** Nearest-rank percentile of an ascending array. */
export function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function summarize(times: number[]): { p50: number; p95: number; p99: number; n: number } {
  const s = [...times].sort((a, b) => a - b);
  return { p50: pct(s, 0.5), p95: pct(s, 0.95), p99: pct(s, 0.99), n: s.length };
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

export function bar(label: string, total: number): cliProgress.SingleBar {
  const b = new cliProgress.SingleBar(
    { format: `${label.padEnd(34)} {bar} {percentage}% | {value}/{total} {extra}`, hideCursor: true, clearOnComplete: false, noTTYOutput: !process.stderr.isTTY, notTTYSchedule: 10_000 },
    cliProgress.Presets.shades_classic,
  );
  b.start(total, 0, { extra: '' });
  return b;
}

/** Environment for the engine's processes: embedded chDB + PGlite only, nothing from the shell. */
export function engineEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['CLICKHOUSE_URL', 'DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST']) delete env[k];
  return {
    ...env,
    TALLYHOUSE_DATA_DIR: dataDir,
    TALLYHOUSE_BOOTSTRAP: 'false',
    // Every request reaches the engine: cached answers would measure the cache, not the engine.
    CACHE_ENABLED: 'false',
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'warn',
    UV_THREADPOOL_SIZE: '16',
    ...extra,
  };
}

/**
 * Runs bench/suite/engine-phase.ts in its own process (chDB: one process per data directory, and
 * an engine opened once per process), relaying PROGRESS lines to `onProgress`; resolves with the
 * JSON of its RESULT line.
 */
export function runEnginePhase<T>(phase: string, args: unknown, dataDir: string, onProgress?: (done: number, total: number, note: string) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(REPO, 'bench/suite/engine-phase.ts'), phase, JSON.stringify(args)], {
      cwd: REPO,
      env: engineEnv(dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let result: T | undefined;
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as T;
        else if (line.startsWith('PROGRESS ')) {
          const [done, total, ...note] = line.slice(9).split(' ');
          onProgress?.(Number(done), Number(total), note.join(' '));
        } else if (line.trim()) process.stderr.write(`  [${phase}] ${line}\n`);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 20_000) err = err.slice(-20_000);
    });
    child.on('exit', (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`engine phase ${phase} exited ${code}:\n${err.slice(-4000)}`));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
