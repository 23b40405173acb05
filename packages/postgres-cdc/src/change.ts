import type { MessageId } from '@causeway/core';

/** Debezium's operations: create, update, delete, read (a snapshot row), truncate. */
export type ChangeOperation = 'c' | 'u' | 'd' | 'r' | 't';

/** Column name to value, parsed as `pg` parses query results (int8 and numeric stay strings). */
export type Row = Record<string, unknown>;

/** Where a change comes from; the fields Debezium's `source` block has, in this project's spelling. */
export interface ChangeOrigin {
  readonly connector: 'postgresql';
  readonly database: string;
  readonly schema: string;
  readonly table: string;
  readonly slot: string;
  /** The commit's end LSN (for a snapshot row: the slot's consistent point). */
  readonly lsn: string;
  /** Null for snapshot rows. */
  readonly txId: number | null;
  /** ISO time of the commit (for a snapshot row: when the snapshot was taken). */
  readonly commitTime: string;
  readonly snapshot: boolean;
}

/**
 * One row change, shaped like Debezium's envelope. `key` holds the primary key (or the replica
 * identity index) columns. An unchanged TOASTed value that PostgreSQL did not send is absent from
 * `after` and named in `unchanged`: never null, which would be a different value.
 */
export interface Change {
  /** Derived from (slot, LSN, index in the transaction): a redelivery has the same id. */
  readonly id: MessageId;
  readonly op: ChangeOperation;
  /** Null only for a truncate. */
  readonly key: Row | null;
  /** The old row under REPLICA IDENTITY FULL; only the key columns under DEFAULT; null for c, r, t. */
  readonly before: Row | null;
  /** Null for d and t. */
  readonly after: Row | null;
  readonly unchanged?: readonly string[];
  readonly source: ChangeOrigin;
}

/** A message written with pg_logical_emit_message(true, prefix, content) in the transaction. */
export interface LogicalMessage {
  readonly prefix: string;
  readonly content: Buffer;
  readonly lsn: string;
}

/**
 * The changes of one committed transaction, in the order they were made; transactions arrive in
 * commit order. A snapshot chunk is delivered the same way, with `snapshot: true`.
 */
export interface ChangeTransaction {
  readonly snapshot: boolean;
  readonly xid: number | null;
  /** The commit's end LSN: acknowledged to the slot once the handler resolved. */
  readonly lsn: string;
  readonly commitTime: string;
  readonly changes: readonly Change[];
  readonly messages: readonly LogicalMessage[];
}

/** Columns a captured table gained or lost since the stream last described it. */
export interface SchemaChange {
  readonly schema: string;
  readonly table: string;
  readonly added: readonly string[];
  readonly dropped: readonly string[];
}

/** How far the initial copy of a table has come. */
export interface SnapshotProgress {
  readonly table: string;
  readonly rows: number;
  readonly done: boolean;
}
