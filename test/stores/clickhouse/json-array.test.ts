import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonArrayFromRows } from '../../../src/stores/clickhouse/json-array.js';

async function collect(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const b of jsonArrayFromRows((async function* () { yield* chunks; })())) out.push(b);
  return Buffer.concat(out).toString('utf8');
}

/** Cuts `bytes` at the given offsets (as an HTTP body may arrive). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

describe('jsonArrayFromRows', () => {
  it('no rows is []', async () => {
    expect(await collect([])).toBe('[]\n');
  });

  it('rows cut anywhere, in chunks of any size (even empty), make one valid array of the same rows', async () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string(), fc.string()));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.dictionary(fc.string(), value), { minLength: 1, maxLength: 30 }), fc.array(fc.nat()), async (rows, at) => {
        // JSON.stringify escapes newlines, as JSONEachRow does: a raw newline only ends a row.
        const ndjson = Buffer.from(rows.map((r) => JSON.stringify(r) + '\n').join(''));
        const text = await collect(cut(ndjson, at));
        expect(JSON.parse(text)).toEqual(rows);
      }),
    );
  });
});
