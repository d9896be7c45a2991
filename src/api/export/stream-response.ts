import type { Context } from 'hono';
import type { Readable } from 'node:stream';
import type { AppEnv } from '../env.js';
import { FORMATS, type ExportFormatName } from './formats.js';

/**
 * Opens an export's body. When the client has gone already, the failure (e.g. the cancelled
 * query) is the disconnect's doing: null, and nobody is left to answer.
 */
export async function openExport(c: Context<AppEnv>, open: () => Promise<Readable>): Promise<Readable | null> {
  try {
    return await open();
  } catch (e) {
    if (c.req.raw.signal.aborted) return null;
    throw e;
  }
}

/** The response to a client that has disconnected (nginx's 499): never read, never logged as a failure. */
export const clientGone = () => new Response(null, { status: 499 });

/**
 * A download that pulls its bytes from `body` one chunk at a time, as the client reads: the
 * server never holds more than a chunk. A client that goes away cancels the stream, which
 * destroys `body` (and so the query behind it). `onEnd` runs once, however it ended.
 */
export function streamResponse(c: Context<AppEnv>, body: Readable, format: ExportFormatName, basename: string, onEnd: () => void) {
  const { contentType, extension } = FORMATS[format];
  const chunks = body[Symbol.asyncIterator]();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  const web = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) {
            end();
            controller.close();
          } else controller.enqueue(next.value as Uint8Array);
        } catch (e) {
          end();
          // The status line is gone already; a broken transfer is the client's only signal.
          if (!c.req.raw.signal.aborted) console.error(`[${c.get('requestId')}] export ${c.req.path} failed mid-stream:`, e);
          controller.error(e);
        }
      },
      async cancel() {
        end();
        await chunks.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  return c.body(web, 200, {
    'Content-Type': contentType,
    'Content-Disposition': `attachment; filename="${basename}.${extension}"`,
    'Cache-Control': 'no-store',
  });
}
