import { duplicateKeyOf } from './json-duplicate-key.js';
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
    refuseDuplicateKeys(body, value, 0);
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
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new BatchParseError(`malformed NDJSON at line ${line}: ${(e as Error).message}`, line);
      }
      refuseDuplicateKeys(text, parsed, line - 1);
      out.push(parsed);
    }
    start = end + 1;
  }
  return out;
}

/** Refuses the batch when an object names a key twice (JSON.parse would keep the last silently). */
function refuseDuplicateKeys(text: string, parsed: unknown, linesBefore: number): void {
  const dup = duplicateKeyOf(text, parsed);
  if (!dup) return;
  let line = linesBefore + 1;
  for (let i = 0; i < dup.offset; i++) if (text.charCodeAt(i) === 10) line++;
  throw new BatchParseError(`duplicate key ${JSON.stringify(dup.key)} at line ${line}: an object must name each field once`, line);
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
