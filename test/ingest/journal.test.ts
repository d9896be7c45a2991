import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../helpers/engine.js';
import { createKeys, freePort, startServe, tempDataDir } from '../client/serve-process.js';

/**
 * The single-event ingest journal (src/ingest/journal.ts): accepted = appended; inserted in
 * groups; a read in the process sees every accepted event; a crash loses nothing and counts
 * nothing twice.
 */
const countType = async (e: TestEngine, tenantId: string, type: string) =>
  Number((await e.services.ch.query<{ n: string }>('SELECT count() AS n FROM events WHERE tenant_id = {t:String} AND event_type = {type:String}', { t: tenantId, type }))[0]!.n);
const segmentsOf = (dataDir: string) => fs.readdirSync(path.join(dataDir, 'ingest-journal')).filter((f) => f.endsWith('.tsv'));

describe('ingest journal', () => {
  // chDB opens one data directory per process: each test closes its engine before the next.
  let open: TestEngine | undefined;
  afterAll(() => open?.close());
  const start = async (opts: Parameters<typeof startTestEngine>[0]) => (open = await startTestEngine(opts));
  const stop = async () => {
    await open?.close();
    open = undefined;
  };

  it('a read right after the 202 sees the event, though the group timer has not fired; concurrent events share inserts', async () => {
    const e = await start({ env: { INGEST_JOURNAL_FLUSH_MS: '60000' } });
    const t = await e.newTenant();
    const r = await e.request('POST', '/api/v1/usage/events', { key: t.ingest, body: { event_type: 'journal.barrier' } });
    expect(r.status).toBe(202);
    expect(e.services.journal!.pending).toBe(1);
    expect(await countType(e, t.id, 'journal.barrier')).toBe(1);
    expect(e.services.journal!.pending).toBe(0);
    expect(segmentsOf(e.dataDir)).toEqual([]);

    const before = e.services.ch.stats.inserts;
    const rs = await Promise.all(Array.from({ length: 300 }, () => e.request('POST', '/api/v1/usage/events', { key: t.ingest, body: { event_type: 'journal.group' } })));
    expect(rs.every((x) => x.status === 202)).toBe(true);
    expect(await countType(e, t.id, 'journal.group')).toBe(300);
    expect(e.services.ch.stats.inserts - before).toBe(1);
    await stop();
  });

  it('past INGEST_JOURNAL_MAX_PENDING the route answers 503 with Retry-After; once inserted it accepts again', async () => {
    const e = await start({ env: { INGEST_JOURNAL_FLUSH_MS: '60000', INGEST_JOURNAL_MAX_PENDING: '3' } });
    const t = await e.newTenant();
    const post = () => e.request('POST', '/api/v1/usage/events', { key: t.ingest, body: { event_type: 'journal.full' } });
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(202);
    const full = await post();
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(((await full.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
    // A read inserts what is pending first: the 3 accepted, not the refused one.
    expect(await countType(e, t.id, 'journal.full')).toBe(3);
    expect((await post()).status).toBe(202);
    expect(await countType(e, t.id, 'journal.full')).toBe(4);
    await stop();
  });

  it('a segment whose insert completed before a crash is not inserted twice; a torn last line is dropped', async () => {
    const dataDir = tempDataDir();
    const env = { INGEST_JOURNAL_FLUSH_MS: '60000' };
    const e1 = await start({ dataDir, env });
    const t = await e1.newTenant();
    for (let i = 0; i < 20; i++) expect((await e1.request('POST', '/api/v1/usage/events', { key: t.ingest, body: { event_type: 'journal.twice' } })).status).toBe(202);
    const [segment] = segmentsOf(dataDir);
    const copy = fs.readFileSync(path.join(dataDir, 'ingest-journal', segment!), 'utf8');
    expect(copy.split('\n')).toHaveLength(21);
    await e1.services.journal!.flush();
    expect(segmentsOf(dataDir)).toEqual([]);
    await stop();
    // As if the process died between the insert and removing its segment, mid-way through an append.
    fs.writeFileSync(path.join(dataDir, 'ingest-journal', segment!), copy + `${t.id}\tpartial-id\t["${t.id}", "partial`);
    const e2 = await start({ dataDir, env });
    expect(await countType(e2, t.id, 'journal.twice')).toBe(20);
    expect(segmentsOf(dataDir)).toEqual([]);
    const ids = await e2.services.ch.query<{ n: string }>("SELECT count() AS n FROM events WHERE event_id = 'partial-id'");
    expect(ids[0]!.n).toBe('0');
    await stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL right after the 202s (group timer a minute away): after the restart every accepted event is stored once', { timeout: 240_000 }, async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    // Nothing is inserted before the kill: the group timer is a minute away and reads are none.
    const s1 = await startServe({ dataDir, port, env: { INGEST_JOURNAL_FLUSH_MS: '60000' } });
    const keys = await createKeys(s1.url, s1.bootstrapKey!);
    const N = 250;
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      const r = await fetch(`${s1.url}/api/v1/usage/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.ingest}`, 'content-type': 'application/json' },
        body: JSON.stringify({ event_type: 'journal.kill', metadata: { i: String(i) } }),
      });
      if (r.status === 202) accepted++;
    }
    expect(accepted).toBe(N);
    expect(segmentsOf(dataDir).length).toBeGreaterThan(0);
    await s1.stop('SIGKILL');

    const s2 = await startServe({ dataDir, port });
    try {
      // The served process's own jobs read (and so insert) whenever they run: how many were
      // recovered rather than inserted before the kill varies; that each arrives once does not.
      const rec = /ingest journal: recovered (\d+) events \((\d+) were already stored/.exec(s2.output());
      if (rec) expect(Number(rec[1]) + Number(rec[2])).toBeLessThanOrEqual(N);
      const q = await fetch(`${s2.url}/api/v1/events?event_type=journal.kill&limit=1000&from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`, {
        headers: { authorization: `Bearer ${keys.read}` },
      });
      expect(q.status).toBe(200);
      const body = (await q.json()) as { events: { metadata: Record<string, string> }[] };
      const seen = body.events.map((ev) => Number(ev.metadata.i)).sort((a, b) => a - b);
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(segmentsOf(dataDir)).toEqual([]);
    } finally {
      await s2.stop('SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
