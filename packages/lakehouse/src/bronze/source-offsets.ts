/**
 * Each source's offset: how far bronze holds its changes. Written in the transaction that appends
 * the changes, so the offset never runs ahead of (or behind) the rows.
 */
import type { LakehouseSession } from '../lakehouse.ts';
import type { BronzeTables } from './bronze-tables.ts';
import { formatIsoMicros } from './bronze-values.ts';

export interface SourceOffset {
  readonly source: string;
  /** Every change of this source at or below it is in bronze. */
  readonly position: bigint;
  /** The source's own resume token, as it gave it with the batch; null when it gave none. */
  readonly cursor: string | null;
  /** How many changes of this source bronze holds. */
  readonly changes: number;
  /** ISO time of the last write. */
  readonly updatedAt: string;
}

interface OffsetRow {
  source: string;
  position: string;
  cursor: string | null;
  changes: number;
  updated_us: number | string;
}

/** The offsets of the given source (or of all sources), read through `session`. */
export async function readOffsets(
  session: LakehouseSession,
  query: { tables: BronzeTables; source?: string },
): Promise<SourceOffset[]> {
  // Positions go through VARCHAR: a UBIGINT past 2^53 would not survive a JavaScript number.
  const rows = await session.all<OffsetRow>(
    `SELECT source, position::VARCHAR AS position, cursor, changes, epoch_us(updated_at) AS updated_us
     FROM ${query.tables.sourceOffsets}
     ${query.source === undefined ? '' : 'WHERE source = $1'} ORDER BY source`,
    query.source === undefined ? [] : [query.source],
  );
  return rows.map((row) => ({
    source: row.source,
    position: BigInt(row.position),
    cursor: row.cursor,
    changes: Number(row.changes),
    updatedAt: formatIsoMicros(BigInt(row.updated_us)),
  }));
}

/** Sets the source's offset, adding `appended` to its count of changes. */
export async function writeOffset(
  session: LakehouseSession,
  offset: { tables: BronzeTables; source: string; position: bigint; cursor: string | null; appended: number },
): Promise<void> {
  await session.run(
    `INSERT INTO ${offset.tables.sourceOffsets} (source, position, cursor, changes, updated_at)
     VALUES ($1, $2::UBIGINT, $3, $4, now())
     ON CONFLICT (source) DO UPDATE SET position = excluded.position, cursor = excluded.cursor,
       changes = changes + excluded.changes, updated_at = excluded.updated_at`,
    [offset.source, offset.position.toString(), offset.cursor, offset.appended],
  );
}
