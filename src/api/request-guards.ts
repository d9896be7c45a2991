import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Config } from '../config.js';
import { duplicateKey } from '../ingest/json-duplicate-key.js';
import type { AppEnv } from './env.js';
import { ApiError } from './errors.js';

/**
 * Checks every request meets before any route sees it (hostile input, issue 7):
 * - a body over API_MAX_BODY_BYTES is refused with 413 while it arrives (by Content-Length up
 *   front, by counting otherwise), instead of the JSON validators buffering it whole;
 * - NUL (%00, \u0000) in the path, the query or a JSON body is refused with 400: Postgres text
 *   cannot hold it (the query failed with a 500, and broke the embedded PGlite connection);
 * - a JSON body naming a key twice, or holding an unpaired UTF-16 surrogate, is refused with 400:
 *   JSON.parse would keep the last duplicate silently, and a lone surrogate is no text to store.
 * POST /api/v1/events is left to its own streaming reader (INGEST_MAX_BYTES, per-event checks).
 */
const isIngestBatch = (method: string, path: string) => method === 'POST' && path === '/api/v1/events';

export function requestGuards(config: Config): MiddlewareHandler<AppEnv>[] {
  const limit = bodyLimit({
    maxSize: config.http.maxBodyBytes,
    onError: () => {
      throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `request body over ${config.http.maxBodyBytes} bytes (API_MAX_BODY_BYTES)`, { limit: config.http.maxBodyBytes });
    },
  });
  const sizeGuard: MiddlewareHandler<AppEnv> = (c, next) => (isIngestBatch(c.req.method, c.req.path) ? next() : limit(c, next));

  const textGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
    const url = c.req.url;
    if (/%00/i.test(url.slice(url.indexOf('/', url.indexOf('//') + 2)))) {
      throw new ApiError(400, 'INVALID_REQUEST', 'NUL characters (%00) are not allowed in the path or query');
    }
    if (isIngestBatch(c.req.method, c.req.path) || !c.req.raw.body || !/^application\/([\w.+-]*\+)?json\b/i.test(c.req.header('content-type') ?? '')) return next();
    // cached: the route's validator reads the same text
    const text = await c.req.text().catch(() => {
      throw new ApiError(408, 'REQUEST_TIMEOUT', 'the request body stopped arriving before its end');
    });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return next(); // the route's validator answers malformed JSON
    }
    const dup = duplicateKey(text);
    if (dup) throw new ApiError(400, 'INVALID_REQUEST', `body: duplicate key ${JSON.stringify(dup.key)}: an object must name each field once`, { field: dup.key });
    const bad = badString(value);
    if (bad) throw new ApiError(400, 'INVALID_REQUEST', `body field "${bad.path}": ${bad.reason}`, { field: bad.path });
    return next();
  };
  return [sizeGuard, textGuard];
}

const NUL = /\u0000/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const reasonOf = (s: string) =>
  NUL.test(s) ? 'NUL characters (\\u0000) are not allowed' : LONE_SURROGATE.test(s) ? 'unpaired UTF-16 surrogates are not allowed' : undefined;

interface Node {
  value: unknown;
  key: string;
  parent?: Node;
}

/** The first string (value or key) that cannot be stored as text. Iterative: nesting depth is the client's. */
function badString(root: unknown): { path: string; reason: string } | undefined {
  const stack: Node[] = [{ value: root, key: '' }];
  const pathOf = (n: Node) => {
    const parts: string[] = [];
    for (let at: Node | undefined = n; at && at.parent; at = at.parent) parts.unshift(at.key);
    return parts.length > 8 ? [...parts.slice(0, 4), '…', ...parts.slice(-3)].join('.') : parts.join('.');
  };
  while (stack.length) {
    const n = stack.pop()!;
    const v = n.value;
    if (typeof v === 'string') {
      const reason = reasonOf(v);
      if (reason) return { path: pathOf(n), reason };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: String(i), parent: n });
    } else if (v && typeof v === 'object') {
      const children: Node[] = [];
      for (const [k, x] of Object.entries(v)) {
        const child = { value: x, key: k, parent: n };
        const reason = reasonOf(k);
        if (reason) return { path: pathOf(child), reason: `key ${reason}` };
        children.push(child);
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!); // first field checked first
    }
  }
  return undefined;
}
