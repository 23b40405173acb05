import type Database from 'better-sqlite3';
import { toSqliteStoreError } from './sqlite-errors.ts';

/** Positional values for `?` placeholders, or named values for `?1`/`:name` placeholders. */
export type SqliteParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/**
 * Synchronous statement runner over one connection: caches prepared statements and maps every
 * driver error to a Causeway error. Ports only ever reach the database through a session.
 */
export interface SqliteSession {
  all<Row>(sql: string, params?: SqliteParams): Row[];
  get<Row>(sql: string, params?: SqliteParams): Row | undefined;
  run(sql: string, params?: SqliteParams): { changes: number; lastInsertRowid: number };
  /**
   * False once SQLite ended the transaction by itself (some errors, e.g. SQLITE_FULL, roll it back
   * whole): statements would then run outside any transaction, so callers must stop.
   */
  readonly inTransaction: boolean;
}

type AnyStatement = Database.Statement<unknown[], unknown>;

/** Enough for every adapter statement plus the service's hot queries; dynamic SQL is evicted. */
const statementCacheSize = 500;

export function createSqliteSession(db: Database.Database): SqliteSession {
  const cache = new Map<string, AnyStatement>();

  function prepare(sql: string): AnyStatement {
    const cached = cache.get(sql);
    if (cached !== undefined) {
      // Move to the back: the map's insertion order doubles as least-recently-used order.
      cache.delete(sql);
      cache.set(sql, cached);
      return cached;
    }
    const statement = db.prepare<unknown[], unknown>(sql);
    cache.set(sql, statement);
    if (cache.size > statementCacheSize) cache.delete(cache.keys().next().value as string);
    return statement;
  }

  function execute<T>(sql: string, action: (statement: AnyStatement) => T): T {
    try {
      return action(prepare(sql));
    } catch (error) {
      throw toSqliteStoreError(error, `statement failed (${summarize(sql)})`);
    }
  }

  return {
    all: <Row>(sql: string, params: SqliteParams = []) =>
      execute(sql, (statement) => {
        if (statement.reader) return statement.all(...bindable(params)) as Row[];
        statement.run(...bindable(params));
        return [];
      }),
    get: <Row>(sql: string, params: SqliteParams = []) =>
      execute(sql, (statement) => statement.get(...bindable(params)) as Row | undefined),
    run: (sql: string, params: SqliteParams = []) =>
      execute(sql, (statement) => {
        if (statement.reader) {
          // e.g. INSERT ... RETURNING: run() would refuse it, so count the returned rows.
          const rows = statement.all(...bindable(params));
          return { changes: rows.length, lastInsertRowid: 0 };
        }
        const result = statement.run(...bindable(params));
        return { changes: result.changes, lastInsertRowid: Number(result.lastInsertRowid) };
      }),
    get inTransaction() {
      return db.inTransaction;
    },
  };
}

function bindable(params: SqliteParams): unknown[] {
  return Array.isArray(params) ? params : [params];
}

function summarize(sql: string): string {
  const oneLine = sql.replace(/\s+/g, ' ').trim();
  return oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine;
}
