import type { ChdbQueryStream, Session as ChdbSession } from 'chdb';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { jsonArrayFromRows } from './json-array.js';
import { PARQUET_ROW_GROUP_ROWS } from './parquet.js';
import type { ExportFormat, ExportInput, QueryParams } from './store.js';

type SessionCtor = typeof import('chdb').Session;

/** Where the engine writes Parquet files before they are streamed (inside the data directory). */
export const EXPORT_TMP_DIRNAME = 'export-tmp';

/**
 * Engine-side Parquet writes at a time. Each holds a libuv thread for its whole duration (the
 * default pool has 4, shared with every other chDB call and fs operation); more wait their turn.
 */
const MAX_PARQUET_WRITES = 2;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}/g;

/**
 * Streamed exports of the embedded engine (ENGINE-NOTES traps 1, 2 and 4):
 *
 * - Each export runs on its own chDB Session on the store's data directory, so a long export
 *   neither holds the store's connection (one query at a time) nor waits for it.
 * - Rows come from chDB's own streaming (`queryStream`: one chunk per engine block, fetched when
 *   the consumer reads), never through @clickhouse/client, which buffers whole results here.
 * - Parameters reach the engine as rows of a session-local temporary table, read by scalar
 *   subqueries that the engine folds to constants before planning (the primary key still
 *   applies). chdb-node runs every bound query in one process-wide chain until it completes,
 *   and binds a streamed query outside that chain; values delivered as data keep a long
 *   Parquet write from stalling every other bound query and keep stream starts out of its race.
 *   Values never enter the SQL text.
 * - Parquet through a stream is one complete file per chunk, so the engine writes one file
 *   under the data directory, which is opened, unlinked and then streamed: nothing is left
 *   behind even if the process dies mid-download. A disconnect during the write kills the
 *   query (KILL QUERY from another session: a real cancellation, not an abandoned promise).
 */
export class EmbeddedExports {
  readonly #Session: SessionCtor;
  readonly #dir: string;
  readonly #tmpDir: string;
  readonly #parquetSlots = new Semaphore(MAX_PARQUET_WRITES);
  readonly #open = new Set<Readable>();

