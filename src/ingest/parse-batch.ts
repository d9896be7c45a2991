import { jsonErrorOffset } from './json-error-offset.js';

/** Turns a request body (JSON array or NDJSON) into raw event values, or says where it broke. */
export type BatchFormat = 'json' | 'ndjson';

export class BatchParseError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
  }
}

export class BatchTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`a batch holds at most ${limit} events`);
  }
}

export function formatOf(contentType: string | undefined): BatchFormat | null {
  const mime = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/json') return 'json';
  if (mime === 'application/x-ndjson' || mime === 'application/ndjson' || mime === 'application/jsonl' || mime === 'application/jsonlines') return 'ndjson';
  return null;
}

export function parseBatch(body: string, format: BatchFormat, maxEvents: number): unknown[] {
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      const line = lineNumber(body, e);
      throw new BatchParseError(`malformed JSON${line === undefined ? '' : ` at line ${line}`}: ${(e as Error).message}`, line);
    }
    if (!Array.isArray(value)) {
      throw new BatchParseError('expected a JSON array of events (or send application/x-ndjson, one event per line)');
    }
    if (value.length > maxEvents) throw new BatchTooLargeError(maxEvents);
    return value;
  }
  const out: unknown[] = [];
  let start = 0;
  let line = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    line++;
    let text = body.slice(start, end);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() !== '') {
      if (out.length === maxEvents) throw new BatchTooLargeError(maxEvents);
      try {
        out.push(JSON.parse(text));
      } catch (e) {
        throw new BatchParseError(`malformed NDJSON at line ${line}: ${(e as Error).message}`, line);
      }
    }
    start = end + 1;
  }
  return out;
}

// V8 names a position for some JSON errors only; the scanner finds it for the others.
function lineNumber(body: string, e: unknown): number | undefined {
  const m = /position (\d+)/.exec(String((e as Error).message));
  const pos = m ? Number(m[1]) : jsonErrorOffset(body);
  if (pos === undefined) return undefined;
  let line = 1;
  for (let i = 0; i < pos && i < body.length; i++) if (body.charCodeAt(i) === 10) line++;
  return line;
}
