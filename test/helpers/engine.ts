import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildServices, type Services } from '../../src/services.js';
import type { Scope } from '../../src/tenancy/keys.js';
import type { Plan } from '../../src/tenancy/tenant-store.js';

export type PgMode = 'embedded' | 'server';

/** The real Postgres the server-path tests use (CI sets it; locally the machine's default). */
export const SERVER_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const SERVER_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether the real Postgres answers. In CI it must: a server-path test that cannot reach it
 * fails instead of skipping.
 */
export async function serverPostgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: SERVER_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (e) {
    if (process.env.CI) throw new Error(`CI: the server-path Postgres at ${SERVER_DATABASE_URL} is unreachable: ${(e as Error).message}`);
    console.warn(`server Postgres unreachable (${(e as Error).message}); server-path tests skipped outside CI`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh schema in the real Postgres, so parallel test files never see each other's rows. */
async function freshSchemaUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: SERVER_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const u = new URL(SERVER_DATABASE_URL);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: SERVER_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

export interface TestEngine {
  services: Services;
  config: Config;
  app: ReturnType<typeof createApp>;
  dataDir: string;
  /** A tenant with a key per scope set. */
  newTenant(name?: string, plan?: Plan): Promise<TestTenant>;
  request(method: string, url: string, init?: { key?: string; body?: string | object; contentType?: string; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

export interface TestTenant {
  id: string;
  name: string;
  admin: string;
  ingest: string;
  read: string;
}

let counter = 0;

export async function startTestEngine(opts: { pg?: PgMode; env?: Record<string, string>; dataDir?: string } = {}): Promise<TestEngine> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-test-'));
  let drop = async () => {};
  const env: Record<string, string> = { TALLYHOUSE_DATA_DIR: dataDir, ...opts.env };
  if (opts.pg === 'server') {
    const s = await freshSchemaUrl();
    env.DATABASE_URL = s.url;
    drop = s.drop;
  }
  const config = loadConfig(env);
  const services = await buildServices(config);
  const app = createApp(services);
  const engine: TestEngine = {
    services,
    config,
    app,
    dataDir,
    async newTenant(name = `tenant-${process.pid}-${++counter}`, plan: Plan = 'pro') {
      const t = await services.tenants.createTenant({ name, plan });
      const key = async (scopes: Scope[]) => (await services.tenants.createKey({ tenantId: t.id, scopes })).key;
      return { id: t.id, name: t.name, admin: await key(['admin']), ingest: await key(['ingest']), read: await key(['read']) };
    },
    request(method, url, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key) headers.authorization = `Bearer ${init.key}`;
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['content-type'] = init.contentType ?? 'application/json';
      }
      return Promise.resolve(app.request(url, { method, headers, body }));
    },
    async close() {
      await services.close();
      await drop().catch(() => {});
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return engine;
}

export const ndjson = (events: object[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

/** Whether the real Redis answers; in CI it must (the server-path tests fail instead of skipping). */
export async function serverRedisAvailable(): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(SERVER_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (e) {
    if (process.env.CI) throw new Error(`CI: the server-path Redis at ${SERVER_REDIS_URL} is unreachable: ${(e as Error).message}`);
    console.warn(`server Redis unreachable (${(e as Error).message}); Redis-path tests skipped outside CI`);
    return false;
  } finally {
    redis.disconnect();
  }
}
