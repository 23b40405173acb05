import Database from 'better-sqlite3';
import { toSqliteStoreError } from './sqlite-errors.ts';
import { enableWal } from './sqlite-wal.ts';

export interface SqliteDatabaseOptions {
  filename: string;
  synchronous: 'NORMAL' | 'FULL';
  busyTimeoutMs: number;
}

/**
 * Opens one better-sqlite3 connection with Causeway's settings: WAL (readers never block the
 * writer), a busy timeout (writers in other processes queue instead of failing), secure_delete
 * (freed pages are zeroed, for crypto-shredding) and foreign keys.
 */
export function openSqliteDatabase(
  options: SqliteDatabaseOptions,
  mode: { readOnly?: boolean } = {},
): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(options.filename, { timeout: options.busyTimeoutMs });
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    enableWal(db, options.busyTimeoutMs);
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('secure_delete = ON');
    db.pragma('foreign_keys = ON');
    // The reader is a separate connection only so that it sees committed data; it must never write.
    if (mode.readOnly) db.pragma('query_only = ON');
    return db;
  } catch (error) {
    db?.close();
    throw toSqliteStoreError(error, `cannot open database file "${options.filename}"`);
  }
}

/** A database no second connection can share: reads must then go through the writer. */
export function isPrivateSqliteDatabase(db: Database.Database, filename: string): boolean {
  return db.memory || filename === '';
}
