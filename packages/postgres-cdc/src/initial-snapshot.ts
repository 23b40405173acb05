import pg from 'pg';
import type { ChangeTransaction, Row, SnapshotProgress } from './change.ts';
import { snapshotRead } from './snapshot-read.ts';
import { type CapturedTable, qualified, quoteIdentifier } from './source-catalog.ts';

export interface SnapshotOptions {
  connectionString: string;
  slot: string;
  database: string;
  tables: readonly CapturedTable[];
  /** Rows per delivered chunk. */
  chunkSize: number;
  /** Called once the slot exists, before the first chunk. */
  onSlotCreated(consistentPoint: string): Promise<void>;
  onChunk(chunk: ChangeTransaction): Promise<void>;
  onProgress?(progress: SnapshotProgress): void;
}

/**
 * Creates the slot with an exported snapshot and copies every table inside that snapshot, as
 * `op: 'r'` changes, before a single streamed change is read: streaming then starts at the slot's
 * consistent point, so no change is missed and none is copied twice. Returns that point.
 */
export async function takeInitialSnapshot(options: SnapshotOptions): Promise<string> {
  const replication = new pg.Client({
    connectionString: options.connectionString,
    replication: 'database',
  } as pg.ClientConfig);
  const copier = new pg.Client({ connectionString: options.connectionString });
  replication.on('error', () => {});
  copier.on('error', () => {});
  await replication.connect();
  try {
    const { rows } = await replication.query(
      `CREATE_REPLICATION_SLOT ${quoteIdentifier(options.slot)} LOGICAL pgoutput (SNAPSHOT 'export')`,
    );
    const { consistent_point: consistentPoint, snapshot_name: snapshotName } = rows[0] as {
      consistent_point: string;
      snapshot_name: string;
    };
    await copier.connect();
    // The exported snapshot lives until the replication session's next command: import it first.
    await copier.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await copier.query(`SET TRANSACTION SNAPSHOT '${snapshotName}'`);
    await options.onSlotCreated(consistentPoint);
    const takenAt = new Date().toISOString();
    for (const table of options.tables)
      await copyTable(copier, table, { ...options, consistentPoint, takenAt });
    await copier.query('COMMIT');
    return consistentPoint;
  } finally {
    await copier.end().catch(() => {});
    await replication.end().catch(() => {});
  }
}

async function copyTable(
  copier: pg.Client,
  table: CapturedTable,
  options: SnapshotOptions & { consistentPoint: string; takenAt: string },
): Promise<void> {
  const name = qualified(table.schema, table.table);
  const order = table.keyColumns.map(quoteIdentifier).join(', ');
  await copier.query(
    `DECLARE causeway_snapshot NO SCROLL CURSOR FOR SELECT * FROM ${quoteIdentifier(table.schema)}.${quoteIdentifier(table.table)} ORDER BY ${order}`,
  );
  let copied = 0;
  for (;;) {
    const { rows } = await copier.query<Row>(`FETCH ${options.chunkSize} FROM causeway_snapshot`);
    if (rows.length === 0) break;
    await options.onChunk(
      snapshotRead(rows, {
        slot: options.slot,
        database: options.database,
        table,
        position: `snapshot/${options.consistentPoint}/${name}`,
        firstIndex: copied,
        lsn: options.consistentPoint,
        commitTime: options.takenAt,
      }),
    );
    copied += rows.length;
    options.onProgress?.({ table: name, rows: copied, done: false });
  }
  await copier.query('CLOSE causeway_snapshot');
  options.onProgress?.({ table: name, rows: copied, done: true });
}
