import type { Context } from 'hono';
import { ApiError } from './errors.js';

/**
 * The request body as text, refusing more than `limit` bytes: by Content-Length up front, and
 * by counting while reading (a chunked body has no length to trust).
 */
export async function readBody(c: Context, limit: number): Promise<string> {
  const tooLarge = () =>
    new ApiError(413, 'PAYLOAD_TOO_LARGE', `request body over ${limit} bytes (INGEST_MAX_BYTES=${limit})`, { limit });
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const stream = c.req.raw.body;
  if (!stream) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client went away or the server's request timeout cut it off: not a server fault.
      throw new ApiError(408, 'REQUEST_TIMEOUT', 'the request body stopped arriving before its end');
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
