/**
 * Bronze: the raw, immutable layer. Each source's changes are appended as they came, with the
 * source's offset in the same DuckDB transaction, so a crash keeps both or neither and a source
 * that resumes from `offsetOf(source)` loses nothing and duplicates nothing.
 */
import { CausewayError, StoreFailureError } from '@causeway/core';
import { listValue } from '@duckdb/node-api';
import type { Lakehouse, LakehouseSession } from '../lakehouse.ts';
import { appendChanges, toBronzeRows } from './append-changes.ts';
import { type BronzeBatch, validateBatch } from './bronze-change.ts';
import { type BronzeTables, bronzeTables, createBronzeTables } from './bronze-tables.ts';
import { readOffsets, type SourceOffset, writeOffset } from './source-offsets.ts';

export interface BronzeOptions {
  readonly lakehouse: Lakehouse;
  /** The schema holding bronze's tables (default `bronze`; a replay uses a shadow such as `g2_bronze`). */
  readonly schema?: string;
}

export interface IngestResult {
  /** Changes written by this call. */
  readonly appended: number;
  /** Changes at or below the stored offset: already in bronze from an earlier delivery. */
  readonly skipped: number;
  /** The batch_id of the appended rows; null when nothing was appended. */
  readonly batchId: number | null;
}

export interface Bronze {
  readonly tables: BronzeTables;
  /** Creates the schema and tables when missing. Idempotent; the other methods call it first. */
  ensure(): Promise<void>;
  /**
   * Appends the batch's changes above the source's stored offset and moves the offset to the
   * batch's position, in one transaction. Acknowledge the batch to the source only after this resolves.
   * A whole commit must be in one batch: its changes share a position, and a redelivered position is
   * skipped entirely. Bad input throws InvalidArgumentError and writes nothing.
   */
  ingest(batch: BronzeBatch): Promise<IngestResult>;
  /** The source's committed offset (where to resume), or null before its first batch. */
  offsetOf(source: string): Promise<SourceOffset | null>;
  /** Every source's committed offset, by source name. */
  offsets(): Promise<SourceOffset[]>;
}

/** Bronze in `schema` of the lakehouse; writes go through the lakehouse's single write connection. */
export function createBronze(options: BronzeOptions): Bronze {
  const { lakehouse } = options;
  const tables = bronzeTables(options.schema);
  let ensured: Promise<void> | undefined;

  function ensure(): Promise<void> {
    ensured ??= lakehouse.transaction((session) => createBronzeTables(session, tables));
    ensured.catch(() => {
      ensured = undefined; // let a later call try again
    });
    return ensured;
  }

  return {
    tables,
    ensure,
    async ingest(batch) {
      const committedMicros = validateBatch(batch);
      const rows = toBronzeRows(batch.changes, committedMicros);
      await ensure();
      return storeErrors(`ingest a batch of ${batch.source}`, () =>
        lakehouse.transaction((session) => ingestBatch(session, { tables, batch, rows })),
      );
    },
    async offsetOf(source) {
      await ensure();
      const [offset] = await lakehouse.read((session) => readOffsets(session, { tables, source }));
      return offset ?? null;
    },
    async offsets() {
      await ensure();
      return lakehouse.read((session) => readOffsets(session, { tables }));
    },
  };
}

async function ingestBatch(
  session: LakehouseSession,
  work: { tables: BronzeTables; batch: BronzeBatch; rows: ReturnType<typeof toBronzeRows> },
): Promise<IngestResult> {
  const { tables, batch } = work;
  const [stored] = await readOffsets(session, { tables, source: batch.source });
  const floor = stored?.position ?? -1n;
  // Positions never decrease in a batch (validateBatch), so the delivered-before part is a prefix.
  const fresh =
    batch.dedupe === 'id'
      ? await notHeldYet(session, { tables, batch, rows: work.rows })
      : work.rows.filter((row) => row.change.position > floor);
  const skipped = work.rows.length - fresh.length;
  let batchId: number | null = null;
  if (fresh.length > 0) {
    const next = await nextNumbers(session, tables);
    await appendChanges(session, {
      schema: tables.schema,
      rows: fresh,
      firstSeq: next.seq,
      batchId: next.batchId,
      ingestedAtMicros: BigInt(Date.now()) * 1000n,
    });
    batchId = Number(next.batchId);
  }
  // The offset only moves forward: a stale redelivery leaves it (and the cursor) as they are.
  if (batch.position > floor) {
    await writeOffset(session, {
      tables,
      source: batch.source,
      position: batch.position,
      cursor: batch.cursor ?? null,
      appended: fresh.length,
    });
  }
  return { appended: fresh.length, skipped, batchId };
}

/** The rows whose change id this source has not delivered before. */
async function notHeldYet<Row extends { change: { id: string } }>(
  session: LakehouseSession,
  work: { tables: BronzeTables; batch: BronzeBatch; rows: readonly Row[] },
): Promise<Row[]> {
  if (work.rows.length === 0) return [];
  const held = await session.all<{ change_id: string }>(
    `SELECT change_id FROM ${work.tables.changes} WHERE source = $1 AND list_contains($2::VARCHAR[], change_id)`,
    [work.batch.source, listValue(work.rows.map((row) => row.change.id))],
  );
  const ids = new Set(held.map((row) => row.change_id));
  return work.rows.filter((row) => !ids.has(row.change.id));
}

/** The next ingest_seq and batch_id. Safe without a sequence: one writer, inside its transaction. */
async function nextNumbers(
  session: LakehouseSession,
  tables: BronzeTables,
): Promise<{ seq: bigint; batchId: bigint }> {
  const [row] = await session.all<{ seq: string; batch: string }>(
    `SELECT (coalesce(max(ingest_seq), 0) + 1)::VARCHAR AS seq, (coalesce(max(batch_id), 0) + 1)::VARCHAR AS batch
     FROM ${tables.changes}`,
  );
  return { seq: BigInt(row!.seq), batchId: BigInt(row!.batch) };
}

/** DuckDB's own errors leave as StoreFailureError; Causeway's (a closed lakehouse) pass as they are. */
async function storeErrors<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof CausewayError) throw error;
    throw new StoreFailureError('DuckDB', `cannot ${what}: ${(error as Error).message}`, error);
  }
}
