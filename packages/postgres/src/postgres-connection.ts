import { StoreFailureError, type Transaction } from '@causeway/core';
import pg from 'pg';
import { isUnavailableError, mapPostgresError } from './map-postgres-error.ts';
import { preparedNameOf } from './postgres-prepared.ts';

/** Runs statements: either a transaction or the pool (one autocommit statement each). */
export interface PostgresQueryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  execute(sql: string, params?: readonly unknown[]): Promise<{ rowCount: number }>;
}

/** The pool of one store, with transactions and error mapping. */
export interface PostgresConnection extends PostgresQueryable {
  /** `host:port`, for error messages. */
  readonly target: string;
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const int8 = 20;
const int8Array = 1016;

// Positions and counts are bigint; the port speaks JavaScript numbers (safe to 2^53), as SQLite does.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === int8) return (value: string) => Number(value);
    if (oid === int8Array) {
      const parseArray = pg.types.getTypeParser(int8Array as never, 'text') as (
        value: string,
      ) => Array<string | null>;
      return (value: string) => parseArray(value).map((item) => (item === null ? null : Number(item)));
    }
    return pg.types.getTypeParser(oid as never, format ?? 'text');
  },
} as pg.CustomTypesConfig;

export function describeTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return 'the configured address';
  }
}

/**
 * pg client options shared by the pool and the dedicated LISTEN client. The search_path starts
 * with the store's schema, so a service's own tables and read models land there too.
 */
export function clientOptions(
  connectionString: string,
  schema: string,
  connectTimeoutMs = 10_000,
): pg.ClientConfig {
  return {
    connectionString,
    types,
    connectionTimeoutMillis: connectTimeoutMs,
    options: `-c search_path=${schema},public`,
    // Statements are written as soon as they are issued, not after the previous one's answer.
    pipeline: true,
  };
}

/** A statement the store marked `prepared` runs by name: parsed and planned once per connection. */
function statementOf(sql: string, params?: readonly unknown[]): pg.QueryConfig {
  const values = params as unknown[] | undefined;
  const name = values === undefined ? undefined : preparedNameOf(sql);
  return name === undefined ? { text: sql, values } : { name, text: sql, values };
}

function createQueryable(run: (sql: string, params?: readonly unknown[]) => Promise<pg.QueryResult>) {
  return {
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
      return (await run(sql, params)).rows as Row[];
    },
    async execute(sql: string, params?: readonly unknown[]): Promise<{ rowCount: number }> {
      return { rowCount: (await run(sql, params)).rowCount ?? 0 };
    },
  };
}

export function createPostgresConnection(options: {
  connectionString: string;
  schema: string;
  poolSize: number;
  /** How long opening a connection may take (default 10 s). */
  connectTimeoutMs?: number;
}): PostgresConnection {
  const target = describeTarget(options.connectionString);
  const pool = new pg.Pool({
    ...clientOptions(options.connectionString, options.schema, options.connectTimeoutMs),
    max: options.poolSize,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});

  const runOnPool = async (sql: string, params?: readonly unknown[]) => {
    try {
      return await pool.query(statementOf(sql, params));
    } catch (error) {
      throw mapPostgresError(error, target);
    }
  };

  return {
    target,
    ...createQueryable(runOnPool),
    transaction: (work) => runTransaction(pool, target, work),
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}

async function acquire(pool: pg.Pool, target: string): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw mapPostgresError(error, target);
  }
}

/** BEGIN, work, COMMIT (or ROLLBACK on any throw); onCommit callbacks run after COMMIT only. */
async function runTransaction<T>(
  pool: pg.Pool,
  target: string,
  work: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const client = await acquire(pool, target);
  const callbacks: Array<() => void> = [];
  let finished = false;
  let broken: unknown;
  const run = async (sql: string, params?: readonly unknown[]) => {
    if (finished) {
      throw new StoreFailureError(
        'postgres',
        'the transaction is already finished: use it only inside its work',
      );
    }
    try {
      return await client.query(statementOf(sql, params));
    } catch (error) {
      if (isUnavailableError(error)) broken = error;
      throw mapPostgresError(error, target);
    }
  };
  const tx: Transaction = {
    storeName: 'postgres',
    ...createQueryable(run),
    onCommit: (callback) => callbacks.push(callback),
  };
  let result: T;
  try {
    // Pipelined: BEGIN travels with the work's first statement instead of costing a round trip of
    // its own, and the server runs them in order. On a live session that is idle, BEGIN cannot
    // fail (it takes no lock and does no I/O); a session that died fails the statements behind it.
    const status = client.getTransactionStatus();
    if (status === 'T' || status === 'E') {
      broken = true;
      throw new StoreFailureError(
        'postgres',
        'a pooled connection was left inside a transaction (a BEGIN sent through the pool?); it is closed, retry',
      );
    }
    const begun = run('BEGIN');
    begun.catch(() => {}); // awaited before COMMIT; this only stops an early failure going unhandled
    result = await work(tx);
    await begun;
    await run('COMMIT');
    finished = true;
  } catch (error) {
    if (!finished) {
      finished = true;
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
    }
    throw error;
  } finally {
    // A client whose connection failed is destroyed instead of going back to the pool.
    client.release(broken instanceof Error ? broken : broken === undefined ? undefined : true);
  }
  runCallbacks(callbacks);
  return result;
}

// The data is committed whatever a callback does, so one failing callback must not fail the caller.
function runCallbacks(callbacks: ReadonlyArray<() => void>): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch (error) {
      console.error('causeway: an onCommit callback failed after COMMIT', error);
    }
  }
}
