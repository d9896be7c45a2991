import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { repoRoot } from '../../src/stores/migration-files.js';
import { loadKeyHashSecret } from '../../src/tenancy/key-hash-secret.js';
import { TenantStore } from '../../src/tenancy/tenant-store.js';
import { serverPostgresAvailable, startTestEngine, type TestEngine, type TestTenant } from '../helpers/engine.js';

const hmac = (secret: Buffer, key: string) => crypto.createHmac('sha256', secret).update(key).digest('hex');
const sha = (key: string) => crypto.createHash('sha256').update(key).digest('hex');
const storedRow = async (e: TestEngine, key: string) =>
  (await e.services.pg.pool.query('SELECT key_hash, hash_alg FROM api_keys WHERE prefix = $1', [key.slice(0, 11)])).rows[0] as { key_hash: string; hash_alg: string };
/** The same key with its last secret character changed (same prefix, so the same row is found). */
const tamper = (key: string) => key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');

describe('API key hashing: HMAC-SHA256 under a persisted server secret (embedded Postgres)', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine();
    t = await engine.newTenant();
  });
  afterAll(() => engine?.close());

  it('generates the secret once into the data dir, readable by the owner only, and stores HMAC(secret, key)', async () => {
    const file = path.join(engine.dataDir, 'key-hash-secret');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secret = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
    expect(secret.length).toBe(32);
    const row = await storedRow(engine, t.ingest);
    expect(row).toEqual({ key_hash: hmac(secret, t.ingest), hash_alg: 'hmac-sha256' });
    expect(row.key_hash).not.toBe(sha(t.ingest)); // not the old unkeyed digest
  });

  it('refuses the same prefix with a wrong secret part (constant-time compare of the hash)', async () => {
    expect(await engine.services.tenants.authenticate(t.ingest)).not.toBeNull();
    expect(await engine.services.tenants.authenticate(tamper(t.ingest))).toBeNull();
    expect((await engine.request('POST', '/api/v1/events', { key: tamper(t.ingest), body: [{ event_type: 'x' }] })).status).toBe(401);
  });

  it('rehashes a key stored as plain SHA-256 (before migration 0009) on its first successful use', async () => {
    const { rows } = await engine.services.pg.pool.query('SELECT id FROM api_keys WHERE prefix = $1', [t.read.slice(0, 11)]);
    await engine.services.pg.pool.query(`UPDATE api_keys SET key_hash = $1, hash_alg = 'sha256' WHERE id = $2`, [sha(t.read), rows[0].id]);
    // A fresh store (no cache): the legacy row must be found and compared as SHA-256.
    const fresh = new TenantStore(engine.services.pg.pool, () => loadKeyHashSecret(engine.config, engine.services.pg.pool));
    expect(await fresh.authenticate(tamper(t.read))).toBeNull();
    expect((await storedRow(engine, t.read)).hash_alg).toBe('sha256'); // a wrong key rehashes nothing
    expect((await fresh.authenticate(t.read))?.tenant.id).toBe(t.id);
    const secret = Buffer.from(fs.readFileSync(path.join(engine.dataDir, 'key-hash-secret'), 'utf8').trim(), 'base64url');
    expect(await storedRow(engine, t.read)).toEqual({ key_hash: hmac(secret, t.read), hash_alg: 'hmac-sha256' });
    expect((await new TenantStore(engine.services.pg.pool, () => loadKeyHashSecret(engine.config, engine.services.pg.pool)).authenticate(t.read))?.tenant.id).toBe(t.id);
  });

  it('keeps working across a restart on the same data dir (the secret is reused, not regenerated)', async () => {
    const dataDir = engine.dataDir;
    const before = fs.readFileSync(path.join(dataDir, 'key-hash-secret'), 'utf8');
    await engine.services.close();
    engine = await startTestEngine({ dataDir });
    expect(fs.readFileSync(path.join(dataDir, 'key-hash-secret'), 'utf8')).toBe(before);
    expect((await engine.request('POST', '/api/v1/events', { key: t.ingest, body: [{ event_type: 'restart' }] })).status).toBe(202);
  });
});

describe('KEY_HASH_SECRET from the environment', () => {
  const secret = 'x'.repeat(20) + crypto.randomBytes(16).toString('hex');
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { KEY_HASH_SECRET: secret } });
  });
  afterAll(() => engine?.close());

  it('is the HMAC key, and no secret file is written', async () => {
    const t = await engine.newTenant();
    expect((await storedRow(engine, t.admin)).key_hash).toBe(hmac(Buffer.from(secret, 'utf8'), t.admin));
    expect(fs.existsSync(path.join(engine.dataDir, 'key-hash-secret'))).toBe(false);
  });
});

