import { ConfigurationError } from '@causeway/core';
import Database from 'better-sqlite3';
import { toEmbeddedTransportError } from './embedded-errors.ts';
import { enableWal } from './embedded-wal.ts';

const schema = `
CREATE TABLE IF NOT EXISTS transport_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- The log. AUTOINCREMENT: a seq is never reused, even after retention deletes the newest rows,
-- because cursors compare against it.
CREATE TABLE IF NOT EXISTS transport_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  destination TEXT NOT NULL,
  partition INTEGER NOT NULL,
  message_id TEXT NOT NULL UNIQUE,
  ordering_key TEXT NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  published_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transport_messages_by_partition
  ON transport_messages (destination, partition, seq);
-- One row per (group, destination, partition): how far the group got, who holds the partition,
-- and the delivery in flight (its attempt survives crashes; not_before delays a retry).
CREATE TABLE IF NOT EXISTS transport_cursors (
  consumer_group TEXT NOT NULL,
  destination TEXT NOT NULL,
  partition INTEGER NOT NULL,
  acked_seq INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER NOT NULL DEFAULT 0,
  in_flight_seq INTEGER,
  attempt INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (consumer_group, destination, partition)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS transport_cursors_by_owner ON transport_cursors (lease_owner);
-- Retention reads the lowest cursor of a partition over all groups.
CREATE INDEX IF NOT EXISTS transport_cursors_by_partition ON transport_cursors (destination, partition);
-- Live subscribers per (group, destination), so that they can split the partitions fairly.
CREATE TABLE IF NOT EXISTS transport_members (
  consumer_group TEXT NOT NULL,
  destination TEXT NOT NULL,
  subscriber TEXT NOT NULL,
  alive_until INTEGER NOT NULL,
  PRIMARY KEY (consumer_group, destination, subscriber)
) WITHOUT ROWID;
`;

export interface EmbeddedDatabaseOptions {
  filename: string;
  partitions: number;
  busyTimeoutMs: number;
}

/**
 * Opens the transport file with WAL (readers never block the writer), `synchronous = NORMAL` (a
 * commit survives a crash of the process; publishes raise it to FULL, see `createEmbeddedLog`)
 * and a busy timeout (writers in other processes queue),
 * creates the tables, and checks that every process agrees on the partition count: a message's
 * partition is fixed when it is published, so a second count would break per-key order.
 */
export function openEmbeddedDatabase(options: EmbeddedDatabaseOptions): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(options.filename, { timeout: options.busyTimeoutMs });
    db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
    enableWal(db, options.busyTimeoutMs);
    db.pragma('synchronous = NORMAL');
    db.transaction(() => {
      db!.exec(schema);
      db!
        .prepare("INSERT OR IGNORE INTO transport_meta (key, value) VALUES ('partitions', ?)")
        .run(String(options.partitions));
    }).immediate();
    const stored = db.prepare("SELECT value FROM transport_meta WHERE key = 'partitions'").pluck().get();
    if (Number(stored) !== options.partitions) {
      throw new ConfigurationError(
        `The transport file "${options.filename}" uses ${stored} partitions, but this transport was configured with ${options.partitions}: configure the same count in every process, or use a new file`,
        { filename: options.filename, stored: Number(stored), configured: options.partitions },
      );
    }
    // From here on writes retry SQLITE_BUSY themselves, far more eagerly (see retryWhileBusy).
    db.pragma('busy_timeout = 0');
    return db;
  } catch (error) {
    db?.close();
    throw toEmbeddedTransportError(error, `cannot open transport file "${options.filename}"`);
  }
}
