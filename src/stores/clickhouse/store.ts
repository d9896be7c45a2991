import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Config } from '../../config.js';
import { Mutex } from '../../util/mutex.js';
import { BindError, bindLiterals, quoteString } from './bind-literals.js';
import { EmbeddedExports } from './embedded-export.js';
import { jsonArrayFromRows } from './json-array.js';
import { PARQUET_ROW_GROUP_ROWS } from './parquet.js';
import { guarded } from '../unavailable.js';

export type QueryParams = Record<string, unknown>;

/** Formats a result streams in. JSONArray is JSONEachRow's rows as one JSON array. */
export type ExportFormat = 'CSVWithNames' | 'JSONEachRow' | 'JSONArray' | 'Parquet';

/**
 * Rows computed by the application for the engine to encode (e.g. as Parquet): the streamed
 * SQL reads them as the temporary table `export_input`.
 */
export interface ExportInput {
  /** Column list, e.g. `time DateTime64(3, 'UTC'), cost Nullable(Decimal(38, 9))`. */
  structure: string;
  /** The rows as JSONEachRow. */
  rows: Buffer;
}

/**
 * ClickHouse behind one interface for both modes: embedded chDB (in-process, via
 * chdb/connection) and a ClickHouse server over HTTP. Everything above this file is the same
 * code in both modes.
 */
export interface ClickHouseStore {
  readonly mode: 'embedded' | 'server';
  readonly cluster?: string;
  /** Rows of a SELECT as JSON objects. Values bind server-side as `{name:Type}`. */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** A statement without a result (DDL, ALTER, INSERT … SELECT). */
  command(sql: string, params?: QueryParams): Promise<void>;
  /**
   * Insert rows given as JSONCompactEachRow bytes (one JSON array per line, values in
   * `columns` order) as they are: the engine parses them. Compact rows carry no key names, so
   * they are smaller to write and faster for the engine to read than JSONEachRow.
   */
  insertRows(table: string, columns: readonly string[], body: Buffer): Promise<void>;
  /**
   * A SELECT's result as a byte stream in `format`, read from the engine as the consumer reads
   * (memory stays flat whatever the row count). Errors before the first bytes reject; aborting
   * `signal` (or destroying the stream) cancels the query. Values bind as `{name:Type}`.
   */
  stream(sql: string, params: QueryParams, format: ExportFormat, signal: AbortSignal, input?: ExportInput): Promise<Readable>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** Counts statements sent to the engine, so tests can prove a cache answered instead. */
  readonly stats: { queries: number; inserts: number };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkIdents(table: string, columns: readonly string[]) {
  for (const name of [table, ...columns]) if (!IDENT.test(name)) throw new Error(`bad identifier ${name}`);
}

export async function createClickHouseStore(config: Config['clickhouse']): Promise<ClickHouseStore> {
  if (config.mode === 'server') return new ServerStore(config);
  // Loaded only in embedded mode: server mode must not need libchdb (another platform, a slim image).
  const { createChdbConnection } = await import('chdb/connection');
  const { Session } = await import('chdb');
  return new EmbeddedStore(createChdbConnection, Session, config.path, config.connections ?? 4, config.queryThreads ?? 0);
}

type ChdbConnectionFactory = typeof import('chdb/connection').createChdbConnection;

abstract class BaseStore implements ClickHouseStore {
  abstract readonly mode: 'embedded' | 'server';
  readonly stats = { queries: 0, inserts: 0 };
  constructor(
    protected readonly client: ClickHouseClient,
    readonly cluster?: string,
  ) {}

  protected abstract serial<T>(fn: () => Promise<T>): Promise<T>;

  async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    this.stats.queries++;
    return guarded(
      'clickhouse',
      this.serial(async () => {
        const rs = await this.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
        return (await rs.json()) as T[];
      }),
    );
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    this.stats.queries++;
    await guarded('clickhouse', this.serial(() => this.client.command({ query: sql, query_params: params })));
  }

