import { ConfigurationError } from '@causeway/core';
import type { SqliteSession } from './sqlite-session.ts';

/** Physical table names of one store: the logical names of docs/design/store.md plus the prefix. */
export interface SqliteTables {
  readonly migrations: string;
  readonly streams: string;
  readonly events: string;
  readonly outbox: string;
  readonly inbox: string;
  readonly checkpoints: string;
  readonly snapshots: string;
  readonly subjectKeys: string;
  readonly documents: string;
  readonly deadLetters: string;
  readonly sagaInstances: string;
}

export function sqliteTableNames(prefix: string): SqliteTables {
  if (!/^([A-Za-z_][A-Za-z0-9_]*)?$/.test(prefix)) {
    throw new ConfigurationError(
      `tablePrefix "${prefix}" is invalid: use letters, digits and underscores, starting with a letter or underscore`,
      { tablePrefix: prefix },
    );
  }
  return {
    migrations: `${prefix}schema_migrations`,
    streams: `${prefix}streams`,
    events: `${prefix}events`,
    outbox: `${prefix}outbox`,
    inbox: `${prefix}inbox`,
    checkpoints: `${prefix}checkpoints`,
    snapshots: `${prefix}snapshots`,
    subjectKeys: `${prefix}subject_keys`,
    documents: `${prefix}documents`,
    deadLetters: `${prefix}dead_letters`,
    sagaInstances: `${prefix}saga_instances`,
  };
}

interface Migration {
  readonly version: number;
  readonly statements: (t: SqliteTables) => string[];
}