const pgUp = await serverPostgresAvailable();
describe.skipIf(!pgUp)('server Postgres without KEY_HASH_SECRET', () => {
  let engine: TestEngine;
  afterAll(() => engine?.close());

  it('keeps one generated secret in engine_secrets that every process on the database shares', async () => {
    engine = await startTestEngine({ pg: 'server' });
    const t = await engine.newTenant();
    const { rows } = await engine.services.pg.pool.query(`SELECT name, value FROM engine_secrets`);
    expect(rows).toHaveLength(1);
    expect((await storedRow(engine, t.ingest)).key_hash).toBe(hmac(Buffer.from(rows[0].value, 'base64url'), t.ingest));
    // Another process = another TenantStore loading the secret itself.
    const other = new TenantStore(engine.services.pg.pool, () => loadKeyHashSecret(engine.config, engine.services.pg.pool));
    expect((await other.authenticate(t.ingest))?.tenant.id).toBe(t.id);
  });
});

describe('brute force: failed key attempts are limited per source address', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { AUTH_FAILURES_PER_MINUTE: '5' } });
    t = await engine.newTenant();
  });
  afterAll(() => engine?.close());

  // What @hono/node-server hands the app: the connection, whose peer address is the source.
  const from = (ip: string, key?: string) =>
    engine.app.request('/api/v1/events?limit=1', { headers: key ? { authorization: `Bearer ${key}` } : {} }, { incoming: { socket: { remoteAddress: ip } } });
  const guess = () => `th_${crypto.randomBytes(6).toString('base64url')}_${crypto.randomBytes(32).toString('base64url')}`;

  it('answers 401 up to the budget, then 429 with Retry-After for every key from that source, even a valid one', async () => {
    const statuses = [];
    for (const key of [guess(), guess(), 'not-a-key', tamper(t.read), guess()]) statuses.push((await from('203.0.113.7', key)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const blocked = await from('203.0.113.7', t.read);
    expect(blocked.status).toBe(429);
    const retry = Number(blocked.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect((await from('203.0.113.7', guess())).status).toBe(429);
  });

  it('leaves other sources alone, and does not count requests without a key', async () => {
    expect((await from('198.51.100.9', t.read)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await from('198.51.100.10')).status).toBe(401);
    expect((await from('198.51.100.10', t.read)).status).toBe(200);
  });
});

describe('keys are never logged', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { AUTH_FAILURES_PER_MINUTE: '3' } });
    t = await engine.newTenant();
  });
  afterAll(() => engine?.close());

  it('no log line holds a presented key: failed, blocked, forbidden and failing requests', async () => {
    const written: string[] = [];
    const capture = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void written.push(a.map(String).join(' ')))),
    ];
    const bad = `th_${crypto.randomBytes(6).toString('base64url')}_${crypto.randomBytes(32).toString('base64url')}`;
    try {
      for (let i = 0; i < 5; i++) await engine.request('GET', '/api/v1/keys', { key: bad }); // 401s, then 429s
      await engine.request('GET', '/api/v1/keys', { key: t.read }); // 403 (and 429 from this source by now)
      // An unexpected failure inside an authenticated request is logged (app.onError): with the
      // request id, not the key.
      vi.spyOn(engine.services.ingest, 'ingest').mockRejectedValueOnce(new Error('boom'));
      const other = await engine.app.request(
        '/api/v1/events',
        { method: 'POST', headers: { authorization: `Bearer ${t.ingest}`, 'content-type': 'application/json' }, body: '[{"event_type":"x"}]' },
        { incoming: { socket: { remoteAddress: '192.0.2.1' } } },
      );
      expect(other.status).toBe(500);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(written.join('\n')).toContain('boom'); // the capture saw the log
    for (const key of [bad, t.read, t.ingest]) expect(written.join('\n')).not.toContain(key.slice(12));
  });

  it('only src/api/auth.ts reads the Authorization header in the server code', () => {
    const readers: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
          // Not the serving code: the SDK and the browser app send keys, and the CLI prints the key
          // it creates (`keys create`, the first-start bootstrap) once, to the operator, by design.
          if (!['client', 'web', 'cli'].includes(e.name) || dir !== path.join(repoRoot, 'src')) walk(p);
        } else if (/\.tsx?$/.test(e.name) && /authorization/i.test(fs.readFileSync(p, 'utf8'))) readers.push(path.relative(repoRoot, p));
      }
    };
    walk(path.join(repoRoot, 'src'));
    expect(readers).toEqual(['src/api/auth.ts']);
  });
});