  abstract insertRows(table: string, columns: readonly string[], body: Buffer): Promise<void>;
  abstract stream(sql: string, params: QueryParams, format: ExportFormat, signal: AbortSignal, input?: ExportInput): Promise<Readable>;

  async ping(): Promise<boolean> {
    try {
      const r = await this.serial(() => this.client.ping());
      return r.success;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.serial(() => this.client.close());
  }
}

/**
 * Reads whose literal SQL would be longer than this bind natively instead: the ingest dedup
 * lookup carries a whole batch's event ids, and the engine parses a 10,000-id array literal 2-3×
 * slower than the same array as a parameter (and the default max_query_size is 256 KiB).
 * Dashboard reads are a few KiB and stay literal (concurrent).
 */
const MAX_LITERAL_SQL = 64 * 1024;

/**
 * Inserts at least this large go through a file the engine reads with file(): the engine parses
 * inline bytes (chDB's raw insert) at about half the rate it reads the same rows from a file
 * (ENGINE-NOTES; bench/ingest.ts measured 20-28k rows/s inline against 68-92k via file() with
 * every view). Below it, writing and removing a file costs more than it saves.
 */
const FILE_INSERT_MIN_BYTES = 256 * 1024;

/** One chDB connection of the embedded pool, with its own lock (one query at a time each). */
interface Lane {
  readonly connection: ReturnType<ChdbConnectionFactory>;
  readonly client: ClickHouseClient;
  readonly lock: Mutex;
  /** Statements running or queued on this lane; reads go to the least busy lane. */
  busy: number;
  ready: Promise<unknown> | null;
}

/**
 * Embedded chDB as a small pool of connections on the same data dir (ENGINE-NOTES trap 7:
 * sessions in one process share a path and see each other's completed writes).
 * - Lane 0 is the primary: inserts, commands (DDL, INSERT … SELECT, ALTER) and pings run there,
 *   one at a time, with native parameters, exactly as before the pool.
 * - Reads (`query`) go to the least busy lane, literal-bound through bindLiterals: chdb-node
 *   serialises parameterised queries process-wide (trap 4), literal SQL on separate
 *   connections runs in parallel. bindLiterals validates every read's values even when a large
 *   one binds natively (MAX_LITERAL_SQL).
 * A read that starts after a write's promise resolved sees that write, whatever its lane: the
 * engine commits the part before the insert returns, and every lane reads the same tables. So
 * the ingest path (per-tenant lock: read event_ids, then insert) stays consistent.
 */
class EmbeddedStore extends BaseStore {
  readonly mode = 'embedded' as const;
  readonly #lanes: Lane[];
  readonly #exports: EmbeddedExports;
  /** Where insert files are written: inside the data dir (same disk, no tmpfs size limit). */
  readonly #spool: string;
  #spooled = 0;
  readonly #structures = new Map<string, Promise<Map<string, string>>>();
  #next = 0;

  readonly #queryThreads: number;

