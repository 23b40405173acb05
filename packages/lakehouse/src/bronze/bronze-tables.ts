/**
 * Bronze's three tables in one schema (`bronze`, or a shadow such as `g2_bronze` for a replay):
 * `changes` (append only), `source_offsets` (one row per source) and `rejected` (changes a model
 * held out, with the reason).
 */
import type { LakehouseSession } from '../lakehouse.ts';
import { checkName, quoteName } from './sql-text.ts';

/** Quoted relation names of one bronze schema, for SQL text (models, exports, tests). */
export interface BronzeTables {
  readonly schema: string;
  readonly changes: string;
  readonly sourceOffsets: string;
  readonly rejected: string;
}

/** The relations of bronze schema `schema` (default `bronze`); refuses a name that is not plain. */
export function bronzeTables(schema = 'bronze'): BronzeTables {
  const quoted = quoteName(checkName('schema', schema));
  return {
    schema,
    changes: `${quoted}.changes`,
    sourceOffsets: `${quoted}.source_offsets`,
    rejected: `${quoted}.rejected`,
  };
}

/** The columns of `changes`, in the appender's order (also for tables that hold bronze rows by hand). */
export const changesColumns = `(
    ingest_seq BIGINT NOT NULL,
    change_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    op VARCHAR NOT NULL,
    key JSON,
    before JSON,
    after JSON,
    position UBIGINT NOT NULL,
    committed_at TIMESTAMPTZ NOT NULL,
    ingested_at TIMESTAMPTZ NOT NULL,
    batch_id BIGINT NOT NULL
  )`;

/**
 * Creates the schema and its tables when missing; changes nothing that exists. The column order of
 * `changes` is the appender's: keep appendChanges in step with it.
 */
export async function createBronzeTables(session: LakehouseSession, tables: BronzeTables): Promise<void> {
  await session.run(`CREATE SCHEMA IF NOT EXISTS ${quoteName(tables.schema)}`);
  // No primary key on changes: an ART index would slow the appender and hold memory for every row;
  // redeliveries are caught by position against source_offsets instead.
  await session.run(`CREATE TABLE IF NOT EXISTS ${tables.changes} ${changesColumns}`);
  await session.run(`CREATE TABLE IF NOT EXISTS ${tables.sourceOffsets} (
    source VARCHAR PRIMARY KEY,
    position UBIGINT NOT NULL,
    cursor VARCHAR,
    changes BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
  )`);
  // One row per (change, model): a model that runs again records the same rejection once.
  await session.run(`CREATE TABLE IF NOT EXISTS ${tables.rejected} (
    change_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    detected_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (change_id, model)
  )`);
}
