/**
 * One table (or view) to one zstd-compressed Parquet file: the sharing surface of a gold table or an
 * output port. The file appears whole or not at all.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CausewayError, StoreFailureError } from '@causeway/core';
import { quoteRelation, sqlString } from '../bronze/sql-text.ts';
import type { Lakehouse } from '../lakehouse.ts';
import { discard, replaceFile, temporaryNameFor } from './replace-atomically.ts';

export interface ExportTableOptions {
  readonly lakehouse: Lakehouse;
  /** `table`, `schema.table` or `catalog.schema.table`, each part a plain SQL name. */
  readonly relation: string;
  /** The Parquet file to write (its directory is created); an existing file is replaced. */
  readonly file: string;
}

export interface TableExport {
  readonly file: string;
  readonly rows: number;
}

/**
 * Writes the relation's last committed state (read on the read connection, so ingest is not held
 * up) to a temporary file and renames it over `file`. On failure the old file is left as it was.
 */
export async function exportTable(options: ExportTableOptions): Promise<TableExport> {
  const relation = quoteRelation(options.relation);
  const file = resolve(options.file);
  await mkdir(dirname(file), { recursive: true });
  const written = temporaryNameFor(file);
  try {
    const rows = await options.lakehouse.read(async (session) => {
      const [result] = await session.all<{ Count: number }>(
        `COPY (SELECT * FROM ${relation}) TO ${sqlString(written)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      return Number(result?.Count ?? 0);
    });
    await replaceFile(written, file);
    return { file, rows };
  } catch (error) {
    await discard(written);
    if (error instanceof CausewayError) throw error;
    throw new StoreFailureError(
      'DuckDB',
      `cannot export ${options.relation} to ${file}: ${(error as Error).message}`,
      error,
    );
  }
}
