/**
 * The server under test: `tallyhouse serve` (src/cli/main.ts) as a child process on the bench's
 * data directory, so every figure includes HTTP and the server's memory is measured from the
 * outside (/proc/<pid>/status VmRSS), not by the process that also runs the client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { engineEnv, REPO, sleep } from './common.js';

export interface ServerUnderTest {
  url: string;
  pid: number;
  /** Resident set size now, MB. */
  rssMb(): number;
  /** Samples VmRSS every `everyMs` until stop(); returns the peak and the samples. */
  sampleRss(everyMs?: number): { stop(): { peakMb: number; samples: number[] } };
  stop(): Promise<void>;
}

export function readRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function startServerProcess(dataDir: string, log = path.join(dataDir, 'server.log')): Promise<ServerUnderTest> {
  const out = fs.openSync(log, 'a');
  // node --import tsx directly (not npx): the child's pid is the server itself, for VmRSS.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
    cwd: REPO,
    env: engineEnv(dataDir),
    stdio: ['ignore', 'pipe', out],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s; see ${log}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      fs.writeSync(out, d);
      text += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code} before listening; see ${log}`));
    });
  });
  child.stdout!.on('data', (d: Buffer) => fs.writeSync(out, d));
  const pid = child.pid!;
  return {
    url,
    pid,
    rssMb: () => readRssMb(pid),
    sampleRss(everyMs = 50) {
      const samples: number[] = [readRssMb(pid)];
      const t = setInterval(() => {
        try {
          samples.push(readRssMb(pid));
        } catch {
          /* exited */
        }
      }, everyMs);
      return {
        stop() {
          clearInterval(t);
          samples.push(readRssMb(pid));
          return { peakMb: Math.max(...samples), samples };
        },
      };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
      fs.closeSync(out);
    },
  };
}

/**
 * Waits until the embedded scheduler's first runs (started with the server: reconciliation over
 * the last 48 h of every tenant, detection) have finished, so they do not run under the figures.
 */
export async function waitForStartupJobs(url: string, adminKey: string, timeoutMs = 600_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = await fetch(`${url}/api/v1/ops/jobs`, { headers: { authorization: `Bearer ${adminKey}` } });
    const body = (await r.json()) as { jobs?: { job: string; last_success_at: string | null; dead_lettered: number }[] };
    const jobs = body.jobs ?? [];
    const pending = jobs.filter((j) => (j.job === 'reconciliation' || j.job === 'detection') && !j.last_success_at && !j.dead_lettered);
    if (r.status === 200 && jobs.length && pending.length === 0) return;
    await sleep(1000);
  }
  throw new Error('startup jobs did not finish in time');
}
