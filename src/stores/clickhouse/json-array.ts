const NEWLINE = 0x0a;
const OPEN = Buffer.from('[\n');
const SEPARATOR = Buffer.from(',\n');
const CLOSE_AFTER_ROWS = Buffer.from('\n]\n');
const EMPTY = Buffer.from('[]\n');

/**
 * JSONEachRow bytes → one JSON array, as a stream: `[`, the rows joined by `,`, `]`.
 *
 * JSONEachRow escapes newlines inside values, so a raw newline byte only ever ends a row; the
 * chunks may split rows anywhere (HTTP) or end on row boundaries (chDB). A newline that ends a
 * chunk is held back until more bytes show it was not the last row's.
 */
export async function* jsonArrayFromRows(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let started = false;
  let heldNewline = false;
  for await (const raw of source) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (chunk.length === 0) continue;
    const parts: Buffer[] = [];
    if (!started) {
      parts.push(OPEN);
      started = true;
    } else if (heldNewline) parts.push(SEPARATOR);
    heldNewline = chunk[chunk.length - 1] === NEWLINE;
    const body = heldNewline ? chunk.subarray(0, chunk.length - 1) : chunk;
    let from = 0;
    for (let nl = body.indexOf(NEWLINE); nl !== -1; nl = body.indexOf(NEWLINE, from)) {
      parts.push(body.subarray(from, nl), SEPARATOR);
      from = nl + 1;
    }
    parts.push(body.subarray(from));
    yield Buffer.concat(parts);
  }
  yield started ? CLOSE_AFTER_ROWS : EMPTY;
}
