/**
 * The ONE place values become ClickHouse SQL literals (project rule: binding literals for
 * concurrency happens in one audited, typed function, never ad hoc).
 *
 * Why literals at all: chdb-node serialises parameterised queries process-wide (ENGINE-NOTES
 * trap 4), so the embedded store's reader connections only run concurrently with literal SQL.
 * Server mode keeps native `{name:Type}` binding.
 *
 * Rules:
 * - Every `{name:Type}` placeholder outside string literals, quoted identifiers and comments
 *   is replaced; the SQL the codebase writes only ever has placeholders outside quotes, and the
 *   scanner skips quoted text and comments so a `{x:String}` inside one is left as written
 *   (as the engine's own binder does).
 * - The Type is parsed into a closed set (String, LowCardinality(String), (U)Int8…256, Float64,
 *   Bool, Date, DateTime[(tz)], DateTime64(P[, tz]), Array(T), Nullable(T)); anything else throws.
 * - Each JS value is validated against its Type in JS (integer ranges, finite floats, real
 *   calendar dates) and rendered as a quoted string literal of its canonical text, then CAST to
 *   the re-rendered Type: `CAST('42' AS Int64)`. The engine parses that text with the same
 *   per-type text parser the native parameter path uses, and the result has the exact declared
 *   type (a bare `42` would be UInt8, changing result types and overflow behaviour). A plain
 *   String is the bare quoted literal (already of type String).
 * - A placeholder with no parameter throws; so does a parameter the SQL does not name, unless the
 *   caller opts out (the store does: see EmbeddedStore.query).
 */

export type ParamValues = Record<string, unknown>;

type IntBits = 8 | 16 | 32 | 64 | 128 | 256;

export type ParamType =
  | { kind: 'String'; lowCardinality: boolean }
  | { kind: 'Int'; signed: boolean; bits: IntBits }
  | { kind: 'Float64' }
  | { kind: 'Bool' }
  | { kind: 'Date' }
  | { kind: 'DateTime'; tz?: string }
  | { kind: 'DateTime64'; precision: number; tz?: string }
  | { kind: 'Array'; of: ParamType }
  | { kind: 'Nullable'; of: ParamType };

export class BindError extends Error {
  override name = 'BindError';
}

// ---------------------------------------------------------------------------------------------
// String literals

/**
 * A ClickHouse single-quoted string literal. Backslash and quote are escaped (the only two
 * characters that can end the literal); every C0 control character and DEL is written as `\xHH`
 * so the SQL text never carries a raw NUL, newline or tab (the C API takes the query as a
 * C string; a raw NUL would cut it). Everything else, including all of Unicode, is verbatim
 * UTF-8, which the engine reads byte for byte.
 */
export function quoteString(s: string): string {
  return `'${s.replace(ESCAPED, escapeChar)}'`;
}

