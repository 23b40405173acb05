import Database from 'better-sqlite3';
import { nextStream, rawEventRow } from './raw-event-row.ts';

/** The pragmas Causeway's SQLite store sets on its connections, for a like-for-like baseline. */
function openLikeCauseway(
  filename: string,
  synchronous: 'NORMAL' | 'FULL',
  readOnly = false,
): Database.Database {
  const db = new Database(filename, { timeout: 5000, readonly: false });
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  if (readOnly) db.pragma('query_only = ON');
  return db;
}

interface PageRow {
  global_position: number;
  event_id: string;
  stream_id: string;
  metadata: string;
  data: string;
}

/**
 * What the same work costs with plain better-sqlite3: its own file (`filename`) with the same
 * pragmas and `synchronous` mode, and reads of Causeway's file (`eventsFile`) for the read figures.
 * Operations are async only to run in the same loops as Causeway's; each returns its row count.
 */
export function createSqliteBaseline(options: {
  filename: string;
  eventsFile: string;
  synchronous: 'NORMAL' | 'FULL';
}) {
  const db = openLikeCauseway(options.filename, options.synchronous);
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (global_position INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
      stream_id TEXT NOT NULL, stream_position INTEGER NOT NULL, type TEXT NOT NULL, occurred_at TEXT NOT NULL,
      metadata TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (stream_id, stream_position));
    CREATE TABLE IF NOT EXISTS projected_rows (event_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;`);
  const reader = openLikeCauseway(options.eventsFile, options.synchronous, true);
  const columns = 'id, stream_id, stream_position, type, occurred_at, metadata, data';
  const insertOne = db.prepare(`INSERT INTO events (${columns}) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const tuples = Array.from({ length: 100 }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
  const insertHundred = db.prepare(`INSERT INTO events (${columns}) VALUES ${tuples}`);
  const readPage = reader.prepare<
    [number, number],
    PageRow
  >(`SELECT event_id, type, schema_version, stream_id,
    stream_position, global_position, correlation_id, causation_id, occurred_at, metadata, data
    FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?`);
  const insertProjected = db.prepare(
    'INSERT INTO projected_rows (event_id, stream_id, sku, quantity) VALUES (?, ?, ?, ?)',
  );
  const saveCheckpoint = db.prepare(
    `INSERT INTO checkpoints (name, position) VALUES ('rows', ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
  );
  const selectOne = db.prepare('SELECT 1');
  const project = db.transaction((rows: PageRow[]) => {
    for (const row of rows) {
      const data = JSON.parse(row.data) as { sku: string; quantity: number };
      insertProjected.run(row.event_id, row.stream_id, data.sku, data.quantity);
    }
    saveCheckpoint.run(rows[rows.length - 1]!.global_position);
  });
  const readDecoded = (after: number) =>
    readPage
      .all(after, 1000)
      .map((row) => ({ ...row, metadata: JSON.parse(row.metadata), data: JSON.parse(row.data) }));
  let readCursor = 0;
  let projectCursor = 0;

  return {
    async insertOne(): Promise<number> {
      insertOne.run(...rawEventRow(nextStream(), 1));
      return 1;
    },
    async insertHundred(): Promise<number> {
      const stream = nextStream();
      insertHundred.run(...Array.from({ length: 100 }, (_, index) => rawEventRow(stream, index + 1)).flat());
      return 100;
    },
    /** The next keyset page of 1000 of Causeway's events, JSON columns parsed; wraps at the end. */
    async readNextPage(): Promise<number> {
      const rows = readDecoded(readCursor);
      readCursor = rows.length === 0 ? 0 : rows[rows.length - 1]!.global_position;
      return rows.length;
    },
    /** A hand-written projection: a page of 1000, its rows and the checkpoint in one transaction. */
    async projectNextPage(): Promise<number> {
      const rows = readPage.all(projectCursor, 1000);
      if (rows.length === 0) {
        db.exec('DELETE FROM projected_rows');
        projectCursor = 0;
        return 0;
      }
      project(rows);
      projectCursor = rows[rows.length - 1]!.global_position;
      return rows.length;
    },
    /** The trivial read the waitFor latency is compared with. */
    async selectOne(): Promise<void> {
      selectOne.get();
    },
    async close(): Promise<void> {
      reader.close();
      db.close();
    },
  };
}
