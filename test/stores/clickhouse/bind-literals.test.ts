import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BindError, bindLiterals, parseType, quoteString, typeText } from '../../../src/stores/clickhouse/bind-literals.js';

// Parity against the real engine: every value read back through a literal must equal the same
// value bound natively ({name:Type} through chdb/connection), byte for byte and type for type.
let dir: string;
let ch: ClickHouseClient;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-bind-'));
  ch = createClient({ connection: createChdbConnection({ path: dir }) } as Parameters<typeof createClient>[0]);
});
afterAll(async () => {
  await ch.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function rows(sql: string, params?: Record<string, unknown>) {
  const rs = await ch.query({ query: sql, query_params: params, format: 'JSONEachRow' });
  return rs.json();
}

/** The value, its bytes (hex of its text) and its type, through both paths. */
async function both(type: string, value: unknown, nativeValue = value) {
  const sql = `SELECT {v:${type}} AS v, hex(toString(v)) AS h, toTypeName(v) AS t`;
  const native = await rows(sql, { v: nativeValue });
  const literal = await rows(bindLiterals(sql, { v: value }));
  return { native, literal };
}

const RUNS = { numRuns: 150 };

describe('bindLiterals on the real engine', () => {
  it('strings of any characters (quotes, backslashes, control chars, NUL, unicode) come back identical', async () => {
    const tricky = fc.constantFrom("'", '\\', "\\'", "''", '\0', '\n', '\t', '\r', '\x1b', '\x7f', '{v:String}', '--', '/*', '"', '`', '🙂', '\u2028');
    const s = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.array(fc.oneof(tricky, fc.string({ maxLength: 3 })), { maxLength: 12 }).map((a) => a.join('')));
    await fc.assert(
      fc.asyncProperty(s, async (v) => {
        const { native, literal } = await both('String', v);
        expect(literal).toEqual(native);
        // And it is the JS string itself (valid UTF-16 only: a lone surrogate becomes U+FFFD on both paths).
        if (!/\p{Cs}/u.test(v)) expect((literal[0] as { v: string }).v).toBe(v);
      }),
      RUNS,
    );
  });

  it('LowCardinality(String) keeps its type', async () => {
    const { native, literal } = await both('LowCardinality(String)', "it's \\ me");
    expect(literal).toEqual(native);
    expect(literal[0]).toMatchObject({ t: 'LowCardinality(String)' });
  });

  it('SQL injection attempts come back as plain values', async () => {
    for (const v of ["' OR 1=1 --", "\\' OR 1=1 --", "x'); DROP TABLE t; --", "' UNION SELECT 1 --", "\\", "'''", "a\\\\' OR '1'='1"]) {
      const sql = 'SELECT {v:String} AS v, toString(count()) AS n FROM numbers(3) WHERE {v:String} = {v:String}';
      expect(await rows(bindLiterals(sql, { v }))).toEqual([{ v, n: '3' }]);
    }
  });

  it('integers at every width boundary, as numbers, bigints and decimal strings', async () => {
    for (const bits of [8, 16, 32, 64, 128, 256]) {
      for (const signed of [true, false]) {
        const type = `${signed ? '' : 'U'}Int${bits}`;
        const B = BigInt(bits);
        const [min, max] = signed ? [-(1n << (B - 1n)), (1n << (B - 1n)) - 1n] : [0n, (1n << B) - 1n];
        for (const v of [min, max, min + 1n, max - 1n, 0n]) {
          const { native, literal } = await both(type, v.toString());
          expect(literal, `${type} ${v}`).toEqual(native);
          expect(literal[0]).toMatchObject({ t: type });
        }
        expect(() => bindLiterals(`SELECT {v:${type}}`, { v: max + 1n })).toThrow(BindError);
        expect(() => bindLiterals(`SELECT {v:${type}}`, { v: min - 1n })).toThrow(BindError);
      }
    }
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.integer(), async (big, small) => {
        expect((await both('Int64', big)).literal).toEqual((await both('Int64', big)).native);
        const { native, literal } = await both('Int32', small);
        expect(literal).toEqual(native);
      }),
      { numRuns: 60 },
    );
    for (const bad of [1.5, Number.NaN, 2 ** 60, '1e3', ' 1', '+1', '0x10', true, null]) {
      expect(() => bindLiterals('SELECT {v:Int64}', { v: bad }), String(bad)).toThrow(BindError);
    }
  });

  it('Float64 round-trips finite doubles exactly; rejects NaN and infinities', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ noNaN: true, noDefaultInfinity: true }), async (v) => {
        // chdb-node refuses integer-valued doubles past 2^53 as numbers: give it their text.
        const { native, literal } = await both('Float64', v, Object.is(v, -0) ? '-0' : String(v));
        expect(literal).toEqual(native);
        const back = await rows(`SELECT toString(reinterpretAsUInt64(${bindLiterals('{v:Float64}', { v })})) AS bits`);
        const buf = Buffer.alloc(8);
        buf.writeDoubleLE(v);
        expect((back[0] as { bits: string }).bits).toBe(buf.readBigUInt64LE().toString());
      }),
      RUNS,
    );
    for (const v of [Number.NaN, Infinity, -Infinity, '1.5']) expect(() => bindLiterals('SELECT {v:Float64}', { v })).toThrow(BindError);
  });

  it('DateTime64(3[, tz]), DateTime, Date and Bool match the native path', async () => {
    const ms = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2299, 11, 31, 23, 59, 59, 999) });
    await fc.assert(
      fc.asyncProperty(ms, async (t) => {
        const text = new Date(t).toISOString().replace('T', ' ').replace('Z', '');
        for (const type of ["DateTime64(3, 'UTC')", 'DateTime64(3)', "DateTime64(6, 'Asia/Kolkata')"]) {
          const { native, literal } = await both(type, text);
          expect(literal, `${type} ${text}`).toEqual(native);
        }
      }),
      { numRuns: 80 },
    );
    const day = fc.integer({ min: 0, max: 65_535 }).map((d) => new Date(d * 86_400_000).toISOString().slice(0, 10));
    await fc.assert(
      fc.asyncProperty(day, async (d) => {
        const { native, literal } = await both('Date', d);
        expect(literal).toEqual(native);
      }),
      { numRuns: 80 },
    );
    for (const [type, v] of [
      ["DateTime('UTC')", '2024-02-29 23:59:59'],
      ['DateTime', '1970-01-01 00:00:00'],
      ['Bool', true],
      ['Bool', false],
      ["DateTime64(3, 'UTC')", new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))],
    ] as const) {
      const { native, literal } = await both(type, v instanceof Date ? '2024-01-02 03:04:05.678' : v);
      expect(literal, `${type} ${String(v)}`).toEqual(native);
      if (v instanceof Date) expect(await rows(bindLiterals(`SELECT {v:${type}} AS v`, { v }))).toEqual([{ v: '2024-01-02 03:04:05.678' }]);
    }
    for (const [type, v] of [
      ['Date', '2024-02-30'],
      ['Date', '2024-1-02'],
      ['Date', "2024-01-01' OR '1"],
      ['DateTime64(3)', '2024-01-01T00:00:00Z'],
      ['DateTime64(3)', '2024-01-01 00:00:00.1234'],
      ['DateTime64(3)', '2024-01-01 24:00:00'],
      ['DateTime', '2024-01-01'],
      ['Bool', 1],
      ['Bool', 'true'],
    ] as const) {
      expect(() => bindLiterals(`SELECT {v:${type}}`, { v }), `${type} ${v}`).toThrow(BindError);
    }
  });

  it('arrays and nullables of these match the native path (including IN)', async () => {
    const strs = fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(strs, async (v) => {
        const { native, literal } = await both('Array(String)', v);
        expect(literal).toEqual(native);
      }),
      { numRuns: 80 },
    );
    const cases: [string, unknown][] = [
      ['Array(Date)', ['2024-01-01', '2149-06-06']],
      ['Array(Date)', []],
      ['Array(Bool)', [true, false]],
      ['Array(Int64)', [-9223372036854775808n, 5, 7n]],
      ['Array(UInt8)', [0, 255]],
      ['Array(Array(String))', [['a', "b'"], []]],
      ["Array(DateTime64(3, 'UTC'))", ['2024-01-01 00:00:00.001']],
      ['Array(Nullable(String))', ['x', null]],
      ['Nullable(String)', null],
      ['Nullable(Int64)', 42],
      ['Nullable(UInt32)', null],
    ];
    for (const [type, v] of cases) {
      const { native, literal } = await both(type, v);
      expect(literal, type).toEqual(native);
    }
    const inSql = "SELECT toString(count()) AS n FROM (SELECT arrayJoin(['a', 'b', 'c']) AS x) WHERE x IN {ids:Array(String)} AND x NOT IN {no:Array(String)}";
    const p = { ids: ['a', 'c', "d'"], no: ['c'] };
    expect(await rows(bindLiterals(inSql, p))).toEqual(await rows(inSql, p));
    expect(await rows(bindLiterals(inSql, p))).toEqual([{ n: '1' }]);
  });
});