  constructor(createChdbConnection: ChdbConnectionFactory, Session: typeof import('chdb').Session, dir: string, connections: number, queryThreads: number) {
    fs.mkdirSync(dir, { recursive: true });
    const lanes: Lane[] = [];
    for (let i = 0; i < Math.max(1, connections); i++) {
      const connection = createChdbConnection({ path: dir });
      const client = createClient({ connection } as Parameters<typeof createClient>[0]);
      lanes.push({ connection, client, lock: new Mutex(), busy: 0, ready: null });
    }
    super(lanes[0]!.client);
    this.#lanes = lanes;
    this.#exports = new EmbeddedExports(Session, dir);
    this.#queryThreads = queryThreads;
    this.#spool = path.join(dir, 'insert-spool');
    // Files left by a crash mid-insert: the insert did not return, so nothing was accepted from them.
    fs.rmSync(this.#spool, { recursive: true, force: true });
    fs.mkdirSync(this.#spool, { recursive: true });
  }

  /** `fn` on `lane`, after the lane's session defaults, holding its lock. */
  #onLane<T>(lane: Lane, fn: () => Promise<T>): Promise<T> {
    // Session defaults, set once per connection: chDB keeps SET for the connection's life
    // (ENGINE-NOTES trap 3), which here is what we want. 64-bit integers as JSON strings, as a
    // ClickHouse server does by default, so both modes return the same shapes.
    // max_threads: CLICKHOUSE_EMBEDDED_QUERY_THREADS (statements of a request run side by side).
    lane.ready ??= lane.lock.run(async () => {
      await lane.client.command({ query: 'SET output_format_json_quote_64bit_integers = 1' });
      if (this.#queryThreads > 0) await lane.client.command({ query: `SET max_threads = ${Math.trunc(this.#queryThreads)}` });
    });
    lane.busy++;
    const ready = lane.ready;
    return lane.lock
      .run(async () => {
        await ready;
        return fn();
      })
      .finally(() => lane.busy--);
  }

  protected serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.#onLane(this.#lanes[0]!, fn);
  }

  /** The least busy lane; ties go round-robin so idle lanes share the work. */
  #pick(): Lane {
    const n = this.#lanes.length;
    const start = this.#next++ % n;
    let best = this.#lanes[start]!;
    for (let k = 1; k < n && best.busy > 0; k++) {
      const lane = this.#lanes[(start + k) % n]!;
      if (lane.busy < best.busy) best = lane;
    }
    return best;
  }

