import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';
import { pgModes } from '../../helpers/pg-modes.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NDJSON = 'application/x-ndjson';

/** An RFC 3339 time `msAgo` before now (negative: in the future). */
const ago = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
/** ClickHouse's DateTime64(3) text for an instant, as stored. */
const chText = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

let seq = 0;
/** Event ids unique to this test run, so tests sharing an engine never see each other's rows. */
const uid = (p = 'e') => `${p}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

interface StoredRow {
  event_id: string;
  tenant_id: string;
  event_type: string;
  ts: string;
  model: string;
  provider: string;
  user_id: string;
  api_key_id: string;
  input_tokens: string;
  output_tokens: string;
  requests: number;
  success: boolean;
  latency_ms: number | null;
  cost_nano: string;
  cost_unpriced: number;
  metadata: Record<string, string>;
}

interface IngestBody {
  accepted: number;
  duplicates: number;
  rejected: { index: number; code: string; message: string; path: string }[];
}

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown>; requestId: string };
}

/** Rows of one tenant with the given event ids, ordered by event_id (every column as JSON). */
async function storedRows(engine: TestEngine, tenantId: string, ids: string[]): Promise<StoredRow[]> {
  return engine.services.ch.query<StoredRow>(
    `SELECT event_id, tenant_id, event_type, toString(ts) AS ts, model, provider, user_id, api_key_id,
            input_tokens, output_tokens, requests, success, latency_ms, toString(cost_nano) AS cost_nano,
            cost_unpriced, metadata
     FROM events WHERE tenant_id = {t:String} AND event_id IN {ids:Array(String)} ORDER BY event_id`,
    { t: tenantId, ids },
  );
}

async function countOf(engine: TestEngine, tenantId: string): Promise<number> {
  const rows = await engine.services.ch.query<{ n: string }>('SELECT count() AS n FROM events WHERE tenant_id = {t:String}', { t: tenantId });
  return Number(rows[0]!.n);
}

function post(engine: TestEngine, key: string | undefined, body: string | object, contentType = 'application/json') {
  return engine.request('POST', '/api/v1/events', { key, body, contentType });
}

async function ingestOk(engine: TestEngine, key: string, body: string | object, contentType?: string): Promise<IngestBody> {
  const r = await post(engine, key, body, contentType);
  const json = (await r.json()) as IngestBody;
  expect(r.status, JSON.stringify(json)).toBe(202);
  return json;
}

async function expectError(r: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await r.json()) as ErrorBody;
  expect(r.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(body.error.requestId).toBeTruthy();
  return body.error;
}

/** The key id behind a secret (the default api_key_id of the events it ingests). */
async function keyId(engine: TestEngine, secret: string): Promise<string> {
  const p = await engine.services.tenants.authenticate(secret);
  if (!p) throw new Error('test key does not authenticate');
  return p.key.id;
}

for (const [mode, skip] of await pgModes()) {
  describe.skipIf(skip)(`POST /api/v1/events (postgres: ${mode})`, () => {
    let engine: TestEngine;
    let a: TestTenant;
    let b: TestTenant;
    beforeAll(async () => {
      engine = await startTestEngine({ pg: mode });
      a = await engine.newTenant();
      b = await engine.newTenant();
    });
    afterAll(() => engine?.close());

    /**
     * Posts `bad` events between two valid ones and checks that the batch is answered 202 with
     * one rejection per bad event, the valid events stored, and nothing of the bad ones stored.
     */
    async function rejectsAmongValid(bad: object[], body?: string): Promise<IngestBody['rejected']> {
      const first = uid('ok');
      const last = uid('ok');
      const ids = bad.map(() => uid('bad'));
      const events = [
        { event_id: first, event_type: 'valid.before' },
        ...bad.map((e, i) => ({ event_id: ids[i], ...e })),
        { event_id: last, event_type: 'valid.after' },
      ];
      const res = await ingestOk(engine, a.ingest, body ?? events);
      expect(res.accepted).toBe(2);
      expect(res.duplicates).toBe(0);
      expect(res.rejected.map((r) => r.index)).toEqual(bad.map((_, i) => i + 1));
      const rows = await storedRows(engine, a.id, [first, last, ...ids]);
      expect(rows.map((r) => r.event_id).sort()).toEqual([first, last].sort());
      return res.rejected;
    }

    async function rejectOne(bad: object): Promise<IngestBody['rejected'][number]> {
      const [r] = await rejectsAmongValid([bad]);
      return r!;
    }

    describe('happy path', () => {
      it('stores a JSON array batch with every field and answers 202 {accepted, duplicates, rejected}', async () => {
        const id1 = uid();
        const id2 = uid();
        const ts1 = Date.now() - 2 * HOUR;
        const res = await ingestOk(engine, a.ingest, [
          {
            event_id: id1,
            ts: new Date(ts1).toISOString(),
            event_type: 'llm.call',
            project: 'p1',
            environment: 'prod',
            user_id: 'u-1',
            agent_id: 'agent-1',
            feature: 'chat',
            model: 'gpt-4o',
            endpoint: '/v1/chat/completions',
            run_id: 'run-1',
            policy_id: 'pol-1',
            source: 'gateway',
            success: false,
            status: '500',
            requests: 3,
            input_tokens: 1000,
            output_tokens: 500,
            compute_units: 7,
            latency_ms: 12.6,
            metadata: { region: 'eu', 'trace.id': 'abc' },
          },
          { event_id: id2, event_type: 'api.call' },
        ]);
        expect(res).toEqual({ accepted: 2, duplicates: 0, rejected: [] });

        const rows = await storedRows(engine, a.id, [id1, id2]);
        expect(rows).toHaveLength(2);
        const full = rows.find((r) => r.event_id === id1)!;
        expect(full).toMatchObject({
          tenant_id: a.id,
          event_type: 'llm.call',
          ts: chText(ts1),
          model: 'gpt-4o',
          provider: 'openai', // filled from the price table when the producer names none
          user_id: 'u-1',
          input_tokens: '1000',
          output_tokens: '500',
          requests: 3,
          success: false,
          latency_ms: 13,
          // gpt-4o: $2.50 in / $10 out per 1M tokens → 0.0025 + 0.005 = $0.0075
          cost_nano: '7500000',
          cost_unpriced: 0,
          metadata: { region: 'eu', 'trace.id': 'abc' },
        });
        const bare = rows.find((r) => r.event_id === id2)!;
        expect(bare).toMatchObject({ event_type: 'api.call', requests: 1, success: true, latency_ms: null, cost_nano: '0', cost_unpriced: 0, metadata: {} });
      });

      it('stores an NDJSON batch (CRLF line ends, blank lines, charset parameter)', async () => {
        const ids = [uid(), uid(), uid()];
        const body = ids.map((id, i) => JSON.stringify({ event_id: id, event_type: 'nd.call', input_tokens: i })).join('\r\n\r\n') + '\r\n\n';
        const res = await ingestOk(engine, a.ingest, body, `${NDJSON}; charset=utf-8`);
        expect(res).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
        const rows = await storedRows(engine, a.id, ids);
        expect(ids.map((id) => rows.find((r) => r.event_id === id)?.input_tokens)).toEqual(['0', '1', '2']);
      });

      it('accepts application/json with a charset and a byte-order mark', async () => {
        const id = uid();
        const res = await ingestOk(engine, a.ingest, '\ufeff' + JSON.stringify([{ event_id: id, event_type: 'bom' }]), 'application/json; charset=UTF-8');
        expect(res.accepted).toBe(1);
        expect(await storedRows(engine, a.id, [id])).toHaveLength(1);
      });

      it('stores ts given with an offset or as epoch milliseconds in UTC', async () => {
        const base = Math.floor((Date.now() - 3 * DAY) / 1000) * 1000 + 250;
        const withOffset = new Date(base + 2 * HOUR).toISOString().replace('Z', '+02:00');
        const idOffset = uid();
        const idEpoch = uid();
        const idNow = uid();
        const before = Date.now();
        await ingestOk(engine, a.ingest, [
          { event_id: idOffset, event_type: 'ts', ts: withOffset },
          { event_id: idEpoch, event_type: 'ts', ts: base + 1 },
          { event_id: idNow, event_type: 'ts' },
        ]);
        const rows = await storedRows(engine, a.id, [idOffset, idEpoch, idNow]);
        const tsOf = (id: string) => rows.find((r) => r.event_id === id)!.ts;
        expect(tsOf(idOffset)).toBe(chText(base));
        expect(tsOf(idEpoch)).toBe(chText(base + 1));
        // No ts: the arrival time.
        const nowTs = Date.parse(tsOf(idNow).replace(' ', 'T') + 'Z');
        expect(nowTs).toBeGreaterThanOrEqual(before - 1000);
        expect(nowTs).toBeLessThanOrEqual(Date.now());
      });

      it('accepts ts up to 7 days ahead and back to the 400-day retention', async () => {
        const ids = [uid(), uid()];
        const res = await ingestOk(engine, a.ingest, [
          { event_id: ids[0], event_type: 'edge', ts: ago(-6 * DAY) },
          { event_id: ids[1], event_type: 'edge', ts: ago(399 * DAY) },
        ]);
        expect(res).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
        expect(await storedRows(engine, a.id, ids)).toHaveLength(2);
      });

      it("defaults api_key_id to the ingesting key's id and keeps an explicit one", async () => {
        const [own, named] = [uid(), uid()];
        await ingestOk(engine, a.ingest, [
          { event_id: own, event_type: 'k' },
          { event_id: named, event_type: 'k', api_key_id: 'customer-key-7' },
        ]);
        const rows = await storedRows(engine, a.id, [own, named]);
        expect(rows.find((r) => r.event_id === own)!.api_key_id).toBe(await keyId(engine, a.ingest));
        expect(rows.find((r) => r.event_id === named)!.api_key_id).toBe('customer-key-7');
      });

      it('accepts an admin key (admin implies ingest)', async () => {
        const id = uid();
        expect((await ingestOk(engine, a.admin, [{ event_id: id, event_type: 'admin.ingest' }])).accepted).toBe(1);
        expect((await storedRows(engine, a.id, [id]))[0]!.api_key_id).toBe(await keyId(engine, a.admin));
      });
    });

    describe('idempotency', () => {
      it('counts a re-sent event once and stores nothing twice', async () => {
        const ids = [uid(), uid()];
        const body = ndjson(ids.map((id) => ({ event_id: id, event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1000, output_tokens: 500 })));
        expect(await ingestOk(engine, a.ingest, body, NDJSON)).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
        expect(await ingestOk(engine, a.ingest, body, NDJSON)).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
        // As a JSON array too: the format does not matter, the id does.
        expect(await ingestOk(engine, a.ingest, [{ event_id: ids[0], event_type: 'llm.call' }])).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
        const rows = await engine.services.ch.query<{ n: string; cost: string }>(
          'SELECT count() AS n, toString(sum(cost_nano)) AS cost FROM events WHERE tenant_id = {t:String} AND event_id IN {ids:Array(String)}',
          { t: a.id, ids },
        );
        expect(rows[0]).toEqual({ n: '2', cost: '15000000' });
      });

      it('counts the same id twice in one batch once (the first one wins)', async () => {
        const id = uid();
        const other = uid();
        const res = await ingestOk(engine, a.ingest, [
          { event_id: id, event_type: 'first' },
          { event_id: other, event_type: 'other' },
          { event_id: id, event_type: 'second' },
        ]);
        expect(res).toEqual({ accepted: 2, duplicates: 1, rejected: [] });
        const rows = await storedRows(engine, a.id, [id]);
        expect(rows.map((r) => r.event_type)).toEqual(['first']);
      });

      it('stores the new events of a partly re-sent batch', async () => {
        const old = uid();
        await ingestOk(engine, a.ingest, [{ event_id: old, event_type: 'x' }]);
        const fresh = uid();
        expect(await ingestOk(engine, a.ingest, [{ event_id: old, event_type: 'x' }, { event_id: fresh, event_type: 'x' }])).toEqual({
          accepted: 1,
          duplicates: 1,
          rejected: [],
        });
        expect(await storedRows(engine, a.id, [old, fresh])).toHaveLength(2);
      });

      it('gives events without event_id distinct server-made ids', async () => {
        const type = uid('anon');
        const res = await ingestOk(engine, a.ingest, [{ event_type: type }, { event_type: type }]);
        expect(res).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
        const rows = await engine.services.ch.query<{ event_id: string }>(
          'SELECT event_id FROM events WHERE tenant_id = {t:String} AND event_type = {type:String}',
          { t: a.id, type },
        );
        expect(rows).toHaveLength(2);
        expect(rows[0]!.event_id).not.toBe(rows[1]!.event_id);
        for (const r of rows) expect(r.event_id).toMatch(/^[0-9a-f-]{36}$/);
      });

      it("dedups per tenant: another tenant's event_id is not a duplicate", async () => {
        const id = uid('shared');
        expect((await ingestOk(engine, a.ingest, [{ event_id: id, event_type: 'x' }])).accepted).toBe(1);
        expect(await ingestOk(engine, b.ingest, [{ event_id: id, event_type: 'x' }])).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
        expect(await storedRows(engine, a.id, [id])).toHaveLength(1);
        expect(await storedRows(engine, b.id, [id])).toHaveLength(1);
      });
    });

    describe('cost', () => {
      it('prices tokens from the model price table (exact and glob patterns)', async () => {
        const [exact, glob, dated] = [uid(), uid(), uid()];
        await ingestOk(engine, a.ingest, [
          // gpt-4o: 2.50 / 10.00 per 1M → 2.5 + 10 = $12.50 for 1M in + 1M out
          { event_id: exact, event_type: 'llm.call', model: 'gpt-4o', input_tokens: 1_000_000, output_tokens: 1_000_000 },
          // gpt-4o-mini*: 0.15 / 0.60 per 1M → 0.00015 + 0.0006 = $0.00075
          { event_id: glob, event_type: 'llm.call', model: 'gpt-4o-mini-2024-07-18', input_tokens: 1000, output_tokens: 1000 },
          // claude-sonnet-4*: 3 / 15 per 1M → 3 tokens in + 1 out = 9e-6 + 15e-6 = $0.000024
          { event_id: dated, event_type: 'llm.call', model: 'claude-sonnet-4-20250514', input_tokens: 3, output_tokens: 1, provider: 'bedrock' },
        ]);
        const rows = await storedRows(engine, a.id, [exact, glob, dated]);
        const by = (id: string) => rows.find((r) => r.event_id === id)!;
        expect(by(exact)).toMatchObject({ cost_nano: '12500000000', cost_unpriced: 0, provider: 'openai' });
        expect(by(glob)).toMatchObject({ cost_nano: '750000', cost_unpriced: 0, provider: 'openai' });
        // A provider the producer names is kept.
        expect(by(dated)).toMatchObject({ cost_nano: '24000', cost_unpriced: 0, provider: 'bedrock' });
      });

      it('uses the price in effect at the event time (a price change inside retention)', async () => {
        // A negotiated price for tenant a only, changed 10 days ago: $1/$1 before, $3/$3 since.
        const change = new Date(Date.now() - 10 * DAY);
        await engine.services.pg.pool.query(
          `INSERT INTO model_prices (tenant_id, model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok, effective_from, effective_to)
           VALUES ($1, 'acme-llm', 'acme', 1, 1, '2020-01-01T00:00:00Z', $2), ($1, 'acme-llm', 'acme', 3, 3, $2, NULL)`,
          [a.id, change],
        );
        await engine.services.prices.refresh();
        const [before, at, after, otherTenant] = [uid(), uid(), uid(), uid()];
        await ingestOk(engine, a.ingest, [
          { event_id: before, event_type: 'llm.call', model: 'acme-llm', ts: new Date(change.getTime() - 1).toISOString(), input_tokens: 1_000_000 },
          { event_id: at, event_type: 'llm.call', model: 'acme-llm', ts: change.toISOString(), input_tokens: 1_000_000 },
          { event_id: after, event_type: 'llm.call', model: 'acme-llm', ts: ago(HOUR), output_tokens: 2_000_000 },
        ]);
        const rows = await storedRows(engine, a.id, [before, at, after]);
        const by = (id: string) => rows.find((r) => r.event_id === id)!;
        expect(by(before).cost_nano).toBe('1000000000');
        expect(by(at).cost_nano).toBe('3000000000'); // effective_from is inclusive
        expect(by(after).cost_nano).toBe('6000000000');
        expect(by(after).provider).toBe('acme');
        // Tenant b has no such price: unpriced, not priced at tenant a's rate.
        await ingestOk(engine, b.ingest, [{ event_id: otherTenant, event_type: 'llm.call', model: 'acme-llm', input_tokens: 10 }]);
        expect((await storedRows(engine, b.id, [otherTenant]))[0]).toMatchObject({ cost_nano: '0', cost_unpriced: 1 });
      });

      it('keeps a cost the producer sent, exactly', async () => {
        const ids = [uid('c1'), uid('c2'), uid('c3'), uid('c4'), uid('c5'), uid('c6')];
        await ingestOk(engine, a.ingest, [
          { event_id: ids[0], event_type: 'c', cost: '0.123456789', model: 'gpt-4o', input_tokens: 1_000_000 },
          { event_id: ids[1], event_type: 'c', cost: 0.1 },
          { event_id: ids[2], event_type: 'c', cost: '0', model: 'gpt-4o', input_tokens: 5 },
          { event_id: ids[3], event_type: 'c', cost: '1000000000' },
          { event_id: ids[4], event_type: 'c', cost: '0.0000000015' }, // 10th decimal rounds half up
          { event_id: ids[5], event_type: 'c', cost: 1e-7 }, // String(1e-7) is "1e-7"
        ]);
        const rows = await storedRows(engine, a.id, ids);
        const cost = (id: string) => rows.find((r) => r.event_id === id)!;
        expect(cost(ids[0]!)).toMatchObject({ cost_nano: '123456789', cost_unpriced: 0 });
        expect(cost(ids[1]!)).toMatchObject({ cost_nano: '100000000', cost_unpriced: 0 });
        expect(cost(ids[2]!)).toMatchObject({ cost_nano: '0', cost_unpriced: 0 });
        expect(cost(ids[3]!)).toMatchObject({ cost_nano: '1000000000000000000', cost_unpriced: 0 });
        expect(cost(ids[4]!)).toMatchObject({ cost_nano: '2' });
        expect(cost(ids[5]!)).toMatchObject({ cost_nano: '100' });
      });

      it('stores an unknown model with tokens at cost 0 and cost_unpriced=1', async () => {
        const [unknown, noTokens, noModel] = [uid(), uid(), uid()];
        await ingestOk(engine, a.ingest, [
          { event_id: unknown, event_type: 'llm.call', model: 'mystery-model-9', input_tokens: 100, output_tokens: 1 },
          { event_id: noTokens, event_type: 'llm.call', model: 'mystery-model-9' },
          { event_id: noModel, event_type: 'llm.call', output_tokens: 3 },
        ]);
        const rows = await storedRows(engine, a.id, [unknown, noTokens, noModel]);
        const by = (id: string) => rows.find((r) => r.event_id === id)!;
        expect(by(unknown)).toMatchObject({ cost_nano: '0', cost_unpriced: 1, provider: '' });
        expect(by(noTokens)).toMatchObject({ cost_nano: '0', cost_unpriced: 0 });
        expect(by(noModel)).toMatchObject({ cost_nano: '0', cost_unpriced: 1 });
      });

      it('rejects a cost that is negative, not a plain decimal, or over 1e9 USD (cost_nano would overflow)', async () => {
        const rejected = await rejectsAmongValid([
          { event_type: 'c', cost: -0.01 },
          { event_type: 'c', cost: '-1' },
          { event_type: 'c', cost: '1e5' },
          { event_type: 'c', cost: '9999999999' },
          { event_type: 'c', cost: '1000000000.000000001' },
          { event_type: 'c', cost: 2e9 },
          { event_type: 'c', cost: true },
        ]);
        for (const r of rejected) {
          expect(r.path).toBe('cost');
          expect(r.message).toContain('cost');
        }
        expect(rejected.map((r) => r.code)).toEqual(['INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE', 'INVALID_VALUE', 'INVALID_TYPE']);
        expect(rejected[0]!.message).toContain('negative');
        expect(rejected[3]!.message).toContain('1e9');
        expect(rejected[6]!.message).toContain('received boolean');
      });
    });

    describe('bad events are rejected one by one, the rest stored', () => {
      it('answers 202 with the valid events stored and each invalid one listed', async () => {
        const rejected = await rejectsAmongValid([{ event_type: 'x', input_tokens: -5 }, { model: 'gpt-4o' }]);
        expect(rejected).toEqual([
          { index: 1, code: 'INVALID_VALUE', message: 'input_tokens: must not be negative', path: 'input_tokens' },
          { index: 2, code: 'MISSING_FIELD', message: 'event_type is required', path: 'event_type' },
        ]);
      });

      it('rejects wrong types, naming the field (not as missing)', async () => {
        const rejected = await rejectsAmongValid([
          { event_type: 42 },
          { event_type: 'x', input_tokens: '100' },
          { event_type: 'x', success: 'yes' },
          { event_type: 'x', model: null },
          { event_type: 'x', metadata: { n: 1 } },
          { event_type: 'x', metadata: ['a'] },
          { event_type: 'x', latency_ms: '5' },
        ]);
        expect(rejected.map((r) => [r.code, r.path])).toEqual([
          ['INVALID_TYPE', 'event_type'],
          ['INVALID_TYPE', 'input_tokens'],
          ['INVALID_TYPE', 'success'],
          ['INVALID_TYPE', 'model'],
          ['INVALID_TYPE', 'metadata.n'],
          ['INVALID_TYPE', 'metadata'],
          ['INVALID_TYPE', 'latency_ms'],
        ]);
        expect(rejected[0]!.message).toBe('event_type: Invalid input: expected string, received number');
        expect(rejected[1]!.message).toContain('expected number, received string');
        expect(rejected[3]!.message).toContain('received null');
      });

      it('rejects an event that is not an object', async () => {
        const first = uid('ok');
        const res = await ingestOk(engine, a.ingest, `[{"event_id":"${first}","event_type":"ok"}, 1, null, [], "llm.call"]`);
        expect(res.accepted).toBe(1);
        expect(res.rejected).toEqual([1, 2, 3, 4].map((index) => ({ index, code: 'INVALID_EVENT', message: 'an event must be a JSON object', path: '' })));
      });

      it('rejects a missing or empty event_type', async () => {
        const rejected = await rejectsAmongValid([{ model: 'gpt-4o', input_tokens: 5 }, { event_type: '' }]);
        expect(rejected[0]).toMatchObject({ code: 'MISSING_FIELD', path: 'event_type', message: 'event_type is required' });
        expect(rejected[1]).toMatchObject({ code: 'INVALID_VALUE', path: 'event_type' });
        expect(rejected[1]!.message).toContain('empty');
      });

      it('rejects unknown fields (a misspelt field must not vanish silently)', async () => {
        const rejected = await rejectsAmongValid([
          { event_type: 'x', input_token: 5 },
          { event_type: 'x', foo: 1, bar: 2 },
          { event_type: 'x', tenantId: 'someone' },
        ]);
        expect(rejected[0]).toMatchObject({ code: 'UNKNOWN_FIELD', path: 'input_token', message: 'unknown field "input_token"' });
        expect(rejected[1]).toMatchObject({ code: 'UNKNOWN_FIELD', path: 'foo', message: 'unknown fields "foo", "bar"' });
        expect(rejected[2]).toMatchObject({ code: 'UNKNOWN_FIELD', path: 'tenantId' });
      });

      it('rejects a top-level "__proto__" field', async () => {
        const ok = uid('ok');
        const res = await ingestOk(engine, a.ingest, `[{"event_id":"${ok}","event_type":"ok"},{"event_type":"x","__proto__":{"event_type":"y"}}]`);
        expect(res.accepted).toBe(1);
        expect(res.rejected).toEqual([{ index: 1, code: 'UNKNOWN_FIELD', message: 'unknown field "__proto__"', path: '__proto__' }]);
      });

      it('rejects huge metadata: over 16 KiB in total, over 64 keys, over-long keys and values', async () => {
        const big = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`k${i}`, 'v'.repeat(4000)]));
        const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
        const sixtyFour = uid('ok64');
        const rejected = await rejectsAmongValid([
          { event_type: 'x', metadata: big },
          { event_type: 'x', metadata: many },
          { event_type: 'x', metadata: { k: 'v'.repeat(4097) } },
          { event_type: 'x', metadata: { ['k'.repeat(129)]: 'v' } },
          { event_type: 'x', metadata: { '': 'v' } },
        ]);
        expect(rejected[0]).toMatchObject({ code: 'METADATA_TOO_LARGE', path: 'metadata' });
        expect(rejected[0]!.message).toContain('16384');
        expect(rejected[1]).toMatchObject({ code: 'INVALID_VALUE', path: 'metadata' });
        expect(rejected[1]!.message).toContain('64');
        expect(rejected[2]).toMatchObject({ code: 'INVALID_VALUE', path: 'metadata.k' });
        expect(rejected[2]!.message).toContain('4096');
        expect(rejected[3]!.path.startsWith('metadata')).toBe(true);
        expect(rejected[4]!.path.startsWith('metadata')).toBe(true);
        // Exactly at the limits is fine.
        const limit = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v'.repeat(250)]));
        expect((await ingestOk(engine, a.ingest, [{ event_id: sixtyFour, event_type: 'x', metadata: limit }])).accepted).toBe(1);
        expect(Object.keys((await storedRows(engine, a.id, [sixtyFour]))[0]!.metadata)).toHaveLength(64);
      });

      it('rejects a "__proto__" metadata key instead of dropping it', async () => {
        const ok = uid('ok');
        const res = await ingestOk(engine, a.ingest, `[{"event_id":"${ok}","event_type":"ok"},{"event_type":"x","metadata":{"__proto__":"v","a":"b"}}]`);
        expect(res.accepted).toBe(1);
        expect(res.rejected).toHaveLength(1);
        expect(res.rejected[0]!.path.startsWith('metadata')).toBe(true);
        expect(res.rejected[0]!.message).toContain('__proto__');
      });

      it('rejects NaN-ish, infinite, negative, fractional and absurd token counts', async () => {
        const first = uid('ok');
        const last = uid('ok');
        // Raw text: 1e400 parses to Infinity, which JSON.stringify could not express.
        const body = `[{"event_id":"${first}","event_type":"ok"},
          {"event_type":"x","input_tokens":"NaN"},
          {"event_type":"x","input_tokens":1e400},
          {"event_type":"x","output_tokens":-1},
          {"event_type":"x","output_tokens":1.5},
          {"event_type":"x","input_tokens":1e13},
          {"event_type":"x","compute_units":"12"},
          {"event_type":"x","requests":0.5},
          {"event_type":"x","latency_ms":-3},
          {"event_id":"${last}","event_type":"ok"}]`;
        const res = await ingestOk(engine, a.ingest, body);
        expect(res.accepted).toBe(2);
        expect(res.rejected.map((r) => [r.index, r.code, r.path])).toEqual([
          [1, 'INVALID_TYPE', 'input_tokens'],
          [2, 'INVALID_TYPE', 'input_tokens'],
          [3, 'INVALID_VALUE', 'output_tokens'],
          [4, 'INVALID_TYPE', 'output_tokens'],
          [5, 'INVALID_VALUE', 'input_tokens'],
          [6, 'INVALID_TYPE', 'compute_units'],
          [7, 'INVALID_TYPE', 'requests'],
          [8, 'INVALID_VALUE', 'latency_ms'],
        ]);
        expect(res.rejected[1]!.message).toContain('Infinity');
        expect(res.rejected[2]!.message).toBe('output_tokens: must not be negative');
        expect(res.rejected[3]!.message).toBe('output_tokens: must be a whole number');
        for (const r of res.rejected) expect(r.message).not.toContain('required');
      });

      it('rejects bad timestamps: no time zone, impossible dates, garbage, fractional epoch, wrong type', async () => {
        const rejected = await rejectsAmongValid([
          { event_type: 'x', ts: ago(HOUR).replace('Z', '') },
          { event_type: 'x', ts: '2026-02-30T10:00:00Z' },
          { event_type: 'x', ts: 'yesterday' },
          { event_type: 'x', ts: '' },
          { event_type: 'x', ts: Date.now() - HOUR + 0.5 },
          { event_type: 'x', ts: -1 },
          { event_type: 'x', ts: true },
        ]);
        for (const r of rejected) {
          expect(r.path).toBe('ts');
          expect(r.message).toMatch(/^ts/);
          expect(r.message).not.toContain('Invalid input');
        }
        expect(rejected[0]!.message).toContain('time zone');
        expect(rejected[1]!.message).toContain('RFC 3339');
        expect(rejected[4]!.message).toContain('whole number');
        expect(rejected[6]).toMatchObject({ code: 'INVALID_TYPE' });
        expect(rejected[6]!.message).toContain('received boolean');
      });

      it('rejects ts more than 7 days in the future', async () => {
        const r = await rejectOne({ event_type: 'x', ts: ago(-8 * DAY) });
        expect(r).toMatchObject({ code: 'TIMESTAMP_IN_FUTURE', path: 'ts' });
        expect(r.message).toContain('7 days');
        const e = await rejectOne({ event_type: 'x', ts: Date.now() + 30 * DAY });
        expect(e.code).toBe('TIMESTAMP_IN_FUTURE');
      });

      it('rejects ts older than the 400-day retention', async () => {
        const r = await rejectOne({ event_type: 'x', ts: ago(401 * DAY) });
        expect(r).toMatchObject({ code: 'TIMESTAMP_BEYOND_RETENTION', path: 'ts' });
        expect(r.message).toContain('400-day');
        expect((await rejectOne({ event_type: 'x', ts: 0 })).code).toBe('TIMESTAMP_BEYOND_RETENTION');
      });

      it('rejects control characters in dimensions and metadata', async () => {
        const rejected = await rejectsAmongValid([
          { event_type: 'llm\ncall' },
          { event_type: 'x', model: 'gpt\u0000-4o' },
          { event_type: 'x', user_id: 'u\u007f' },
          { event_type: 'x', endpoint: '/v1\r\n/chat' },
          { event_type: 'x', metadata: { a: 'tab\there' } },
          { event_type: 'x', metadata: { 'a\u001b[31m': 'v' } },
          { event_type: 'x', event_id: 'id\n2' },
        ]);
        expect(rejected.map((r) => r.path.split('.')[0])).toEqual(['event_type', 'model', 'user_id', 'endpoint', 'metadata', 'metadata', 'event_id']);
        for (const r of rejected) {
          expect(r.code).toBe('INVALID_VALUE');
          expect(r.message).toContain('control characters');
        }
      });

      it('rejects over-long dimensions and an empty event_id', async () => {
        const rejected = await rejectsAmongValid([
          { event_type: 'x'.repeat(129) },
          { event_type: 'x', user_id: 'u'.repeat(257) },
          { event_type: 'x', event_id: '' },
          { event_type: 'x', event_id: 'i'.repeat(201) },
        ]);
        expect(rejected.map((r) => r.path)).toEqual(['event_type', 'user_id', 'event_id', 'event_id']);
        expect(rejected[0]!.message).toContain('128');
      });
    });

    describe('tenant isolation', () => {
      it('rejects tenant_id in the body and stores the batch under the key tenant only', async () => {
        const ok = uid('ok');
        const spoof = uid('spoof');
        const bBefore = await countOf(engine, b.id);
        const res = await ingestOk(engine, a.ingest, [
          { event_id: ok, event_type: 'x' },
          { event_id: spoof, event_type: 'x', tenant_id: b.id },
          { event_id: uid(), event_type: 'x', tenant_id: a.id }, // even its own id is refused
        ]);
        expect(res.accepted).toBe(1);
        expect(res.rejected).toEqual([
          { index: 1, code: 'TENANT_ID_NOT_ALLOWED', message: 'tenant_id is taken from the API key and must not be sent', path: 'tenant_id' },
          { index: 2, code: 'TENANT_ID_NOT_ALLOWED', message: 'tenant_id is taken from the API key and must not be sent', path: 'tenant_id' },
        ]);
        expect((await storedRows(engine, a.id, [ok, spoof])).map((r) => r.event_id)).toEqual([ok]);
        expect(await storedRows(engine, b.id, [ok, spoof])).toEqual([]);
        expect(await countOf(engine, b.id)).toBe(bBefore);
        const anywhere = await engine.services.ch.query<{ tenant_id: string }>('SELECT tenant_id FROM events WHERE event_id = {id:String}', { id: ok });
        expect(anywhere).toEqual([{ tenant_id: a.id }]);
      });

      it("one tenant's key never writes into another tenant", async () => {
        const id = uid();
        await ingestOk(engine, b.ingest, [{ event_id: id, event_type: 'b.only' }]);
        expect(await storedRows(engine, a.id, [id])).toEqual([]);
        expect(await storedRows(engine, b.id, [id])).toHaveLength(1);
      });
    });

    describe('malformed bodies', () => {
      it('answers 400 MALFORMED_BODY for malformed JSON, naming the line', async () => {
        const id = uid();
        const body = `[\n{"event_id":"${id}","event_type":"a"},\n{"event_type":}\n]`;
        const err = await expectError(await post(engine, a.ingest, body), 400, 'MALFORMED_BODY');
        expect(err.message).toContain('line 3');
        expect(err.details).toEqual({ line: 3 });
        expect(await storedRows(engine, a.id, [id])).toEqual([]);
      });

      it('names the line of an unterminated JSON array', async () => {
        const err = await expectError(await post(engine, a.ingest, '[\n{"event_type":"a"},\n{"event_type":"b"}'), 400, 'MALFORMED_BODY');
        expect(err.details).toEqual({ line: 3 });
        expect(err.message).toContain('line 3');
      });

      it('answers 400 MALFORMED_BODY for JSON that is not an array, or no JSON at all', async () => {
        const single = await expectError(await post(engine, a.ingest, { event_type: 'x' }), 400, 'MALFORMED_BODY');
        expect(single.message).toContain('array');
        await expectError(await post(engine, a.ingest, ''), 400, 'MALFORMED_BODY');
        await expectError(await post(engine, a.ingest, 'null'), 400, 'MALFORMED_BODY');
      });

      it('answers 400 MALFORMED_BODY for malformed NDJSON with the line number, storing nothing of the batch', async () => {
        const ids = [uid(), uid()];
        const body = `${JSON.stringify({ event_id: ids[0], event_type: 'a' })}\n\n${JSON.stringify({ event_id: ids[1], event_type: 'b' })}\n{"event_type":"c","input_tokens":NaN}\n`;
        const err = await expectError(await post(engine, a.ingest, body, NDJSON), 400, 'MALFORMED_BODY');
        expect(err.message).toContain('line 4');
        expect(err.details).toEqual({ line: 4 });
        expect(await storedRows(engine, a.id, ids)).toEqual([]);
      });

      it('names the line of a truncated last NDJSON line', async () => {
        const err = await expectError(await post(engine, a.ingest, '{"event_type":"a"}\r\n{"event_type":"b"}\r\n{"event_type":', NDJSON), 400, 'MALFORMED_BODY');
        expect(err.details).toEqual({ line: 3 });
      });

      it('answers 400 EMPTY_BATCH for an empty array or an NDJSON body without events', async () => {
        await expectError(await post(engine, a.ingest, []), 400, 'EMPTY_BATCH');
        await expectError(await post(engine, a.ingest, '', NDJSON), 400, 'EMPTY_BATCH');
        await expectError(await post(engine, a.ingest, '\n  \r\n\n', NDJSON), 400, 'EMPTY_BATCH');
      });

      it('answers 415 for a content type that is neither JSON nor NDJSON', async () => {
        for (const ct of ['text/plain', 'application/xml', 'application/jsonx', 'multipart/form-data; boundary=x']) {
          const err = await expectError(await post(engine, a.ingest, '[{"event_type":"x"}]', ct), 415, 'UNSUPPORTED_MEDIA_TYPE');
          expect(err.message).toContain('application/x-ndjson');
        }
        const none = await engine.app.request('/api/v1/events', { method: 'POST', headers: { authorization: `Bearer ${a.ingest}` }, body: new Uint8Array([0x5b, 0x5d]) });
        await expectError(none, 415, 'UNSUPPORTED_MEDIA_TYPE');
      });
    });

    describe('authentication and scopes', () => {
      const batch = [{ event_type: 'auth.test' }];

      it('answers 401 UNAUTHORIZED without a key', async () => {
        const r = await post(engine, undefined, batch);
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
        const err = await expectError(r, 401, 'UNAUTHORIZED');
        expect(err.message).toContain('Authorization');
      });

      it('answers 401 for a malformed or unknown key, or another auth scheme', async () => {
        const malformed = ['th_abc', 'not-a-key', `${a.ingest}x`, a.ingest.slice(0, -1)];
        for (const key of malformed) await expectError(await post(engine, key, batch), 401, 'UNAUTHORIZED');
        // Well-formed but never issued.
        await expectError(await post(engine, `th_AAAAAAAA_${'A'.repeat(43)}`, batch), 401, 'UNAUTHORIZED');
        const basic = await engine.request('POST', '/api/v1/events', { body: batch, headers: { authorization: `Basic ${a.ingest}` } });
        await expectError(basic, 401, 'UNAUTHORIZED');
        const twoTokens = await engine.request('POST', '/api/v1/events', { body: batch, headers: { authorization: `Bearer ${a.ingest} ${a.ingest}` } });
        await expectError(twoTokens, 401, 'UNAUTHORIZED');
      });

      it('answers 401 for a revoked key, right after the revoke', async () => {
        const { key, info } = await engine.services.tenants.createKey({ tenantId: a.id, scopes: ['ingest'] });
        expect((await ingestOk(engine, key, [{ event_id: uid(), event_type: 'before.revoke' }])).accepted).toBe(1);
        await engine.services.tenants.revokeKey(info.id, a.id);
        const id = uid();
        const err = await expectError(await post(engine, key, [{ event_id: id, event_type: 'after.revoke' }]), 401, 'UNAUTHORIZED');
        expect(err.message).toContain('revoked');
        expect(await storedRows(engine, a.id, [id])).toEqual([]);
      });

      it('answers 403 FORBIDDEN for a key without the ingest scope', async () => {
        const id = uid();
        const err = await expectError(await post(engine, a.read, [{ event_id: id, event_type: 'read.key' }]), 403, 'FORBIDDEN');
        expect(err.message).toContain('ingest');
        expect(err.details).toEqual({ required: 'ingest', granted: ['read'] });
        expect(await storedRows(engine, a.id, [id])).toEqual([]);
      });

      it('checks the key before looking at the body', async () => {
        await expectError(await post(engine, undefined, '{not json'), 401, 'UNAUTHORIZED');
        await expectError(await post(engine, a.read, '{not json', 'text/plain'), 403, 'FORBIDDEN');
      });
    });
  });
}

describe('POST /api/v1/events with configured limits and a 10-year retention', () => {
  let engine: TestEngine;
  let t: TestTenant;
  beforeAll(async () => {
    engine = await startTestEngine({
      env: { INGEST_MAX_EVENTS: '5', INGEST_MAX_BYTES: '2048', INGEST_MAX_FUTURE_DAYS: '1', RETENTION_DAYS: '3650' },
    });
    t = await engine.newTenant();
  });
  afterAll(() => engine?.close());

  const events = (n: number) => Array.from({ length: n }, () => ({ event_id: uid(), event_type: 'lim' }));

  it('accepts a batch of exactly INGEST_MAX_EVENTS events', async () => {
    expect((await ingestOk(engine, t.ingest, events(5))).accepted).toBe(5);
    expect((await ingestOk(engine, t.ingest, ndjson(events(5)), NDJSON)).accepted).toBe(5);
  });

  it('answers 413 with the limit in the message for one event too many, storing nothing', async () => {
    const before = await countOf(engine, t.id);
    for (const [body, ct] of [
      [events(6), 'application/json'],
      [ndjson(events(6)), NDJSON],
    ] as const) {
      const err = await expectError(await post(engine, t.ingest, body, ct), 413, 'PAYLOAD_TOO_LARGE');
      expect(err.message).toContain('5 events');
      expect(err.message).toContain('INGEST_MAX_EVENTS=5');
      expect(err.details).toEqual({ limit: 5 });
    }
    expect(await countOf(engine, t.id)).toBe(before);
  });

  it('answers 413 over INGEST_MAX_BYTES, counting bytes not characters', async () => {
    const before = await countOf(engine, t.id);
    const exact = JSON.stringify([{ event_id: uid(), event_type: 'bytes' }]);
    const atLimit = exact + ' '.repeat(2048 - Buffer.byteLength(exact));
    expect(Buffer.byteLength(atLimit)).toBe(2048);
    expect((await ingestOk(engine, t.ingest, atLimit)).accepted).toBe(1);

    const err = await expectError(await post(engine, t.ingest, atLimit + ' '), 413, 'PAYLOAD_TOO_LARGE');
    expect(err.message).toContain('2048 bytes');
    expect(err.details).toEqual({ limit: 2048 });
    // 1,100 characters, 2,200 bytes.
    const wide = JSON.stringify([{ event_type: 'x', metadata: { k: 'é'.repeat(1100) } }]);
    expect(wide.length).toBeLessThan(2048);
    await expectError(await post(engine, t.ingest, wide), 413, 'PAYLOAD_TOO_LARGE');
    expect(await countOf(engine, t.id)).toBe(before + 1);
  });

  it('answers 413 from a declared Content-Length before reading the body', async () => {
    const r = await engine.app.request('/api/v1/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.ingest}`, 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) },
      body: '[{"event_type":"x"}]',
    });
    await expectError(r, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('applies INGEST_MAX_FUTURE_DAYS', async () => {
    const ok = uid();
    const res = await ingestOk(engine, t.ingest, [
      { event_id: ok, event_type: 'future', ts: ago(-12 * HOUR) },
      { event_id: uid(), event_type: 'future', ts: ago(-2 * DAY) },
    ]);
    expect(res.accepted).toBe(1);
    expect(res.rejected).toEqual([{ index: 1, code: 'TIMESTAMP_IN_FUTURE', message: 'ts is more than 1 days in the future', path: 'ts' }]);
  });

  it('prices o3 at the list price in effect at the event time (changed 2025-06-10)', async () => {
    const [old, boundary, current] = [uid('o3'), uid('o3'), uid('o3')];
    const res = await ingestOk(engine, t.ingest, [
      { event_id: old, event_type: 'llm.call', model: 'o3', ts: '2025-06-09T23:59:59.999Z', input_tokens: 1000, output_tokens: 1000 },
      { event_id: boundary, event_type: 'llm.call', model: 'o3', ts: '2025-06-10T00:00:00Z', input_tokens: 1000, output_tokens: 1000 },
      { event_id: current, event_type: 'llm.call', model: 'o3', ts: ago(DAY), input_tokens: 1000, output_tokens: 1000 },
    ]);
    expect(res).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
    const rows = await storedRows(engine, t.id, [old, boundary, current]);
    const cost = (id: string) => rows.find((r) => r.event_id === id)!.cost_nano;
    expect(cost(old)).toBe('50000000'); // $10 / $40 per 1M → 0.01 + 0.04
    expect(cost(boundary)).toBe('10000000'); // $2 / $8 per 1M → 0.002 + 0.008
    expect(cost(current)).toBe('10000000');
  });
});
