/**
 * A small HTTP proxy in front of the real engine that records each ingest batch and can
 * inject the faults a producer must survive: an answer of its own (429 with Retry-After, 503,
 * 400), a reset connection before or after the engine stored the batch, or a pause (requests
 * held until resume). Everything it does not fault goes to the engine untouched.
 */
import http from 'node:http';
import type net from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'reset-before' }
  /** Forwarded and stored by the engine, then the connection is cut: the answer is lost. */
  | { kind: 'reset-after' };

export interface SeenRequest {
  at: number;
  method: string;
  path: string;
  lines: number;
  bytes: number;
  /** What the proxy answered (0 for a cut connection). */
  status: number;
}

export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  readonly #faults: Fault[] = [];
  #paused: (() => void)[] | null = null;
  #server: http.Server;
  readonly #sockets = new Set<net.Socket>();
  url = '';

  constructor(private readonly backend: string) {
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as net.AddressInfo).port}`;
    return this;
  }

  /** Faults for the next ingest requests, in order. */
  inject(...faults: Fault[]) {
    this.#faults.push(...faults);
  }

  pause() {
    this.#paused ??= [];
  }

  resume() {
    const held = this.#paused ?? [];
    this.#paused = null;
    for (const go of held) go();
  }

  ingests(): SeenRequest[] {
    return this.seen.filter((r) => r.method === 'POST' && r.path === '/api/v1/events');
  }

  async close() {
    this.resume();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '/').split('?')[0]!;
    const isIngest = req.method === 'POST' && path === '/api/v1/events';
    const text = body.toString('utf8');
    const record: SeenRequest = { at: Date.now(), method: req.method ?? '', path, lines: text.split('\n').filter((l) => l.trim()).length, bytes: body.length, status: 0 };
    this.seen.push(record);
    if (this.#paused) await new Promise<void>((r) => this.#paused!.push(r));
    const fault = isIngest ? this.#faults.shift() : undefined;
    if (fault?.kind === 'reset-before') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      record.status = fault.status;
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? JSON.stringify({ error: { code: `INJECTED_${fault.status}`, message: 'injected by the test proxy', requestId: 'proxy' } }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'connection', 'content-length', 'keep-alive', 'transfer-encoding'].includes(k)) headers[k] = v;
    }
    let upstream: Response;
    try {
      upstream = await fetch(this.backend + (req.url ?? '/'), { method: req.method, headers, body: body.length ? body : undefined });
    } catch {
      // The engine is down: the client sees what it would see without the proxy, no answer.
      req.socket.destroy();
      return;
    }
    const answer = Buffer.from(await upstream.arrayBuffer());
    if (fault?.kind === 'reset-after') {
      req.socket.destroy();
      return;
    }
    record.status = upstream.status;
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'content-encoding'].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(answer);
  }
}