// eslint-disable-next-line no-control-regex
const ESCAPED = /[\\'\x00-\x1f\x7f]/g;
const escapeChar = (ch: string) => (ch === '\\' ? '\\\\' : ch === "'" ? "\\'" : '\\x' + ch.charCodeAt(0).toString(16).padStart(2, '0'));

// ---------------------------------------------------------------------------------------------
// Types

const TZ = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/** Parses a placeholder's Type text; throws on any type outside the supported set. */
export function parseType(text: string): ParamType {
  const p = new TypeParser(text);
  const t = p.type();
  p.end();
  return t;
}

class TypeParser {
  #i = 0;
  constructor(readonly text: string) {}

  #ws() {
    while (this.#i < this.text.length && /\s/.test(this.text[this.#i]!)) this.#i++;
  }
  #fail(msg: string): never {
    throw new BindError(`unsupported parameter type ${JSON.stringify(this.text)}: ${msg}`);
  }
  #word(): string {
    this.#ws();
    const m = /^[A-Za-z][A-Za-z0-9]*/.exec(this.text.slice(this.#i));
    if (!m) this.#fail('expected a type name');
    this.#i += m[0].length;
    return m[0];
  }
  #eat(ch: string): boolean {
    this.#ws();
    if (this.text[this.#i] === ch) {
      this.#i++;
      return true;
    }
    return false;
  }
  #expect(ch: string) {
    if (!this.#eat(ch)) this.#fail(`expected "${ch}"`);
  }
  #tz(): string {
    this.#ws();
    const m = /^'([^'\\]*)'/.exec(this.text.slice(this.#i));
    if (!m || !TZ.test(m[1]!)) this.#fail('expected a time zone name in quotes');
    this.#i += m[0].length;
    return m[1]!;
  }
  end() {
    this.#ws();
    if (this.#i !== this.text.length) this.#fail('trailing text');
  }
  type(): ParamType {
    const name = this.#word();
    const int = /^(U?)Int(8|16|32|64|128|256)$/.exec(name);
    if (int) return { kind: 'Int', signed: int[1] === '', bits: Number(int[2]) as IntBits };
    switch (name) {
      case 'String':
        return { kind: 'String', lowCardinality: false };
      case 'LowCardinality': {
        this.#expect('(');
        if (this.#word() !== 'String') this.#fail('LowCardinality of String only');
        this.#expect(')');
        return { kind: 'String', lowCardinality: true };
      }
      case 'Float64':
        return { kind: 'Float64' };
      case 'Bool':
        return { kind: 'Bool' };
      case 'Date':
        return { kind: 'Date' };
      case 'DateTime': {
        if (!this.#eat('(')) return { kind: 'DateTime' };
        const tz = this.#tz();
        this.#expect(')');
        return { kind: 'DateTime', tz };
      }
      case 'DateTime64': {
        this.#expect('(');
        this.#ws();
        const m = /^[0-9]/.exec(this.text.slice(this.#i));
        if (!m) this.#fail('expected a precision 0-9');
        this.#i++;
        const precision = Number(m[0]);
        const tz = this.#eat(',') ? this.#tz() : undefined;
        this.#expect(')');
        return tz === undefined ? { kind: 'DateTime64', precision } : { kind: 'DateTime64', precision, tz };
      }
      case 'Array': {
        this.#expect('(');
        const of = this.type();
        this.#expect(')');
        return { kind: 'Array', of };
      }
      case 'Nullable': {
        this.#expect('(');
        const of = this.type();
        this.#expect(')');
        if (of.kind === 'Array' || of.kind === 'Nullable') this.#fail('Nullable of a scalar type only');
        return { kind: 'Nullable', of };
      }
      default:
        return this.#fail(`type ${name}`);
    }
  }
}

/** The type rendered from its parsed form (never the placeholder's text verbatim). */
export function typeText(t: ParamType): string {
  switch (t.kind) {
    case 'String':
      return t.lowCardinality ? 'LowCardinality(String)' : 'String';
    case 'Int':
      return `${t.signed ? '' : 'U'}Int${t.bits}`;
    case 'Float64':
    case 'Bool':
    case 'Date':
      return t.kind;
    case 'DateTime':
      return t.tz === undefined ? 'DateTime' : `DateTime(${quoteString(t.tz)})`;
    case 'DateTime64':
      return t.tz === undefined ? `DateTime64(${t.precision})` : `DateTime64(${t.precision}, ${quoteString(t.tz)})`;
    case 'Array':
    case 'Nullable':
      return `${t.kind}(${typeText(t.of)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Values

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const INT_TEXT = /^-?[0-9]+$/;

function fail(name: string, type: ParamType, why: string): never {
  throw new BindError(`parameter ${name} (${typeText(type)}): ${why}`);
}

function checkCalendar(name: string, type: ParamType, y: number, mo: number, d: number, minYear: number, maxYear: number) {
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) fail(name, type, 'not a calendar date');
  if (y < minYear || y > maxYear) fail(name, type, `year outside ${minYear}-${maxYear}`);
}

/** `YYYY-MM-DD hh:mm:ss[.fff…]` (UTC) for a JS Date, with `digits` fraction digits. */
function dateText(d: Date, digits: number): string {
  if (Number.isNaN(d.getTime())) throw new BindError('invalid Date');
  const iso = d.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return digits === 0 ? base : `${base}.${(iso.slice(20, 23) + '000000').slice(0, digits)}`;
}

/** The canonical text of one non-null scalar value (what goes inside the quotes). */
function scalarText(name: string, type: ParamType, v: unknown): string {
  switch (type.kind) {
    case 'String':
      if (typeof v !== 'string') fail(name, type, `expected a string, got ${typeof v}`);
      return v;
    case 'Int': {
      let n: bigint;
      if (typeof v === 'bigint') n = v;
      else if (typeof v === 'number') {
        if (!Number.isSafeInteger(v)) fail(name, type, `${v} is not a safe integer (pass a bigint or a decimal string)`);
        n = BigInt(v);
      } else if (typeof v === 'string') {
        if (!INT_TEXT.test(v)) fail(name, type, `${JSON.stringify(v)} is not an integer`);
        n = BigInt(v);
      } else fail(name, type, `expected an integer, got ${typeof v}`);
      const bits = BigInt(type.bits);
      const [min, max] = type.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
      if (n < min || n > max) fail(name, type, `${n} is outside ${min}..${max}`);
      return n.toString();
    }
    case 'Float64':
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(name, type, 'expected a finite number');
      // String() is the shortest text that reads back as the same double; keep the sign of -0.
      return Object.is(v, -0) ? '-0' : String(v);
    case 'Bool':
      if (typeof v !== 'boolean') fail(name, type, 'expected a boolean');
      return v ? 'true' : 'false';
    case 'Date': {
      const m = typeof v === 'string' ? DATE.exec(v) : null;
      if (!m) fail(name, type, 'expected YYYY-MM-DD');
      checkCalendar(name, type, Number(m[1]), Number(m[2]), Number(m[3]), 1970, 2149);
      if (m[0] > '2149-06-06') fail(name, type, 'after 2149-06-06');
      return m[0];
    }
    case 'DateTime':
    case 'DateTime64': {
      const digits = type.kind === 'DateTime' ? 0 : type.precision;
      if (v instanceof Date) {
        if (digits < 3 && v.getTime() % (digits === 0 ? 1000 : digits === 1 ? 100 : 10) !== 0) fail(name, type, 'Date has more precision than the type');
        v = dateText(v, digits);
      }
      const m = typeof v === 'string' ? DATETIME.exec(v) : null;
      if (!m) fail(name, type, `expected YYYY-MM-DD hh:mm:ss${digits ? '[.fraction]' : ''}`);
      if ((m[7]?.length ?? 0) > digits) fail(name, type, `more than ${digits} fraction digits`);
      const [hh, mi, ss] = [Number(m[4]), Number(m[5]), Number(m[6])];
      if (hh > 23 || mi > 59 || ss > 59) fail(name, type, 'not a time of day');
      // DateTime: 1970-2106 (UInt32 seconds); DateTime64: 1900-2299.
      const [lo, hi] = type.kind === 'DateTime' ? [1970, 2105] : [1900, 2299];
      checkCalendar(name, type, Number(m[1]), Number(m[2]), Number(m[3]), lo, hi);
      return v as string;
    }
    case 'Array':
    case 'Nullable':
      throw new BindError(`parameter ${name}: ${type.kind} is not a scalar`);
  }
}

/** The literal inside a CAST: a quoted canonical text, `NULL`, or `[…]` of those. */
function innerLiteral(name: string, type: ParamType, v: unknown): string {
  if (type.kind === 'Nullable') return v === null || v === undefined ? 'NULL' : innerLiteral(name, type.of, v);
  if (v === null || v === undefined) fail(name, type, 'no value (only Nullable types take null)');
  if (type.kind === 'Array') {
    if (!Array.isArray(v)) fail(name, type, 'expected an array');
    return `[${v.map((x) => innerLiteral(name, type.of, x)).join(', ')}]`;
  }
  return quoteString(scalarText(name, type, v));
}

/** One value as a SQL expression of exactly `type`. */
export function literal(name: string, type: ParamType, v: unknown): string {
  const inner = innerLiteral(name, type, v);
  if (type.kind === 'String' && !type.lowCardinality) return inner;
  return `CAST(${inner} AS ${typeText(type)})`;
}

// ---------------------------------------------------------------------------------------------
// SQL scanning

const PLACEHOLDER = /^\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/;

/** Index just past a quoted run starting at `i` (quote char at i), honouring `\x` and doubled quotes. */
function skipQuoted(sql: string, i: number): number {
  const q = sql[i];
  for (let j = i + 1; j < sql.length; j++) {
    if (sql[j] === '\\') j++;
    else if (sql[j] === q) {
      if (sql[j + 1] === q) j++;
      else return j + 1;
    }
  }
  throw new BindError('unterminated quoted text in SQL');
}

/**
 * `sql` with every `{name:Type}` placeholder replaced by a literal of its parameter.
 * Throws BindError on an unsupported type, a value that does not fit its type, a placeholder
 * without a parameter, or a parameter the SQL does not use (unless `allowUnused`: an unused
 * value never reaches the SQL, and native binding ignores it too).
 */
export function bindLiterals(sql: string, params: ParamValues = {}, opts: { allowUnused?: boolean } = {}): string {
  const used = new Set<string>();
  let out = '';
  let last = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"' || ch === '`') i = skipQuoted(sql, i);
    else if (ch === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (ch === '#' && (sql[i + 1] === ' ' || sql[i + 1] === '!')) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      // ClickHouse block comments nest.
      let depth = 0;
      let j = i;
      for (; j < sql.length; j++) {
        if (sql[j] === '/' && sql[j + 1] === '*') (depth++, j++);
        else if (sql[j] === '*' && sql[j + 1] === '/') {
          j++;
          if (--depth === 0) break;
        }
      }
      if (depth !== 0) throw new BindError('unterminated comment in SQL');
      i = j + 1;
    } else if (ch === '{') {
      const m = PLACEHOLDER.exec(sql.slice(i, i + 200));
      if (!m) {
        i++;
        continue;
      }
      const [whole, name, typeSrc] = m as unknown as [string, string, string];
      if (!Object.hasOwn(params, name)) throw new BindError(`SQL names {${name}:${typeSrc}} but no such parameter was given`);
      out += sql.slice(last, i) + literal(name, parseType(typeSrc), params[name]);
      used.add(name);
      i += whole.length;
      last = i;
    } else i++;
  }
  const extra = Object.keys(params).filter((k) => !used.has(k));
  if (extra.length && !opts.allowUnused) throw new BindError(`parameters not named in the SQL: ${extra.join(', ')}`);
  return out + sql.slice(last);
}