describe('bindLiterals without the engine', () => {
  it('leaves placeholders inside string literals, quoted identifiers and comments alone', () => {
    const sql = "SELECT '{a:String}', \"{a:String}\", `{a:String}` -- {a:String}\n/* {a:String} /* nested */ {a:String} */ # {a:String}\n, {a:String}, 'it''s {a:String}', 'x\\' {a:String}'";
    expect(bindLiterals(sql, { a: 'v' })).toBe(
      "SELECT '{a:String}', \"{a:String}\", `{a:String}` -- {a:String}\n/* {a:String} /* nested */ {a:String} */ # {a:String}\n, 'v', 'it''s {a:String}', 'x\\' {a:String}'",
    );
  });

  it('throws on a missing parameter, an unused parameter and an unknown type', () => {
    expect(() => bindLiterals('SELECT {a:String}', {})).toThrow(/no such parameter/);
    expect(() => bindLiterals('SELECT {a:String}', { a: 'x', b: 1 })).toThrow(/not named in the SQL: b/);
    expect(() => bindLiterals('SELECT 1', { b: 1 })).toThrow(BindError);
    expect(bindLiterals('SELECT {a:String}', { a: 'x', b: 1 }, { allowUnused: true })).toBe("SELECT 'x'");
    for (const t of ['UUID', 'Decimal(38, 9)', 'Map(String, String)', 'Float32', 'LowCardinality(UInt8)', 'Nullable(Array(String))', "DateTime64(3, 'UTC'); DROP", "DateTime('x'')')", 'String)']) {
      expect(() => bindLiterals(`SELECT {a:${t}}`, { a: 'x' }), t).toThrow(BindError);
    }
    expect(() => bindLiterals("SELECT 'unterminated {a:String}", { a: 'x' })).toThrow(BindError);
    expect(() => bindLiterals('SELECT {a:String}', { a: 5 })).toThrow(/expected a string/);
    expect(() => bindLiterals('SELECT {a:String}', { a: undefined })).toThrow(BindError);
  });

  it('renders the type from its parsed form', () => {
    expect(typeText(parseType(" DateTime64( 3 ,  'UTC' ) "))).toBe("DateTime64(3, 'UTC')");
    expect(typeText(parseType('Array(Nullable(UInt256))'))).toBe('Array(Nullable(UInt256))');
    expect(bindLiterals('x = {p:UInt32} AND y = {p:UInt32}', { p: 7 })).toBe("x = CAST('7' AS UInt32) AND y = CAST('7' AS UInt32)");
    expect(quoteString("a'b\\c\0\n")).toBe("'a\\'b\\\\c\\x00\\x0a'");
  });
});
