import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { buildServices, type Services } from '../../src/services.js';
import { migratePostgres } from '../../src/stores/postgres/migrate.js';
import { freePort } from './fault-helpers.js';

// Server-mode ClickHouse that is not there. No ClickHouse server binary exists on this machine
// (chDB is embedded only), so the engine boots without migrating ClickHouse
// (buildServices(config, { migrate: false })) against (a) a closed port and (b) a port that
// accepts and drops every connection; Postgres is embedded and migrated by hand. What this
// proves is the mapping: a store that cannot be reached → 503 STORE_UNAVAILABLE with
// Retry-After, never a 202, never zeros. It does not exercise a server that dies mid-insert.

interface ErrorBody {
  error: { code: string; message: string; details?: { store?: string } };
}

const window = `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;

for (const kind of ['refused', 'hang-up'] as const) {
  describe(`ClickHouse unreachable (${kind === 'refused' ? 'closed port' : 'connection dropped on accept'})`, () => {
    let services: Services;
    let app: ReturnType<typeof createApp>;
    let dataDir: string;
    let dropper: net.Server | undefined;
    let keys: { ingest: string; read: string };

    beforeAll(async () => {
      const port = await freePort();
      if (kind === 'hang-up') {
        dropper = net.createServer((s) => s.destroy());
        await new Promise<void>((r) => dropper!.listen(port, '127.0.0.1', r));
      }
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tallyhouse-chdown-'));
      services = await buildServices(loadConfig({ TALLYHOUSE_DATA_DIR: dataDir, CLICKHOUSE_URL: `http://127.0.0.1:${port}` }), { migrate: false });
      await migratePostgres(services.pg);
      app = createApp(services);
      const t = await services.tenants.createTenant({ name: `chdown-${kind}` });
      keys = {
        ingest: (await services.tenants.createKey({ tenantId: t.id, scopes: ['ingest'] })).key,
        read: (await services.tenants.createKey({ tenantId: t.id, scopes: ['read'] })).key,
      };
    }, 60_000);
    afterAll(async () => {
      await services?.close();
      await new Promise<void>((r) => (dropper ? dropper.close(() => r()) : r()));
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const expect503 = async (r: Response) => {
      const body = (await r.json()) as ErrorBody;
      expect(r.status, JSON.stringify(body)).toBe(503);
      expect(body.error.code).toBe('STORE_UNAVAILABLE');
      expect(body.error.details?.store).toBe('clickhouse');
      expect(r.headers.get('retry-after')).toBe('5');
      expect(body.error.message).not.toMatch(/127\.0\.0\.1|ECONN|hang up/);
    };

    it('ingest answers 503 STORE_UNAVAILABLE with Retry-After, never 202', async () => {
      for (const body of [
        [{ event_type: 'ch.down' }],
        [{ event_id: 'with-id-1', event_type: 'ch.down' }], // dedup check first: also a ClickHouse read
      ]) {
        await expect503(await app.request('/api/v1/events', { method: 'POST', headers: { authorization: `Bearer ${keys.ingest}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }));
      }
    });

    it('a single usage event is journaled (202) and kept; once its insert failed, more are refused with 503', async () => {
      const post = () => app.request('/api/v1/usage/events', { method: 'POST', headers: { authorization: `Bearer ${keys.ingest}`, 'content-type': 'application/json' }, body: JSON.stringify({ event_type: 'ch.down.journaled' }) });
      expect((await post()).status).toBe(202);
      await expect(services.journal!.flush()).rejects.toThrow();
      await expect503(await post());
      // Accepted, not inserted, not lost: still pending and in the journal file for the next start.
      expect(services.journal!.pending).toBe(1);
      const dir = path.join(dataDir, 'ingest-journal');
      const text = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
      expect(text.match(/ch\.down\.journaled/g)).toHaveLength(1);
    });

    it('statistics and event reads answer 503, not zeros or an empty list', async () => {
      for (const url of [`/api/v1/analytics/statistics/usage?${window}`, `/api/v1/analytics/statistics/cost?${window}`, `/api/v1/events?${window}&limit=5`]) {
        await expect503(await app.request(url, { headers: { authorization: `Bearer ${keys.read}` } }));
      }
    });

    it('/readyz answers 503 naming clickhouse', async () => {
      const r = await app.request('/readyz');
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ status: 'unavailable', stores: { clickhouse: { ok: false, required: true, error: 'unreachable' }, postgres: { ok: true } } });
    });
  });
}
