/**
 * The real `tallyhouse` CLI, run as child processes exactly as a user runs it
 * (`tsx src/cli/main.ts …`, and the `bin/tallyhouse.js` launcher), each group on its own fresh
 * data directory. Embedded mode only: every store variable is removed from the children's env.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config.js';
import { SERVER_REDIS_URL, serverRedisAvailable } from '../helpers/engine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const MAIN = 'src/cli/main.ts';
const LAUNCHER = path.join(ROOT, 'bin/tallyhouse.js');

const KEY_RE = /th_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}/;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

function freshDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-cli-'));
  tempDirs.push(d);
  return d;
}

/** The parent's env minus every tallyhouse setting (so no DATABASE_URL etc. leaks in), plus extra. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(configSchema.shape)) delete env[k];
  return { ...env, ...extra };
}

/**
 * Starts a CLI process in its own process group (tsx runs the CLI in a grandchild; killing the
 * group on clean-up takes both).
 */
function launch(args: string[], env: Record<string, string>, via: 'tsx' | 'launcher' = 'tsx') {
  const [cmd, argv] = via === 'tsx' ? [TSX, [MAIN, ...args]] : [process.execPath, [LAUNCHER, ...args]];
  const child = spawn(cmd, argv, { cwd: ROOT, env: childEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<Result>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

function killGroup(child: ChildProcess) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Runs a CLI command to completion (killed and failed after timeoutMs). */
async function run(args: string[], env: Record<string, string>, timeoutMs = 90_000, via: 'tsx' | 'launcher' = 'tsx'): Promise<Result> {
  const p = launch(args, env, via);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      killGroup(p.child);
      const o = p.output();
      reject(new Error(`tallyhouse ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout:\n${o.stdout}\nstderr:\n${o.stderr}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([p.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the process's stdout matches re; fails early (with its output) if it exits. */
async function waitForOutput(p: ReturnType<typeof launch>, re: RegExp, timeoutMs = 90_000): Promise<RegExpMatchArray> {
  const started = Date.now();
  for (;;) {
    const m = p.output().stdout.match(re);
    if (m) return m;
    if (p.child.exitCode !== null || p.child.signalCode !== null || Date.now() - started > timeoutMs) {
      const o = p.output();
      throw new Error(
        `no ${re} in the output (exit ${p.child.exitCode ?? p.child.signalCode ?? 'none, timed out'})\nstdout:\n${o.stdout}\nstderr:\n${o.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  // A failed test must not leave a server holding a data directory (the serve group's server
  // lives across its tests, so clean-up is per file, not per test).
  for (const c of children) killGroup(c);
  await new Promise((r) => setTimeout(r, 200));
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('tallyhouse migrate', () => {
  let env: Record<string, string>;
  beforeAll(() => {
    env = { TALLYHOUSE_DATA_DIR: freshDir() };
  });

  it('applies every migration file once, then reports both stores up to date', async () => {
    const first = await run(['migrate'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const pgFiles = fs.readdirSync(path.join(ROOT, 'pg-migrations')).filter((f) => f.endsWith('.sql')).sort();
    const chFiles = fs.readdirSync(path.join(ROOT, 'clickhouse')).filter((f) => f.endsWith('.sql')).sort();
    expect(pgFiles.length).toBeGreaterThan(0);
    expect(chFiles.length).toBeGreaterThan(0);
    expect(first.stdout).toContain(`postgres: ${pgFiles.join(', ')}\n`);
    expect(first.stdout).toContain(`clickhouse: ${chFiles.join(', ')}\n`);

    const second = await run(['migrate'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('postgres: up to date\nclickhouse: up to date\n');
  }, 180_000);
});

describe('tallyhouse tenants and keys', () => {
  let env: Record<string, string>;
  let key = '';
  beforeAll(() => {
    env = { TALLYHOUSE_DATA_DIR: freshDir() };
  });

  it('creates a tenant and lists it', async () => {
    const created = await run(['tenants', 'create', '--name', 'acme', '--plan', 'pro'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const tenant = JSON.parse(created.stdout) as Record<string, unknown>;
    expect(tenant).toMatchObject({ name: 'acme', plan: 'pro', timezone: 'UTC' });
    expect(tenant.id).toMatch(/^[0-9a-f-]{36}$/);

    const listed = await run(['tenants', 'list'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([tenant]);
  }, 180_000);

  it('refuses a duplicate tenant name with a clear message', async () => {
    const r = await run(['tenants', 'create', '--name', 'acme'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tenant acme already exists/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 120_000);

  it('rejects a bad --plan and a bad --timezone with exit code 1', async () => {
    const [plan, tz] = await Promise.all([
      run(['tenants', 'create', '--name', 'x', '--plan', 'gold'], env),
      run(['tenants', 'create', '--name', 'y', '--timezone', 'Mars/Olympus_Mons'], env),
    ]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/--plan must be free, pro or enterprise; got gold/);
    expect(tz.code).toBe(1);
    expect(tz.stderr).toMatch(/--timezone must be an IANA time zone.*got Mars\/Olympus_Mons/);
    expect(plan.stdout + tz.stdout).toBe('');
    // Neither was created.
    const listed = await run(['tenants', 'list'], env);
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((t) => t.name)).toEqual(['acme']);
  }, 180_000);

  it('creates a key and prints it once', async () => {
    const r = await run(['keys', 'create', '--tenant', 'acme', '--scopes', 'ingest,read'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = r.stdout.match(/^key \(shown once\): (\S+)$/m);
    expect(m).not.toBeNull();
    key = m![1]!;
    expect(key).toMatch(new RegExp(`^${KEY_RE.source}$`));
    expect(r.stdout.split(key).length - 1).toBe(1); // printed exactly once
    const info = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Record<string, unknown>;
    expect(info).toMatchObject({ prefix: key.slice(0, 11), scopes: ['ingest', 'read'], revokedAt: null });
    expect(JSON.stringify(info)).not.toContain(key.slice(12));
  }, 120_000);

  it('names the bad scope and creates nothing', async () => {
    const r = await run(['keys', 'create', '--tenant', 'acme', '--scopes', 'admin,bogus'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown scope bogus\b/);
    expect(r.stderr).not.toMatch(/unknown scopes? [^;]*admin/);
    expect(r.stdout).not.toMatch(KEY_RE);
    const listed = await run(['keys', 'list', '--tenant', 'acme'], env);
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(1);
  }, 180_000);

  it('lists keys by prefix, never the secret', async () => {
    expect(key).not.toBe('');
    const r = await run(['keys', 'list', '--tenant', 'acme'], env);
    expect(r.code).toBe(0);
    const keys = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ prefix: key.slice(0, 11), scopes: ['ingest', 'read'], revokedAt: null });
    expect(r.stdout).not.toContain(key);
    expect(r.stdout).not.toContain(key.slice(12)); // the secret part
    expect(r.stdout).not.toMatch(/hash/i);
  }, 120_000);

  it('revokes a key by its prefix', async () => {
    const prefix = key.slice(0, 11);
    const r = await run(['keys', 'revoke', prefix], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^revoked ${prefix} \\([0-9a-f-]{36}\\) at \\S+`));
    const listed = await run(['keys', 'list', '--tenant', 'acme'], env);
    const keys = JSON.parse(listed.stdout) as { prefix: string; revokedAt: string | null }[];
    expect(keys).toHaveLength(1);
    expect(keys[0]!.prefix).toBe(prefix);
    expect(keys[0]!.revokedAt).not.toBeNull();

    const unknown = await run(['keys', 'revoke', 'th_nothere'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no key th_nothere/);
  }, 240_000);
});

describe('tallyhouse seed', () => {
  let env: Record<string, string>;
  beforeAll(() => {
    env = { TALLYHOUSE_DATA_DIR: freshDir() };
  });

  it('ingests the demo dataset with nothing rejected; a re-run is all duplicates', async () => {
    const args = ['seed', '--events', '20000', '--days', '10', '--tenants', '2'];
    const first = await run(args, env, 150_000);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^ingested 20000 events \(0 duplicates, 0 rejected\)/m);
    const perTenant = [...first.stdout.matchAll(/^ {2}(\S+): (\d+) events$/gm)].map((m) => [m[1], Number(m[2])] as const);
    expect(perTenant.map(([name]) => name)).toEqual(['acme', 'globex']);
    expect(perTenant.reduce((s, [, n]) => s + n, 0)).toBe(20000);

    const again = await run(args, env, 150_000);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^ingested 0 events \(20000 duplicates, 0 rejected\)/m);

    const tenants = await run(['tenants', 'list'], env);
    expect((JSON.parse(tenants.stdout) as { name: string }[]).map((t) => t.name)).toEqual(['acme', 'globex']);
  }, 360_000);
});

describe('tallyhouse serve', () => {
  let env: Record<string, string>;
  let dataDir: string;
  let server: ReturnType<typeof launch>;
  let url = '';
  let key = '';
  beforeAll(() => {
    dataDir = freshDir();
    env = { TALLYHOUSE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' };
  });

  it('starts on an empty data directory, printing the URL and a bootstrap admin key', async () => {
    server = launch(['serve'], env);
    url = (await waitForOutput(server, /tallyhouse listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    key = (await waitForOutput(server, new RegExp(`First start: created tenant "demo" with an admin API key[^\\n]*\\n\\n {2}(${KEY_RE.source})\\n`)))[1]!;
    expect(fs.existsSync(path.join(dataDir, 'tallyhouse.lock'))).toBe(true);

    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);

    const keys = await fetch(`${url}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(keys.status).toBe(200);
    const body = (await keys.json()) as { keys: { prefix: string; scopes: string[]; revoked_at: string | null }[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ prefix: key.slice(0, 11), scopes: ['admin'], revoked_at: null });
    expect(JSON.stringify(body)).not.toContain(key.slice(12));

    const anonymous = await fetch(`${url}/api/v1/keys`);
    expect(anonymous.status).toBe(401);
  }, 180_000);

  it('refuses a second serve on the same data directory while the first runs', async () => {
    expect(key).not.toBe('');
    const second = await run(['serve'], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`data directory ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process \\d+`));
    expect(second.stdout).not.toMatch(/listening/);
    // The first is unharmed.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  }, 120_000);

  it('shuts down cleanly on SIGTERM (exit 0, lock released)', async () => {
    expect(server.child.exitCode).toBeNull();
    server.child.kill('SIGTERM');
    const r = await server.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shutting down/);
    expect(r.stderr).toBe('');
    expect(fs.existsSync(path.join(dataDir, 'tallyhouse.lock'))).toBe(false);
    await expect(fetch(`${url}/readyz`)).rejects.toThrow();
  }, 120_000);

  it('restarts through bin/tallyhouse.js without a new bootstrap key, and the launcher relays SIGTERM', async () => {
    const again = launch(['serve'], env, 'launcher');
    const url2 = (await waitForOutput(again, /tallyhouse listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    // The store is not empty any more: the old key still works and no new one is printed.
    const keys = await fetch(`${url2}/api/v1/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(keys.status).toBe(200);
    expect(again.output().stdout).not.toMatch(/First start/);
    expect(again.output().stdout).not.toMatch(KEY_RE);
    again.child.kill('SIGTERM');
    const r = await again.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shutting down/);
    expect(fs.existsSync(path.join(dataDir, 'tallyhouse.lock'))).toBe(false);
  }, 180_000);

  it('stops start-up on a bad env value, naming the variable', async () => {
    const missing = path.join(freshDir(), 'not-created');
    const r = await run(['serve'], { TALLYHOUSE_DATA_DIR: missing, PORT: 'abc' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid configuration:\n\s+PORT: .*\(got "abc"\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(r.stdout).toBe('');
    expect(fs.existsSync(missing)).toBe(false); // nothing touched
  }, 120_000);
});

describe('bin/tallyhouse.js', () => {
  it('prints the help from any working directory', async () => {
    const child = spawn(process.execPath, [LAUNCHER, '--help'], { cwd: os.tmpdir(), env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    children.delete(child);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: tallyhouse /);
    for (const cmd of ['serve', 'migrate', 'tenants', 'keys', 'seed']) expect(stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  }, 60_000);

  it("forwards the CLI's exit code and stderr", async () => {
    const r = await run(['tenants', 'create', '--name', 'x', '--plan', 'gold'], { TALLYHOUSE_DATA_DIR: freshDir() }, 60_000, 'launcher');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--plan must be free, pro or enterprise; got gold/);
  }, 60_000);
});

describe('tallyhouse worker', () => {
  const prefix = `th-test-cli-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  afterAll(async () => {
    const { Redis } = await import('ioredis');
    const redis = new Redis(SERVER_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } catch {
      // Redis is down: nothing was written
    } finally {
      redis.disconnect();
    }
  });

  it('refuses to start without REDIS_URL, saying serve runs the jobs then', async () => {
    const r = await run(['worker'], { TALLYHOUSE_DATA_DIR: freshDir() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tallyhouse: tallyhouse worker needs REDIS_URL \(without it `tallyhouse serve` runs the jobs in-process\)\n$/);
  }, 120_000);

  it('runs the jobs from Redis and shuts down cleanly on SIGTERM', async (ctx) => {
    if (!(await serverRedisAvailable())) return ctx.skip();
    const dataDir = freshDir();
    const w = launch(['worker'], { TALLYHOUSE_DATA_DIR: dataDir, REDIS_URL: SERVER_REDIS_URL, JOBS_PREFIX: prefix });
    await waitForOutput(w, new RegExp(`tallyhouse worker: jobs .*webhooks\\.deliver.* from ${prefix}:jobs`));
    // Its schedulers are in Redis: the retention window of this hour runs at once.
    const { Redis } = await import('ioredis');
    const redis = new Redis(SERVER_REDIS_URL);
    try {
      for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        if (await redis.hget(`${prefix}:jobstats:retention`, 'last_success_at')) break;
      }
      expect(Number(await redis.hget(`${prefix}:jobstats:retention`, 'last_success_at'))).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      redis.disconnect();
    }
    w.child.kill('SIGTERM');
    const r = await w.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/finishing running jobs/);
    expect(r.stderr).toBe('');
    expect(fs.existsSync(path.join(dataDir, 'tallyhouse.lock'))).toBe(false);
  }, 180_000);
});
