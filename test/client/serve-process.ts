/**
 * The real engine as a separate process (`node --import tsx src/cli/main.ts serve`, one process
 * so a signal reaches the server itself), on a fixed port and data directory so a test can kill
 * it (SIGTERM or SIGKILL) and start it again where producers expect it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../src/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KEY_RE = /First start: created tenant "demo" with an admin API key[^\n]*\n\n {2}(th_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43})\n/;

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export const tempDataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-client-'));

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** The demo tenant's admin key (first start on an empty data directory only). */
  bootstrapKey?: string;
  output(): string;
  /** Sends the signal and resolves when the process is gone. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnedServe {
  child: ChildProcess;
  stop: ServeProcess['stop'];
  /** Resolves once the server printed its listening line (it may accept connections a little earlier). */
  ready: Promise<ServeProcess>;
}

export function startServe(opts: { dataDir: string; port: number; env?: Record<string, string> }): Promise<ServeProcess> {
  return spawnServe(opts).ready;
}

export function spawnServe(opts: { dataDir: string; port: number; env?: Record<string, string> }): SpawnedServe {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(configSchema.shape)) delete env[k];
  Object.assign(env, {
    TALLYHOUSE_DATA_DIR: opts.dataDir,
    PORT: String(opts.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
    UV_THREADPOOL_SIZE: '16',
    ...opts.env,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  // A test that times out must not leave a server holding its data directory and port.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));

  const stop: ServeProcess['stop'] = async (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { child, stop, ready: waitListening(child, () => out, opts.port, stop) };
}

async function waitListening(child: ChildProcess, output: () => string, port: number, stop: ServeProcess['stop']): Promise<ServeProcess> {
  const deadline = Date.now() + 90_000;
  while (!/tallyhouse listening on /.test(output())) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited before listening:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not listen within 90 s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // The bootstrap key is printed right after the listening line.
  await new Promise((r) => setTimeout(r, 100));
  return { url: `http://127.0.0.1:${port}`, child, bootstrapKey: KEY_RE.exec(output())?.[1], output, stop };
}

/** A tenant of its own with an ingest and a read key, made through the admin key over HTTP. */
export async function createKeys(url: string, adminKey: string): Promise<{ ingest: string; read: string }> {
  const make = async (scopes: string[]) => {
    const res = await fetch(`${url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes }),
    });
    if (res.status !== 201) throw new Error(`POST /api/v1/keys: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { key: string }).key;
  };
  return { ingest: await make(['ingest']), read: await make(['read']) };
}
