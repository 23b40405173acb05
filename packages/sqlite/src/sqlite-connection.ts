import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidArgumentError, StoreUnavailableError, type Transaction } from '@causeway/core';
import type Database from 'better-sqlite3';
import { type AsyncMutex, createAsyncMutex } from './async-mutex.ts';
import { createSqliteChangeFeed, type SqliteChangeFeed } from './sqlite-change-feed.ts';
import {
  isPrivateSqliteDatabase,
  openSqliteDatabase,
  type SqliteDatabaseOptions,
} from './sqlite-database.ts';
import { sqliteStoreName } from './sqlite-errors.ts';
import { migrateSqliteSchema, rollbackQuietly, type SqliteTables } from './sqlite-schema.ts';
import { createSqliteSession, type SqliteSession } from './sqlite-session.ts';
import { SqliteTransaction } from './sqlite-transaction.ts';

/** What every port factory needs: the connection and this store's table names. */
export interface SqliteStoreContext {
  readonly connection: SqliteConnection;
  readonly tables: SqliteTables;
}

const dataVersionPollMs = 50;

/** Opens the writer (migrating the schema) and, for a file database, the reader. */
export function openSqliteConnection(options: SqliteDatabaseOptions, tables: SqliteTables): SqliteConnection {
  const writer = openSqliteDatabase(options);
  try {
    migrateSqliteSchema(createSqliteSession(writer), tables);
  } catch (error) {
    writer.close();
    throw error;
  }
  const reader = isPrivateSqliteDatabase(writer, options.filename)
    ? null
    : openSqliteDatabase(options, { readOnly: true });
  return new SqliteConnection(writer, reader);
}

/**
 * One writer connection, serialized by an async mutex, and for file databases one reader
 * connection for reads outside a transaction: under WAL the reader sees only committed data, so
 * it can never observe another caller's transaction that is still open on the writer.
 */
export class SqliteConnection {
  readonly changes: SqliteChangeFeed;
  readonly #writer: Database.Database;
  readonly #reader: Database.Database | null;
  readonly #writerSession: SqliteSession;
  readonly #readerSession: SqliteSession | null;
  readonly #mutex: AsyncMutex = createAsyncMutex();
  readonly #current = new AsyncLocalStorage<SqliteTransaction>();
  #closed = false;

  constructor(writer: Database.Database, reader: Database.Database | null) {
    this.#writer = writer;
    this.#reader = reader;
    this.#writerSession = createSqliteSession(writer);
    this.#readerSession = reader === null ? null : createSqliteSession(reader);
    this.changes = createSqliteChangeFeed({
      // The writer's data_version moves only when another connection commits: other processes.
      readDataVersion:
        reader === null ? null : () => writer.pragma('data_version', { simple: true }) as number,
      pollMs: dataVersionPollMs,
    });
  }

  /**
   * BEGIN IMMEDIATE takes the file's write lock up front, so other processes queue on busy_timeout.
   * With `gather`, the transaction takes its turn in the queue now but begins only after the
   * current turn of the event loop, so that work prepared meanwhile can still join it.
   */
  async transaction<T>(
    work: (tx: SqliteTransaction) => Promise<T>,
    options: { gather?: boolean } = {},
  ): Promise<T> {
    return this.gathered((locked) => locked.transaction(work), options);
  }

