/**
 * Writes changes into `<schema>.changes` with DuckDB's appender. The appender's rows join the
 * connection's open transaction once flushed (a ROLLBACK removes them: see bronze.test.ts), so a
 * batch appended inside `lakehouse.transaction` commits or vanishes with everything else in it.
 */
import { InvalidArgumentError } from '@causeway/core';
import { type DuckDBAppender, timestampTZValue } from '@duckdb/node-api';
import type { LakehouseSession } from '../lakehouse.ts';
import type { BronzeChange } from './bronze-change.ts';
import { parseIsoMicros, toJsonText } from './bronze-values.ts';

/** A change with its stored values computed: everything that can fail on input fails here. */
export interface BronzeRow {
  readonly change: BronzeChange;
  readonly key: string | null;
  readonly before: string | null;
  readonly after: string | null;
  readonly committedAtMicros: bigint;
}

/**
 * Serializes each change's rows and time; a value JSON cannot hold (a cycle) is an
 * InvalidArgumentError. `committedMicros`, when validation has parsed the times already, saves
 * parsing each twice.
 */
export function toBronzeRows(
  changes: readonly BronzeChange[],
  committedMicros?: readonly bigint[],
): BronzeRow[] {
  return changes.map((change, index) => {
    try {
      return {
        change,
        key: toJsonText(change.key),
        before: toJsonText(change.before),
        after: toJsonText(change.after),
        committedAtMicros:
          committedMicros?.[index] ?? parseIsoMicros(change.committedAt, `Change ${change.id} committedAt`),
      };
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw error;
      throw new InvalidArgumentError(
        'changes',
        `Change ${change.id} cannot be stored as JSON: ${String(error)}`,
        {
          changeId: change.id,
        },
      );
    }
  });
}

export interface AppendOptions {
  readonly schema: string;
  readonly rows: readonly BronzeRow[];
  /** The ingest_seq of the first row; the others follow one by one. */
  readonly firstSeq: bigint;
  readonly batchId: bigint;
  readonly ingestedAtMicros: bigint;
}

/** Appends the rows and flushes them into the session's transaction; on any error, appends none. */
export async function appendChanges(session: LakehouseSession, options: AppendOptions): Promise<void> {
  const appender = await session.connection.createAppender('changes', options.schema);
  try {
    const ingestedAt = timestampTZValue(options.ingestedAtMicros);
    let seq = options.firstSeq;
    for (const row of options.rows) {
      appendRow(appender, row, seq);
      appender.appendTimestampTZ(ingestedAt);
      appender.appendBigInt(options.batchId);
      appender.endRow();
      seq += 1n;
    }
    appender.closeSync();
  } catch (error) {
    // Drop what is buffered so closing cannot flush half a batch; the caller's transaction rolls back.
    try {
      appender.clear();
      appender.closeSync();
    } catch {
      // Already closed or broken: the original error is the one to report.
    }
    throw error;
  }
}

/** The columns up to committed_at, in the table's order (see createBronzeTables). */
function appendRow(appender: DuckDBAppender, row: BronzeRow, seq: bigint): void {
  appender.appendBigInt(seq);
  appender.appendVarchar(row.change.id);
  appender.appendVarchar(row.change.source);
  appender.appendVarchar(row.change.table);
  appender.appendVarchar(row.change.op);
  appendJson(appender, row.key);
  appendJson(appender, row.before);
  appendJson(appender, row.after);
  appender.appendUBigInt(row.change.position);
  appender.appendTimestampTZ(timestampTZValue(row.committedAtMicros));
}

function appendJson(appender: DuckDBAppender, text: string | null): void {
  if (text === null) appender.appendNull();
  else appender.appendVarchar(text);
}
