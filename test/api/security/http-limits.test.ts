import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../src/server.js';
import { startTestEngine, type TestEngine, type TestTenant } from '../../helpers/engine.js';

/**
 * Hostile input that only a real HTTP server shows: slow-drip requests (the request timeout
 * answers 408) and 100 MB bodies (413 long before 100 MB arrive: nothing buffers them).
 * Requests are written byte by byte on a net.Socket, so the client controls the pace.
 */
const TIMEOUT_MS = 1000;
const MB = 1024 * 1024;

interface Exchange {
  /** First line of the answer, e.g. "HTTP/1.1 408 Request Timeout" ('' when the socket closed silently). */
  statusLine: string;
  status: number;
  /** The whole answer as text (headers and body). */
  text: string;
  /** ms from the first byte sent to the first byte answered. */
  elapsedMs: number;
  /** Body bytes the client had written when the answer came. */
  bodyBytesSent: number;
}

/**
 * Sends `head` (request line + headers), then calls `drip` to write the body until it
 * resolves or the server answers. Resolves with the server's answer once the socket closes
 * or `waitMs` passes.
 */
function exchange(port: number, head: string, drip: (write: (b: Buffer | string) => Promise<boolean>, answered: () => boolean) => Promise<void>, waitMs = 20_000): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let firstByteAt = 0;
    let sent = 0;
    let bodyBytesAtAnswer = -1;
    const started = Date.now();
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('utf8');
      const statusLine = text.split('\r\n')[0] ?? '';
      resolve({ statusLine, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), text, elapsedMs: (firstByteAt || Date.now()) - started, bodyBytesSent: bodyBytesAtAnswer < 0 ? sent : bodyBytesAtAnswer });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d) => {
      if (!firstByteAt) {
        firstByteAt = Date.now();
        bodyBytesAtAnswer = sent;
      }
      chunks.push(d);
    });
    socket.on('close', finish);
    socket.on('error', () => {}); // EPIPE/ECONNRESET once the server hangs up: expected
    socket.on('connect', () => {
      socket.write(head);
      const write = (b: Buffer | string) =>
        new Promise<boolean>((res) => {
          if (socket.destroyed || firstByteAt) return res(false);
          sent += typeof b === 'string' ? Buffer.byteLength(b) : b.length;
          if (socket.write(b)) res(true);
          else socket.once('drain', () => res(true));
        });
      drip(write, () => firstByteAt > 0 || socket.destroyed).catch(reject);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a real HTTP server against slow and huge requests', () => {
  let engine: TestEngine;
  let server: RunningServer;
  let port: number;
  let t: TestTenant;

  beforeAll(async () => {
    engine = await startTestEngine({ env: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS), RATE_LIMIT_PER_MINUTE: '0' } });
    t = await engine.newTenant('http-limits');
    server = await startServer(engine.services, 0, '127.0.0.1');
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    await server?.close();
    await engine?.close();
  });

  const head = (method: string, path: string, headers: Record<string, string>) =>
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';

  async function stillServes() {
    const r = await fetch(`${server.url}/healthz`);
    expect(r.status).toBe(200);
  }

  it('a body dripped one byte every 200 ms gets 408 once REQUEST_TIMEOUT_MS passes, not after minutes', async () => {
    for (const [path, key, ct] of [
      ['/api/v1/events', t.ingest, 'application/json'],
      ['/api/v1/analytics/query', t.read, 'application/json'],
      ['/api/v1/budgets', t.admin, 'application/json'],
    ] as const) {
      const r = await exchange(port, head('POST', path, { authorization: `Bearer ${key}`, 'content-type': ct, 'content-length': '1000' }), async (write) => {
        for (let i = 0; i < 200; i++) {
          if (!(await write(i === 0 ? '[' : ' '))) return;
          await sleep(200);
        }
      });
      expect(r.status, `${path}: ${r.text.slice(0, 200)}`).toBe(408);
      // the timeout plus the server's checking interval; Node's default would be 300 s
      expect(r.elapsedMs, path).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(r.elapsedMs, path).toBeLessThan(TIMEOUT_MS * 4);
    }
    await stillServes();
  });

  it('headers dripped one line at a time get 408 too (slowloris)', async () => {
    const r = await exchange(port, 'GET /healthz HTTP/1.1\r\n', async (write) => {
      for (let i = 0; i < 100; i++) {
        if (!(await write(`X-Slow-${i}: y\r\n`))) return;
        await sleep(200);
      }
    });
    expect(r.status).toBe(408);
    expect(r.elapsedMs).toBeLessThan(TIMEOUT_MS * 4);
    await stillServes();
  });

  const chunk = Buffer.alloc(MB, 0x20); // one reused megabyte of spaces: the client holds 1 MB, not 100

  it('100 MB declared by Content-Length: 413 before the body is read, on ingest and on every other route', async () => {
    for (const [path, key] of [
      ['/api/v1/events', t.ingest],
      ['/api/v1/analytics/query', t.read],
      ['/api/v1/budgets', t.admin],
      ['/api/v1/keys', t.admin],
    ] as const) {
      const r = await exchange(port, head('POST', path, { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': String(100 * MB) }), async (write) => {
        for (let i = 0; i < 100; i++) if (!(await write(chunk))) return;
      });
      expect(r.status, `${path}: ${r.text.slice(0, 300)}`).toBe(413);
      expect(r.text).toContain('PAYLOAD_TOO_LARGE');
      // answered while the client had sent a small part of the 100 MB
      expect(r.bodyBytesSent, path).toBeLessThan(20 * MB);
      expect(r.elapsedMs, path).toBeLessThan(5000);
    }
    await stillServes();
  });

  it('100 MB chunked (no length to trust): 413 once the limit is passed, not after 100 MB', async () => {
    for (const [path, key, limit] of [
      ['/api/v1/events', t.ingest, engine.config.ingest.maxBytes],
      ['/api/v1/analytics/query', t.read, engine.config.http.maxBodyBytes],
      ['/api/v1/webhooks', t.admin, engine.config.http.maxBodyBytes],
    ] as const) {
      const r = await exchange(port, head('POST', path, { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), async (write) => {
        for (let i = 0; i < 100; i++) {
          if (!(await write(`${chunk.length.toString(16)}\r\n`))) return;
          if (!(await write(chunk))) return;
          if (!(await write('\r\n'))) return;
        }
        await write('0\r\n\r\n');
      });
      expect(r.status, `${path}: ${r.text.slice(0, 300)}`).toBe(413);
      expect(r.bodyBytesSent, path).toBeLessThan(limit + 20 * MB);
      expect(r.elapsedMs, path).toBeLessThan(10_000);
    }
    await stillServes();
  });

  it('100 000 levels of nesting over HTTP: a 4xx, and the server lives on', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const [path, key, status] of [
      ['/api/v1/events', t.ingest, 202],
      ['/api/v1/analytics/query', t.read, 400],
      ['/api/v1/budgets', t.admin, 400],
    ] as const) {
      const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: deep });
      const body = await r.text();
      expect(r.status, `${path}: ${body.slice(0, 200)}`).toBe(status);
      if (status === 202) expect(JSON.parse(body)).toMatchObject({ accepted: 0, rejected: [{ index: 0, code: 'INVALID_EVENT' }] });
    }
    await stillServes();
  });
});