  /**
   * Takes the connection's turn (after the current turn of the event loop with `gather`), then lets
   * `work` either run one autocommit statement on the session (SQLite takes the write lock at the
   * start of a write statement, so its reads and writes are atomic) or open a transaction.
   */
  async gathered<T>(
    work: (locked: {
      session: SqliteSession;
      transaction<R>(work: (tx: SqliteTransaction) => Promise<R>): Promise<R>;
      markChanged(): void;
    }) => Promise<T> | T,
    options: { gather?: boolean } = {},
  ): Promise<T> {
    this.assertCanBegin();
    const finished: SqliteTransaction[] = [];
    let changed = false;
    const result = await this.#mutex.runExclusive(async () => {
      if (options.gather) await new Promise<void>((resolve) => setImmediate(resolve));
      this.#assertOpen();
      return work({
        session: this.#writerSession,
        transaction: async (transactionWork) => {
          const { result: value, tx } = await this.#runTransaction(transactionWork);
          finished.push(tx);
          return value;
        },
        markChanged: () => {
          changed = true;
        },
      });
    });
    for (const tx of finished) {
      tx.runCommitCallbacks();
      changed ||= tx.changed;
    }
    if (changed) this.changes.notify();
    return result;
  }

  /** BEGIN IMMEDIATE...COMMIT around `work`; the caller holds the connection's lock. */
  async #runTransaction<T>(
    work: (tx: SqliteTransaction) => Promise<T>,
  ): Promise<{ result: T; tx: SqliteTransaction }> {
    this.#writerSession.run('BEGIN IMMEDIATE');
    const tx = new SqliteTransaction(this.#writerSession, this);
    try {
      const result = await this.#current.run(tx, () => work(tx));
      this.#writerSession.run('COMMIT');
      return { result, tx };
    } catch (error) {
      rollbackQuietly(this.#writerSession);
      throw error;
    } finally {
      tx.close();
    }
  }

  /** Runs a read in the caller's transaction, or against committed data when `tx` is null. */
  async read<T>(tx: Transaction | null, read: (session: SqliteSession) => T): Promise<T> {
    if (tx !== null) return read(this.join(tx).session);
    this.#assertOpen();
    if (this.#readerSession !== null) return read(this.#readerSession);
    // A private (in-memory) database has no second connection. Inside a transaction's work the
    // lock is already held, and waiting for it would never end.
    if (this.#current.getStore()?.isOpen) return read(this.#writerSession);
    return this.#mutex.runExclusive(async () => {
      this.#assertOpen();
      return read(this.#writerSession);
    });
  }

  /** Runs a write in the caller's transaction, or in a transaction of its own when `tx` is null. */
  async write<T>(tx: Transaction | null, write: (tx: SqliteTransaction) => T): Promise<T> {
    if (tx !== null) return write(this.join(tx));
    return this.transaction(async (own) => write(own));
  }

  /** The caller's transaction as this store's own, checked to belong to this store and be open. */
  join(tx: Transaction): SqliteTransaction {
    if (!(tx instanceof SqliteTransaction) || tx.owner !== this) {
      throw new InvalidArgumentError(
        'tx',
        'The transaction belongs to another store: use this store.transaction()',
      );
    }
    tx.assertOpen();
    return tx;
  }

  /**
   * Folds the WAL into the database file and truncates it. With secure_delete, deleted rows are
   * then gone from every file on disk (the WAL keeps old page images until a checkpoint).
   */
  async checkpointAndTruncate(): Promise<void> {
    await this.#mutex.runExclusive(async () => {
      this.#assertOpen();
      this.#writer.pragma('wal_checkpoint(TRUNCATE)');
    });
  }

  /** Waits for the running transaction (and those queued before the call), then closes. */
  async close(): Promise<void> {
    await this.#mutex.runExclusive(async () => {
      if (this.#closed) return;
      this.#closed = true;
      this.changes.close();
      this.#reader?.close();
      this.#writer.close();
    });
  }

  /** Throws unless a transaction could begin now: the store is open and this is not inside one. */
  assertCanBegin(): void {
    this.#assertOpen();
    this.#assertNotNested();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new StoreUnavailableError(
        sqliteStoreName,
        'the store was closed: open a new one with createSqliteStore()',
      );
    }
  }

  #assertNotNested(): void {
    if (this.#current.getStore()?.isOpen) {
      throw new InvalidArgumentError(
        'transaction',
        'transaction() was called inside an open transaction of the same store: pass the outer tx to the port instead (a nested call would wait for itself forever)',
      );
    }
  }
}
