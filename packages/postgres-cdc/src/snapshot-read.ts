import type { Change, ChangeTransaction, Row } from './change.ts';
import { changeId } from './change-id.ts';
import type { CapturedTable } from './source-catalog.ts';

export interface SnapshotReadOrigin {
  readonly slot: string;
  readonly database: string;
  readonly table: CapturedTable;
  /** Names the copy in the change ids: the same copy, chunk and index always give the same id. */
  readonly position: string;
  /** The index of the first row within its copy. */
  readonly firstIndex: number;
  readonly lsn: string;
  readonly commitTime: string;
}

/** Rows a copy read, as one transaction of `op: 'r'` changes: the initial snapshot's and a table re-copy's. */
export function snapshotRead(rows: Iterable<Row>, origin: SnapshotReadOrigin): ChangeTransaction {
  const { table } = origin;
  const changes: Change[] = [...rows].map((row, index) => ({
    id: changeId(origin.slot, origin.position, origin.firstIndex + index),
    op: 'r',
    key: Object.fromEntries(table.keyColumns.map((column) => [column, row[column]])),
    before: null,
    after: row,
    source: {
      connector: 'postgresql',
      database: origin.database,
      schema: table.schema,
      table: table.table,
      slot: origin.slot,
      lsn: origin.lsn,
      txId: null,
      commitTime: origin.commitTime,
      snapshot: true,
    },
  }));
  return { snapshot: true, xid: null, lsn: origin.lsn, commitTime: origin.commitTime, changes, messages: [] };
}
