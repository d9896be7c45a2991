import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateKey, duplicateKeyOf } from '../../src/ingest/json-duplicate-key.js';

/** JSON text of objects that may name keys twice, with whitespace, escapes and nesting. */
const keyArb = fc.oneof(fc.constantFrom('a', 'b', 'cost', 'ts', ':', '":', 'a\\"b', 'é', '\u0061', '__proto__', 'constructor'), fc.string({ maxLength: 4 }));
const leaf = fc.oneof(fc.constantFrom('":x', ':', 'a":"b', '\\', ' : '), fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null));
const ws = fc.constantFrom('', ' ', '\n', '\t ', '\r\n');
const textArb: fc.Arbitrary<string> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf.map((v) => JSON.stringify(v)), tie('object'), tie('array')),
  array: fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
  object: fc
    .array(fc.tuple(keyArb, ws, ws, tie('value')), { maxLength: 5 })
    .map((kvs) => `{${kvs.map(([k, w1, w2, v]) => `${JSON.stringify(k)}${w1}:${w2}${v}`).join(',')}}`),
})).object as fc.Arbitrary<string>;

describe('duplicateKeyOf (fast path) agrees with the full scan', () => {
  it('on generated objects, duplicates and escapes included', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const parsed: unknown = JSON.parse(text);
        expect(duplicateKeyOf(text, parsed)).toEqual(duplicateKey(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('finds the usual cases', () => {
    const t1 = '{"cost": 1, "cost": 900}';
    expect(duplicateKeyOf(t1, JSON.parse(t1))).toEqual({ key: 'cost', offset: 12 });
    const t2 = '{"metadata": {"a": "x\\":", "a": 1}}';
    expect(duplicateKeyOf(t2, JSON.parse(t2))?.key).toBe('a');
    const t3 = '{"a": ":", "b": "\\"c\\":", "c": [{"a": 1}, {"a": 2}]}';
    expect(duplicateKeyOf(t3, JSON.parse(t3))).toBeUndefined();
  });
});
