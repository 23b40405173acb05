/**
 * Bronze rows written by hand with the `@duckdb/node-api` appender: the ingest baseline, and the
 * fast way to seed bronze for the gold build. The columns and types are bronze's own (`changesColumns`
 * of packages/lakehouse), so the models read these rows as they read ingested ones.
 */

import type { BronzeChange } from '@causeway/lakehouse';
import { type DuckDBAppender, type DuckDBConnection, timestampTZValue } from '@duckdb/node-api';
import { changesColumns } from '../../packages/lakehouse/src/bronze/bronze-tables.ts';

/** A plain table with bronze's columns: no offsets table, no checks. */
export function createRawChangesSql(relation: string): string {
  return `CREATE TABLE ${relation} ${changesColumns}`;
}

/** What a hand-written ingest numbers itself: the next ingest_seq, the batch and its arrival time. */
export interface RawNumbers {
  seq: bigint;
  batchId: bigint;
  ingestedAtMicros: bigint;
}

/** Appends the changes as rows, JSON by plain `JSON.stringify`, times from `Date.parse`; moves `numbers.seq` on. */
export function appendRawChanges(
  appender: DuckDBAppender,
  changes: readonly BronzeChange[],
  numbers: RawNumbers,
): void {
  const ingestedAt = timestampTZValue(numbers.ingestedAtMicros);
  for (const change of changes) {
    appender.appendBigInt(numbers.seq);
    appender.appendVarchar(change.id);
    appender.appendVarchar(change.source);
    appender.appendVarchar(change.table);
    appender.appendVarchar(change.op);
    appendJson(appender, change.key);
    appendJson(appender, change.before);
    appendJson(appender, change.after);
    appender.appendUBigInt(change.position);
    appender.appendTimestampTZ(timestampTZValue(BigInt(Date.parse(change.committedAt)) * 1000n));
    appender.appendTimestampTZ(ingestedAt);
    appender.appendBigInt(numbers.batchId);
    appender.endRow();
    numbers.seq += 1n;
  }
}

function appendJson(appender: DuckDBAppender, value: Record<string, unknown> | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(JSON.stringify(value));
}

/** One batch in one transaction on `connection`, as a hand-written ingest would commit it. */
export async function appendRawBatch(
  connection: DuckDBConnection,
  table: { schema: string; name: string },
  work: { changes: readonly BronzeChange[]; numbers: RawNumbers },
): Promise<void> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const appender = await connection.createAppender(table.name, table.schema);
    appendRawChanges(appender, work.changes, work.numbers);
    appender.closeSync();
    await connection.run('COMMIT');
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
