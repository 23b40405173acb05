/**
 * An incremental model's later runs: its SELECT (usually filtered by `is_incremental()`) is merged
 * into the existing table on the unique key. Rows whose key the SELECT does not return are not
 * touched, and neither are target columns the SELECT does not have.
 */
import type { LakehouseSession } from '../lakehouse.ts';
import { columnNamesOf, type Target } from './catalog.ts';
import { uniqueKeyColumns } from './model-definition.ts';
import type { ProjectModel } from './project.ts';
import { keysMatch, quoteIdentifier } from './sql-text.ts';
import { stageRows } from './staging.ts';

/**
 * Upserts the model's rows by key. DuckDB 1.5's `UPDATE SET *` / `INSERT *` match columns by
 * position and fail when the target has a column the SELECT lacks, so the columns are named.
 */
export async function mergeIncremental(request: {
  session: LakehouseSession;
  model: ProjectModel;
  target: Target;
  sql: string;
}): Promise<void> {
  const { session, model, target } = request;
  const staged = await stageRows(session, { model, sql: request.sql });
  const targetColumns = new Set(await columnNamesOf(session, target.relation));
  // A column the SELECT gained is ignored until a full refresh (dbt's on_schema_change: ignore).
  const columns = staged.columns.filter((column) => targetColumns.has(column));
  const keys = uniqueKeyColumns(model);
  const updated = columns.filter((column) => !keys.includes(column));
  const whenMatched =
    updated.length === 0
      ? ''
      : `WHEN MATCHED THEN UPDATE SET ${updated.map((c) => `${quoteIdentifier(c)} = source.${quoteIdentifier(c)}`).join(', ')}`;
  await session.run(
    `MERGE INTO ${target.relation} AS target USING ${staged.relation} AS source
     ON (${keysMatch('target', 'source', keys)})
     ${whenMatched}
     WHEN NOT MATCHED THEN INSERT (${columns.map(quoteIdentifier).join(', ')})
       VALUES (${columns.map((c) => `source.${quoteIdentifier(c)}`).join(', ')})`,
  );
  await staged.drop();
}
