import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseStore, type ClickHouseStore } from '../../../src/stores/clickhouse/store.js';

/**
 * Server mode's export path against a stand-in for ClickHouse's HTTP interface (no server runs
 * here): what the store sends, that bytes flow as they come, and that aborting ends the request.
 */
describe('ServerStore.stream (HTTP)', () => {
  let fake: http.Server;
  let store: ClickHouseStore;
  const requests: { url: URL; body: string; closed: Promise<void> }[] = [];
  let respond: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => {};

  beforeAll(async () => {
    fake = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const closed = new Promise<void>((r) => res.once('close', () => r()));
        requests.push({ url: new URL(req.url!, 'http://x'), body, closed });
        respond(req, res);
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    store = await createClickHouseStore({
      mode: 'server',
      url: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
      user: 'default',
      password: '',
      database: 'default',
    });
  });
  afterAll(async () => {
    await store?.close();
    fake?.closeAllConnections();
    await new Promise((r) => fake?.close(r));
  });

  it('sends the SQL with its FORMAT, the values as parameters, streaming settings; abort ends the request', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/csv' });
      res.write('"n"\n1\n'); // and then nothing more until the client leaves
    };
    const ac = new AbortController();
    const body = await store.stream('SELECT {x:String} AS n', { x: 'tenant-1' }, 'CSVWithNames', ac.signal);
    const it = body[Symbol.asyncIterator]();
    expect(Buffer.from((await it.next()).value as Buffer).toString()).toBe('"n"\n1\n');
    const req = requests.at(-1)!;
    expect(req.body).toBe('SELECT {x:String} AS n\nFORMAT CSVWithNames');
    expect(req.url.searchParams.get('param_x')).toBe('tenant-1');
    expect(req.url.searchParams.get('wait_end_of_query')).toBe('0');
    expect(req.url.searchParams.get('cancel_http_readonly_queries_on_client_close')).toBe('1');
    ac.abort();
    await req.closed; // the server sees the client go: ClickHouse cancels the query
    await expect(it.next()).rejects.toThrow();
  });

  it('JSONArray: rows split anywhere by the network become one array', async () => {
    respond = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"a":1}\n{"a"');
      setTimeout(() => res.end(':2}\n{"a":"x\\ny"}\n'), 20);
    };
    const body = await store.stream('SELECT 1', {}, 'JSONArray', new AbortController().signal);
    const parts: Buffer[] = [];
    for await (const b of body) parts.push(b as Buffer);
    expect(requests.at(-1)!.body).toBe('SELECT 1\nFORMAT JSONEachRow');
    expect(JSON.parse(Buffer.concat(parts).toString())).toEqual([{ a: 1 }, { a: 2 }, { a: 'x\ny' }]);
  });

  it('input rows go to a temporary table of one HTTP session, read in that session', async () => {
    respond = (_req, res) => {
      res.writeHead(200);
      res.end('PAR1…PAR1');
    };
    const from = requests.length;
    const body = await store.stream('SELECT * FROM export_input', {}, 'Parquet', new AbortController().signal, { structure: 'a String', rows: Buffer.from('{"a":"x"}\n') });
    for await (const _ of body);
    const [create, insert, select] = requests.slice(from);
    expect(create!.body).toBe('CREATE TEMPORARY TABLE export_input (a String) ENGINE = Memory');
    expect(insert!.url.searchParams.get('query')).toBe('INSERT INTO export_input FORMAT JSONEachRow');
    expect(insert!.body).toBe('{"a":"x"}\n');
    expect(select!.body).toBe('SELECT * FROM export_input\nFORMAT Parquet');
    expect(select!.url.searchParams.get('output_format_parquet_row_group_size')).toBe('100000');
    const session = create!.url.searchParams.get('session_id');
    expect(session).toBeTruthy();
    expect([insert!.url.searchParams.get('session_id'), select!.url.searchParams.get('session_id')]).toEqual([session, session]);
  });
});
