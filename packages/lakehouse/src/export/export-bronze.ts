/**
 * Bronze as Parquet for readers outside this process (DuckDB lets no other process open the
 * file): zstd files in hive-style directories `source=<source>/ingestion_date=<YYYY-MM-DD>/`,
 * readable with DuckDB's `read_parquet` over every `.parquet` file below the directory with
 * `hive_partitioning = true` (which gives back the `source` column and adds `ingestion_date`).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CausewayError, StoreFailureError } from '@causeway/core';
import { bronzeTables } from '../bronze/bronze-tables.ts';
import { sqlString } from '../bronze/sql-text.ts';
import type { Lakehouse, LakehouseSession } from '../lakehouse.ts';
import { discard, replaceDirectory, temporaryNameFor } from './replace-atomically.ts';

export interface ExportBronzeOptions {
  readonly lakehouse: Lakehouse;
  /** The export's directory; what an earlier export left there is replaced. */
  readonly directory: string;
  /** The bronze schema (default `bronze`). */
  readonly schema?: string;
}

export interface BronzePartition {
  readonly source: string;
  /** UTC date of ingestion, `YYYY-MM-DD`. */
  readonly ingestionDate: string;
  readonly rows: number;
}

export interface BronzeExport {
  readonly directory: string;
  readonly rows: number;
  readonly partitions: readonly BronzePartition[];
}

/**
 * Writes every row of `<schema>.changes` as of one snapshot (the last commit) into a fresh directory,
 * then swaps it in for `directory`: a reader sees the whole earlier export or the whole new one.
 * Partitioned by source and UTC ingestion date only; finer partitions cost more than they save.
 */
export async function exportBronze(options: ExportBronzeOptions): Promise<BronzeExport> {
  const { changes } = bronzeTables(options.schema);
  const directory = resolve(options.directory);
  const written = temporaryNameFor(directory);
  try {
    // The swap runs inside the read so two exports of one process never interleave their renames.
    return await options.lakehouse.read(async (session) => {
      await mkdir(written, { recursive: true });
      const exported = await inOneSnapshot(session, () => copyPartitioned(session, { changes, written }));
      await replaceDirectory(written, directory);
      return { directory, ...exported };
    });
  } catch (error) {
    await discard(written);
    if (error instanceof CausewayError) throw error;
    throw new StoreFailureError(
      'DuckDB',
      `cannot export bronze to ${directory}: ${(error as Error).message}`,
      error,
    );
  }
}

async function copyPartitioned(
  session: LakehouseSession,
  target: { changes: string; written: string },
): Promise<{ rows: number; partitions: BronzePartition[] }> {
  // UTC, not the session's TimeZone: a partition's date must not depend on where the export ran.
  const withDate = `SELECT *, CAST(timezone('UTC', ingested_at) AS DATE) AS ingestion_date FROM ${target.changes}`;
  const [copied] = await session.all<{ Count: number }>(
    `COPY (${withDate}) TO ${sqlString(target.written)}
     (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (source, ingestion_date), OVERWRITE_OR_IGNORE)`,
  );
  const partitions = await session.all<{ source: string; ingestion_date: string; rows: number }>(
    `SELECT source, strftime(ingestion_date, '%Y-%m-%d') AS ingestion_date, count(*) AS rows
     FROM (${withDate}) GROUP BY ALL ORDER BY ALL`,
  );
  return {
    rows: Number(copied?.Count ?? 0),
    partitions: partitions.map((row) => ({
      source: row.source,
      ingestionDate: row.ingestion_date,
      rows: Number(row.rows),
    })),
  };
}

/** Runs `work` in a read transaction, so its statements see one snapshot. */
async function inOneSnapshot<T>(session: LakehouseSession, work: () => Promise<T>): Promise<T> {
  await session.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await session.run('COMMIT');
    return result;
  } catch (error) {
    await session.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