/**
 * Append-only list: never edit a released migration, add the next version instead. Times the
 * adapter compares (leases, receipts, prune cutoffs) are epoch milliseconds; times the caller
 * supplies (occurredAt, takenAt) are kept as the ISO text it gave.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    statements: (t) => [
      `CREATE TABLE ${t.streams} (stream_id TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID`,
      `CREATE TABLE ${t.events} (
        global_position INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
        stream_position INTEGER NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL,
        correlation_id TEXT, causation_id TEXT, occurred_at TEXT NOT NULL, metadata TEXT NOT NULL,
        data TEXT NOT NULL, UNIQUE (stream_id, stream_position))`,
      // AUTOINCREMENT: pruning deletes the newest published rows too, and sequences must not come back.
      `CREATE TABLE ${t.outbox} (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE,
        destination TEXT NOT NULL, ordering_key TEXT NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
        created_at INTEGER NOT NULL, published_at INTEGER, lease_owner TEXT, lease_until INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0)`,
      `CREATE INDEX ${t.outbox}_pending_by_key ON ${t.outbox} (ordering_key, sequence) WHERE published_at IS NULL`,
      `CREATE INDEX ${t.outbox}_published ON ${t.outbox} (published_at) WHERE published_at IS NOT NULL`,
      `CREATE TABLE ${t.inbox} (
        consumer TEXT NOT NULL, message_id TEXT NOT NULL, received_at INTEGER NOT NULL,
        PRIMARY KEY (consumer, message_id)) WITHOUT ROWID`,
      `CREATE INDEX ${t.inbox}_received_at ON ${t.inbox} (received_at)`,
      `CREATE TABLE ${t.checkpoints} (
        name TEXT PRIMARY KEY, position INTEGER NOT NULL, generation INTEGER NOT NULL,
        updated_at INTEGER NOT NULL) WITHOUT ROWID`,
      `CREATE TABLE ${t.snapshots} (
        stream_id TEXT PRIMARY KEY, aggregate_type TEXT NOT NULL, stream_version INTEGER NOT NULL,
        snapshot_version INTEGER NOT NULL, subject_id TEXT, state TEXT NOT NULL, taken_at TEXT NOT NULL)`,
      `CREATE INDEX ${t.snapshots}_subject ON ${t.snapshots} (subject_id) WHERE subject_id IS NOT NULL`,
      `CREATE TABLE ${t.subjectKeys} (
        subject_id TEXT PRIMARY KEY, key BLOB, created_at INTEGER NOT NULL, destroyed_at INTEGER)`,
      `CREATE TABLE ${t.documents} (
        collection TEXT NOT NULL, id TEXT NOT NULL, document TEXT NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (collection, id)) WITHOUT ROWID`,
    ],
  },
  {
    // Versions come from the events index now: the streams row was a fourth page per commit.
    version: 2,
    statements: (t) => [`DROP TABLE IF EXISTS ${t.streams}`],
  },
  {
    version: 3,
    statements: (t) => [
      `CREATE TABLE ${t.deadLetters} (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT, consumer TEXT NOT NULL, message_id TEXT NOT NULL,
        ordering_key TEXT NOT NULL, message TEXT NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL, last_seen_at TEXT NOT NULL, status TEXT NOT NULL,
        UNIQUE (consumer, message_id))`,
      `CREATE INDEX ${t.deadLetters}_open_by_key ON ${t.deadLetters} (consumer, ordering_key, sequence)
        WHERE status IN ('dead', 'parked')`,
    ],
  },
  {
    // Times are epoch milliseconds (due() compares wake_at); data, steps and reason are JSON text.
    version: 4,
    statements: (t) => [
      `CREATE TABLE IF NOT EXISTS ${t.sagaInstances} (
        saga_id TEXT PRIMARY KEY, saga_name TEXT NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL,
        wake_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, body TEXT NOT NULL)`,
      `CREATE INDEX IF NOT EXISTS ${t.sagaInstances}_due ON ${t.sagaInstances} (wake_at)
        WHERE status IN ('running', 'compensating') AND wake_at IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${t.sagaInstances}_by_name_status ON ${t.sagaInstances} (saga_name, status)`,
    ],
  },
  {
    // A flow's events across a service (readByCorrelation): a timeline needs them without a scan.
    version: 5,
    statements: (t) => [
      `CREATE INDEX IF NOT EXISTS ${t.events}_by_correlation ON ${t.events} (correlation_id, global_position)
        WHERE correlation_id IS NOT NULL`,
    ],
  },
  {
    // The relay's claim walks unpublished rows in sequence order. Without this index SQLite scanned
    // the whole outbox, published rows included: 30 ms a claim at 47,000 rows, and a shop that
    // slowed with every order it had taken. With it: 30 µs, whatever the history.
    version: 6,
    statements: (t) => [
      `CREATE INDEX IF NOT EXISTS ${t.outbox}_unpublished ON ${t.outbox} (sequence) WHERE published_at IS NULL`,
    ],
  },
];

/**
 * Brings the schema to the latest version inside one BEGIN IMMEDIATE transaction, so processes
 * opening the same file at once apply each migration exactly once.
 */
export function migrateSqliteSchema(session: SqliteSession, tables: SqliteTables): void {
  session.run('BEGIN IMMEDIATE');
  try {
    session.run(
      `CREATE TABLE IF NOT EXISTS ${tables.migrations} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
    );
    const current =
      session.get<{ version: number | null }>(`SELECT max(version) AS version FROM ${tables.migrations}`)
        ?.version ?? 0;
    assertKnownVersion(current);
    for (const migration of migrations.filter((candidate) => candidate.version > current)) {
      for (const statement of migration.statements(tables)) session.run(statement);
      session.run(`INSERT INTO ${tables.migrations} (version, applied_at) VALUES (?, ?)`, [
        migration.version,
        new Date().toISOString(),
      ]);
    }
    session.run('COMMIT');
  } catch (error) {
    rollbackQuietly(session);
    throw error;
  }
}

function assertKnownVersion(current: number): void {
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new ConfigurationError(
      `The database schema is at version ${current} but this @causeway/sqlite knows only up to ${latest}: upgrade @causeway/sqlite`,
      { schemaVersion: current, knownVersion: latest },
    );
  }
}

/** The original error matters more than a failed ROLLBACK (e.g. when BEGIN never happened). */
export function rollbackQuietly(session: SqliteSession): void {
  try {
    session.run('ROLLBACK');
  } catch {
    // Nothing to roll back, or the connection is gone: either way nothing was committed.
  }
}