  override async query<T>(sql: string, params?: QueryParams): Promise<T[]> {
    this.stats.queries++;
    // Unused parameters are allowed, as with native binding (here and in ServerStore): callers share
    // one params object across related statements (jobs/reconciliation, control/detection/spikes).
    let text: string | undefined;
    try {
      text = bindLiterals(sql, params ?? {}, { allowUnused: true });
    } catch (e) {
      // A value the literal rules refuse (a window reaching year 9999 past Date's range, say) goes
      // to the engine natively, as before the pool: the engine's own parser answers for it, and
      // the API keeps answering such windows the same way (test/api/security/hostile-input).
      if (!(e instanceof BindError)) throw e;
    }
    // Large bulk lookups: native parameters too (serialised process-wide, parsed faster).
    const literal = text !== undefined && text.length <= MAX_LITERAL_SQL ? text : undefined;
    const lane = this.#pick();
    return guarded(
      'clickhouse',
      this.#onLane(lane, async () => {
        const rs = await lane.client.query(literal === undefined ? { query: sql, query_params: params, format: 'JSONEachRow' } : { query: literal, format: 'JSONEachRow' });
        return (await rs.json()) as T[];
      }),
    );
  }

  async insertRows(table: string, columns: readonly string[], body: Buffer): Promise<void> {
    checkIdents(table, columns);
    this.stats.inserts++;
    const primary = this.#lanes[0]!;
    if (body.length < FILE_INSERT_MIN_BYTES) {
      // chDB's raw insert hands the bytes to the engine's parser without a JS object tree.
      await this.serial(() => primary.connection.chdb.rawInsert({ table, columns, format: 'JSONCompactEachRow', values: body }));
      return;
    }
    const types = await this.#columnTypes(table);
    const structure = columns
      .map((c) => {
        const type = types.get(c);
        if (!type) throw new Error(`${table} has no column ${c}`);
        return `${c} ${type}`;
      })
      .join(', ');
    // Our own file name and the table's own column types: the only values in this statement.
    const file = path.join(this.#spool, `${table}-${++this.#spooled}.jsonl`);
    await fs.promises.writeFile(file, body);
    try {
      await this.serial(() =>
        primary.client.command({
          // Every core for the file's parsing, whatever the session's read threads.
          query: `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM file(${quoteString(file)}, 'JSONCompactEachRow', ${quoteString(structure)}) SETTINGS max_threads = 0`,
        }),
      );
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }

  /** name → type of a table's columns, read once (the DDL is fixed while the store is open). */
  #columnTypes(table: string): Promise<Map<string, string>> {
    let p = this.#structures.get(table);
    if (!p) {
      p = this.query<{ name: string; type: string }>('SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {table:String}', { table }).then(
        (rows) => new Map(rows.map((r) => [r.name, r.type])),
      );
      p.catch(() => this.#structures.delete(table));
      this.#structures.set(table, p);
    }
    return p;
  }

  // Not through a lane: every export has a chDB session of its own (see EmbeddedExports).
  stream(sql: string, params: QueryParams, format: ExportFormat, signal: AbortSignal, input?: ExportInput): Promise<Readable> {
    this.stats.queries++;
    return this.#exports.stream(sql, params, format, signal, input);
  }

  override async close(): Promise<void> {
    this.#exports.close();
    // Each lane closes after the statements queued on it.
    await Promise.all(this.#lanes.map((lane) => lane.lock.run(() => lane.client.close())));
  }
}

class ServerStore extends BaseStore {
  readonly mode = 'server' as const;
  constructor(config: Extract<Config['clickhouse'], { mode: 'server' }>) {
    super(
      createClient({
        url: config.url,
        username: config.user,
        password: config.password,
        database: config.database,
        request_timeout: 300_000,
        clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
      }),
      config.cluster,
    );
  }

  protected serial<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async insertRows(table: string, columns: readonly string[], body: Buffer): Promise<void> {
    checkIdents(table, columns);
    this.stats.inserts++;
    // On a cluster `table` is Distributed: insert in the foreground so the 202 that follows
    // means the rows reached their shards (and their event_ids markers are readable).
    const settings = this.cluster ? ' SETTINGS distributed_foreground_insert = 1' : '';
    // A refused or dropped connection rejects here, before any 202: the batch is not acknowledged
    // (the API answers 503 STORE_UNAVAILABLE) and the producer's retry is deduplicated by event_id.
    await guarded(
      'clickhouse',
      this.client.exec({
        query: `INSERT INTO ${table} (${columns.join(', ')})${settings} FORMAT JSONCompactEachRow`,
        values: Readable.from([body]),
      }),
    );
  }

  // Over HTTP the server streams one output of the whole query (one CSV header, one Parquet
  // file); the abort signal ends the request and the server cancels the read-only query.
  stream(sql: string, params: QueryParams, format: ExportFormat, signal: AbortSignal, input?: ExportInput): Promise<Readable> {
    return guarded('clickhouse', this.#stream(sql, params, format, signal, input));
  }

  async #stream(sql: string, params: QueryParams, format: ExportFormat, signal: AbortSignal, input?: ExportInput): Promise<Readable> {
    this.stats.queries++;
    // The input rows live in a temporary table of an HTTP session used by this export only.
    const session_id = input ? randomUUID() : undefined;
    if (input) {
      await this.client.command({ query: `CREATE TEMPORARY TABLE export_input (${input.structure}) ENGINE = Memory`, session_id, abort_signal: signal });
      await this.client.exec({ query: 'INSERT INTO export_input FORMAT JSONEachRow', values: Readable.from([input.rows]), session_id, abort_signal: signal });
    }
    const { stream } = await this.client.exec({
      query: `${sql}\nFORMAT ${format === 'JSONArray' ? 'JSONEachRow' : format}`,
      query_params: params,
      session_id,
      abort_signal: signal,
      clickhouse_settings: {
        wait_end_of_query: 0,
        cancel_http_readonly_queries_on_client_close: 1,
        ...(format === 'Parquet' ? { output_format_parquet_row_group_size: String(PARQUET_ROW_GROUP_ROWS) } : {}),
      },
    });
    // The client stops watching abort_signal once the response has begun: from here on an
    // abort destroys the response (closing the socket) itself.
    const onAbort = () => stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('export aborted'));
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return format === 'JSONArray' ? Readable.from(jsonArrayFromRows(stream), { objectMode: false }) : stream;
  }
}