  constructor(Session: SessionCtor, dir: string) {
    this.#Session = Session;
    this.#dir = dir;
    this.#tmpDir = path.join(dir, EXPORT_TMP_DIRNAME);
    // Files of a process that died mid-write.
    fs.rmSync(this.#tmpDir, { recursive: true, force: true });
    fs.mkdirSync(this.#tmpDir, { recursive: true });
  }

  async stream(sql: string, params: QueryParams, format: ExportFormat, signal: AbortSignal, input?: ExportInput): Promise<Readable> {
    signal.throwIfAborted();
    const session = new this.#Session(this.#dir);
    let readable: Readable;
    try {
      const marker = `export_params_${randomUUID().replaceAll('-', '')}`;
      const values = { ...params };
      let file: string | undefined;
      if (format === 'Parquet') values.export_file = file = path.join(this.#tmpDir, `${marker}.parquet`);
      await bindParams(session, marker, values);
      if (input) {
        await session.queryAsync(`CREATE TEMPORARY TABLE export_input (${input.structure}) ENGINE = Memory`);
        if (input.rows.length) await session.insert({ table: 'export_input', format: 'JSONEachRow', values: input.rows });
      }
      const bound = (s: string) => substitute(s, marker, values);
      readable =
        format === 'Parquet'
          ? await this.#parquet(session, bound(`INSERT INTO FUNCTION file({export_file:String}, 'Parquet') SETTINGS output_format_parquet_row_group_size = ${PARQUET_ROW_GROUP_ROWS} ${sql}`), marker, file!, signal)
          : await chunks(session, bound(sql), format, signal);
    } catch (e) {
      session.close();
      throw e;
    }
    this.#open.add(readable);
    const onAbort = () => readable.destroy(signal.reason instanceof Error ? signal.reason : new Error('export aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    readable.once('close', () => {
      signal.removeEventListener('abort', onAbort);
      this.#open.delete(readable);
    });
    return readable;
  }

  /** Ends every export still streaming (before the store closes its own connection); readers see a premature close. */
  close() {
    for (const r of this.#open) r.destroy();
  }

  async #parquet(session: ChdbSession, writeSql: string, marker: string, file: string, signal: AbortSignal): Promise<Readable> {
    const release = await this.#parquetSlots.acquire(signal);
    let writing = true;
    // The write may not be listed yet when the client leaves: try again until it is gone.
    const kill = async () => {
      while (writing && !(await this.#kill(marker))) await new Promise((r) => setTimeout(r, 50));
    };
    try {
      signal.throwIfAborted();
      signal.addEventListener('abort', kill, { once: true });
      try {
        await session.queryAsync(writeSql);
      } finally {
        writing = false;
        signal.removeEventListener('abort', kill);
      }
      signal.throwIfAborted();
      const handle = await fs.promises.open(file, 'r');
      return handle.createReadStream();
    } finally {
      release();
      session.close();
      // Unlinked as soon as it is open (or when the write failed): the open handle keeps the bytes.
      fs.rmSync(file, { force: true });
    }
  }

  /** Cancels the Parquet write whose SQL names `marker`, from a session of its own; false if none was running. */
  async #kill(marker: string): Promise<boolean> {
    const s = new this.#Session(this.#dir);
    try {
      // The marker is made here from a UUID ([0-9a-f_] only). The KILL statement names it too:
      // startsWith keeps it from matching itself.
      const r = await s.queryAsync(`KILL QUERY WHERE startsWith(query, 'INSERT INTO FUNCTION file(') AND position(query, '${marker}') > 0 ASYNC`);
      return r.text().trim() !== '';
    } catch (e) {
      console.error(`export: could not cancel the Parquet write ${marker}:`, e);
      return true;
    } finally {
      s.close();
    }
  }
}

/** The parameters as rows (name, value text) of a temporary table only this session sees. */
async function bindParams(session: ChdbSession, table: string, params: QueryParams) {
  await session.queryAsync(`CREATE TEMPORARY TABLE ${table} (name String, value String) ENGINE = Memory`);
  const lines = Object.entries(params).map(([name, value]) => JSON.stringify({ name, value: paramText(name, value) }));
  if (lines.length) await session.insert({ table, format: 'JSONEachRow', values: Buffer.from(lines.join('\n') + '\n') });
}

function paramText(name: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  throw new TypeError(`export parameter ${name}: only strings, finite numbers, bigints and booleans bind here`);
}

/** `{name:Type}` → the value cast from its text, read from the session's parameter table. */
function substitute(sql: string, table: string, params: QueryParams): string {
  return sql.replace(PLACEHOLDER, (_, name: string, type: string) => {
    if (!(name in params)) throw new Error(`export SQL names {${name}:${type}} but no such parameter was given`);
    return `(SELECT CAST(value AS ${type}) FROM ${table} WHERE name = '${name}')`;
  });
}

/** Streams the query's chunks; the first is fetched before returning, so errors surface here. */
async function chunks(session: ChdbSession, sql: string, format: Exclude<ExportFormat, 'Parquet'>, signal: AbortSignal): Promise<Readable> {
  const chdbFormat = format === 'JSONArray' ? 'JSONEachRow' : format;
  const stream = session.queryStream(sql, { format: chdbFormat, signal });
  let source: AsyncGenerator<Buffer> = engineChunks(stream, session, format === 'CSVWithNames');
  if (format === 'JSONArray') source = jsonArrayFromRows(source);
  const first = await source.next();
  return pullReadable(source, first);
}

/**
 * A byte stream that fetches the next chunk only when the consumer wants more (one chunk in
 * hand at a time), and ends the source — cancelling the engine's query — when destroyed.
 */
function pullReadable(source: AsyncGenerator<Buffer>, first: IteratorResult<Buffer>): Readable {
  const readable = new Readable({
    read() {
      source.next().then(
        (r) => {
          if (!readable.destroyed) readable.push(r.done ? null : r.value);
        },
        (e: Error) => readable.destroy(e),
      );
    },
    destroy(err, callback) {
      // Queued behind a fetch in flight, then runs the generators' finally blocks.
      source.return(undefined).then(
        () => callback(err),
        (e: Error) => callback(err ?? e),
      );
    },
  });
  readable.push(first.done ? null : first.value);
  return readable;
}

async function* engineChunks(stream: ChdbQueryStream, session: ChdbSession, csvWithNames: boolean): AsyncGenerator<Buffer> {
  try {
    let first = true;
    for await (const chunk of stream) {
      const raw = chunk.raw();
      let bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      // Every chunk is a complete output of its own, header included: keep the first header.
      if (csvWithNames && !first) bytes = bytes.subarray(bytes.indexOf(0x0a) + 1);
      first = false;
      if (bytes.length) yield bytes;
    }
  } finally {
    stream.cancel();
    session.close();
  }
}

class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }

  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const turn = () => {
          signal.removeEventListener('abort', give);
          resolve();
        };
        const give = () => {
          this.#waiting.splice(this.#waiting.indexOf(turn), 1);
          reject(signal.reason);
        };
        this.#waiting.push(turn);
        signal.addEventListener('abort', give, { once: true });
      });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
