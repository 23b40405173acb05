/** What the runner asks DuckDB about relations: whether one exists, of which kind, with which columns. */
import type { LakehouseSession } from '../lakehouse.ts';
import { qualifiedName, quoteIdentifier } from './sql-text.ts';

/** A relation's kind in DuckDB's catalog, or null when nothing of that name exists. */
export type RelationKind = 'table' | 'view' | null;

/** Where a model lives: its schema and name, and the quoted `"schema"."name"`. */
export interface Target {
  readonly schema: string;
  readonly name: string;
  readonly relation: string;
}

/** The target of `name` in `schema`. */
export function targetOf(schema: string, name: string): Target {
  return { schema, name, relation: qualifiedName(schema, name) };
}

/**
 * Looks the relation up in the current database (temporary tables are not considered). From
 * DuckDB's own catalog functions: information_schema's view over them costs about 2.5× as much,
 * and a run asks once per model.
 */
export async function relationKindOf(session: LakehouseSession, target: Target): Promise<RelationKind> {
  const rows = await session.all<{ kind: 'table' | 'view' }>(
    `SELECT 'table' AS kind FROM duckdb_tables()
       WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2
     UNION ALL
     SELECT 'view' FROM duckdb_views()
       WHERE database_name = current_database() AND schema_name = $1 AND view_name = $2`,
    [target.schema, target.name],
  );
  return rows[0]?.kind ?? null;
}

/** The column names of any relation or subquery, in order, without reading a row. */
export async function columnNamesOf(session: LakehouseSession, relation: string): Promise<string[]> {
  const reader = await session.connection.runAndReadAll(`SELECT * FROM ${relation} LIMIT 0`);
  return reader.columnNames();
}

/** Creates the schema unless it exists (inside the caller's transaction). */
export async function ensureSchema(session: LakehouseSession, schema: string): Promise<void> {
  await session.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
}

/**
 * Drops whatever the target is (table or view); a no-op when it does not exist. A caller that
 * has just looked the kind up passes it.
 */
export async function dropRelation(
  session: LakehouseSession,
  target: Target,
  known?: RelationKind,
): Promise<void> {
  const kind = known === undefined ? await relationKindOf(session, target) : known;
  if (kind === 'view') await session.run(`DROP VIEW ${target.relation}`);
  if (kind === 'table') await session.run(`DROP TABLE ${target.relation}`);
}

/** The number of rows in a table. */
export async function countRows(session: LakehouseSession, relation: string): Promise<number> {
  const [row] = await session.all<{ n: number }>(`SELECT count(*) AS n FROM ${relation}`);
  return Number(row?.n ?? 0);
}
