/**
 * The analytics store: one DuckDB file owned by one process (DuckDB locks the file against every
 * other process, even readers). Writes go through one connection, one unit of work at a time;
 * reads use a second connection and see the last committed state (DuckDB's MVCC), so an answer
 * never waits behind a model run or an ingest batch.
 */
import { ConfigurationError, StoreFailureError } from '@causeway/core';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';

/** A row as JavaScript values: BIGINT and HUGEINT that fit a double become numbers. */
export type LakehouseRow = Record<string, unknown>;
export type SqlParameters = readonly DuckDBValue[] | Record<string, DuckDBValue>;

/** One connection inside a unit of work (a transaction, or a read). */
export interface LakehouseSession {
  run(sql: string, parameters?: SqlParameters): Promise<void>;
  all<Row = LakehouseRow>(sql: string, parameters?: SqlParameters): Promise<Row[]>;
  /** The DuckDB connection itself, for the appender and prepared statements. */
  readonly connection: DuckDBConnection;
}

export interface Lakehouse {
  /** The file, or `:memory:`. */
  readonly path: string;
  /** `work` runs in one transaction on the write connection: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (session: LakehouseSession) => Promise<T>): Promise<T>;
  /** Runs outside a transaction on the write connection (DDL that DuckDB refuses in one, CHECKPOINT, COPY). */
  exclusive<T>(work: (session: LakehouseSession) => Promise<T>): Promise<T>;
  /** A read on the read connection: the last committed state, never blocked by a writer. */
  read<T>(work: (session: LakehouseSession) => Promise<T>): Promise<T>;
  all<Row = LakehouseRow>(sql: string, parameters?: SqlParameters): Promise<Row[]>;
  close(): Promise<void>;
}

export interface LakehouseOptions {
  /** A file path, or `:memory:` (tests). */
  path: string;
  /** DuckDB worker threads (default 2). */
  threads?: number;
  /** e.g. `'1GB'` (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
}

/** Opens (or creates) the DuckDB file. Extensions never download: only the built-in ones load. */
export async function openLakehouse(options: LakehouseOptions): Promise<Lakehouse> {
  const settings: Record<string, string> = {
    threads: String(options.threads ?? 2),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (options.memoryLimit !== undefined) settings.memory_limit = options.memoryLimit;
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(options.path, settings);
  } catch (error) {
    const message = (error as Error).message;
    if (/lock/i.test(message)) {
      throw new ConfigurationError(
        `The analytics file ${options.path} is held by another process (DuckDB allows one): stop it, or give this one its own file`,
        { path: options.path },
      );
    }
    throw new StoreFailureError('DuckDB', `cannot open ${options.path}: ${message}`, error);
  }
  const writer = await instance.connect();
  const reader = await instance.connect();
  const writes = createQueue();
  const reads = createQueue();
  const writeSession = sessionOf(writer);
  const readSession = sessionOf(reader);
  let closed = false;

  function ensureOpen(): void {
    if (closed) throw new ConfigurationError(`The lakehouse ${options.path} is closed`);
  }

  return {
    path: options.path,
    transaction(work) {
      ensureOpen();
      return writes.run(async () => {
        await writer.run('BEGIN TRANSACTION');
        try {
          const result = await work(writeSession);
          await writer.run('COMMIT');
          return result;
        } catch (error) {
          await writer.run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    },
    exclusive(work) {
      ensureOpen();
      return writes.run(() => work(writeSession));
    },
    read(work) {
      ensureOpen();
      return reads.run(() => work(readSession));
    },
    all(sql, parameters) {
      ensureOpen();
      return reads.run(() => readSession.all(sql, parameters));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([writes.drain(), reads.drain()]);
      writer.closeSync();
      reader.closeSync();
      instance.closeSync();
    },
  };
}

function sessionOf(connection: DuckDBConnection): LakehouseSession {
  return {
    connection,
    async run(sql, parameters) {
      await connection.run(sql, parameters as DuckDBValue[] | undefined);
    },
    async all<Row>(sql: string, parameters?: SqlParameters) {
      const reader = await connection.runAndReadAll(sql, parameters as DuckDBValue[] | undefined);
      return reader.getRowObjectsJS().map((row) => plainRow(row) as Row);
    },
  };
}

function plainRow(row: Record<string, unknown>): LakehouseRow {
  const plain: LakehouseRow = {};
  for (const [column, value] of Object.entries(row)) plain[column] = plainValue(value);
  return plain;
}

function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return plainRow(value as Record<string, unknown>);
  }
  return value;
}

/** One unit of work at a time on a connection: a DuckDB connection runs one statement at a time. */
function createQueue() {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(work: () => Promise<T>): Promise<T> {
      const result = tail.then(() => work());
      tail = result.catch(() => undefined);
      return result;
    },
    drain: () => tail,
  };
}
