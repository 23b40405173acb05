import {
  ConfigurationError,
  primaryReads,
  type Store,
  type StoreCapabilities,
  sessionTargetOf,
} from '@causeway/core';
import { createSqliteCheckpointStore } from './sqlite-checkpoint-store.ts';
import { openSqliteConnection, type SqliteStoreContext } from './sqlite-connection.ts';
import { createSqliteDeadLetterStore } from './sqlite-dead-letter-store.ts';
import { createSqliteDocumentStore } from './sqlite-document-store.ts';
import { sqliteStoreName } from './sqlite-errors.ts';
import { createSqliteEventLog } from './sqlite-event-log.ts';
import { createSqliteInboxStore } from './sqlite-inbox-store.ts';
import { createSqliteKeyStore } from './sqlite-key-store.ts';
import { createSqliteOutboxStore } from './sqlite-outbox-store.ts';
import { createSqliteSagaStore } from './sqlite-saga-store.ts';
import { sqliteTableNames } from './sqlite-schema.ts';
import { createSqliteSnapshotStore } from './sqlite-snapshot-store.ts';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing); ':memory:' for a private in-memory database. */
  filename: string;
  /** Prepended to every table name, so several stores can share one file. */
  tablePrefix?: string;
  /** 'NORMAL' (default) may lose the last commits on power loss but never corrupts; 'FULL' loses none. */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a writer waits for another process's write lock before failing (default 5000). */
  busyTimeoutMs?: number;
}

const capabilities: StoreCapabilities = {
  concurrentWriters: false,
  dialect: 'sqlite',
  // One writer: a second appendMany would only wait for the first's lock.
  appendBatching: { maxRequests: 256, concurrency: 1 },
};

/**
 * Opens (and creates or migrates) a SQLite store: WAL mode, one serialized writer per process,
 * BEGIN IMMEDIATE so writers in several processes queue on the busy timeout instead of failing.
 */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const synchronous = options.synchronous ?? 'NORMAL';
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  validateOptions(options.filename, synchronous, busyTimeoutMs);
  const tables = sqliteTableNames(options.tablePrefix ?? '');
  const connection = openSqliteConnection({ filename: options.filename, synchronous, busyTimeoutMs }, tables);
  const context: SqliteStoreContext = { connection, tables };
  const deadLetters = createSqliteDeadLetterStore(context);
  const store: Omit<Store, 'read'> = {
    name: sqliteStoreName,
    capabilities,
    transaction: (work) => connection.transaction(work),
    events: createSqliteEventLog(context),
    outbox: createSqliteOutboxStore(context),
    inbox: createSqliteInboxStore(context, deadLetters),
    checkpoints: createSqliteCheckpointStore(context),
    snapshots: createSqliteSnapshotStore(context),
    keys: createSqliteKeyStore(context),
    documents: createSqliteDocumentStore(context),
    deadLetters,
    sagas: createSqliteSagaStore(context),
    subscribeToChanges: (listener) => connection.changes.subscribe(listener),
    purgeDeletedData: () => connection.checkpointAndTruncate(),
    close: () => connection.close(),
  };
  // One file, no replicas: every consistency is the file's own.
  const reads = primaryReads(store);
  return {
    ...store,
    read: async (readOptions, work) => {
      sessionTargetOf(readOptions);
      return work(reads);
    },
  };
}

function validateOptions(filename: unknown, synchronous: string, busyTimeoutMs: number): void {
  if (typeof filename !== 'string') {
    throw new ConfigurationError('filename must be a path to the SQLite database file (or ":memory:")');
  }
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new ConfigurationError(`synchronous must be 'NORMAL' or 'FULL', got ${String(synchronous)}`, {
      synchronous,
    });
  }
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ConfigurationError(
      `busyTimeoutMs must be a whole number of milliseconds >= 0, got ${busyTimeoutMs}`,
      {
        busyTimeoutMs,
      },
    );
  }
}
