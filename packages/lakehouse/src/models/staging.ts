/**
 * Incremental models and snapshots first stage the model's rows in a temporary table: the SELECT
 * runs once, its columns are known, and its unique key is checked before the target is touched.
 */
import { ValidationError } from '@causeway/core';
import type { LakehouseSession } from '../lakehouse.ts';
import { columnNamesOf } from './catalog.ts';
import { type ModelDefinition, uniqueKeyColumns } from './model-definition.ts';
import { quoteIdentifier } from './sql-text.ts';

/** The staged rows of one model; `drop` removes the temporary table. */
export interface StagedRows {
  readonly relation: string;
  readonly columns: readonly string[];
  drop(): Promise<void>;
}

/** One staging table per connection is enough: the write connection builds one model at a time. */
const stageRelation = `temp.main.${quoteIdentifier('causeway_stage')}`;

/** Runs the SELECT into a temporary table; refuses rows without the key columns or with a key twice. */
export async function stageRows(
  session: LakehouseSession,
  staged: { model: ModelDefinition; sql: string },
): Promise<StagedRows> {
  await session.run(`CREATE OR REPLACE TEMP TABLE causeway_stage AS ${staged.sql}`);
  const columns = await columnNamesOf(session, stageRelation);
  const keys = uniqueKeyColumns(staged.model);
  const missing = keys.filter((key) => !columns.includes(key));
  if (missing.length > 0) {
    throw new ValidationError(
      `Model "${staged.model.name}" selects no column ${missing.join(', ')} of its uniqueKey: select it, or fix the uniqueKey`,
      missing.map((key) => ({ path: key, message: 'unique key column not selected' })),
      { model: staged.model.name },
    );
  }
  await refuseDuplicateKeys(session, staged.model.name, keys);
  return { relation: stageRelation, columns, drop: () => session.run(`DROP TABLE ${stageRelation}`) };
}

async function refuseDuplicateKeys(
  session: LakehouseSession,
  modelName: string,
  keys: readonly string[],
): Promise<void> {
  const keyList = keys.map(quoteIdentifier).join(', ');
  const duplicates = await session.all(
    `SELECT ${keyList}, count(*) AS copies FROM ${stageRelation} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 3`,
  );
  if (duplicates.length === 0) return;
  // MERGE would insert a new key twice and update a matched one with an arbitrary copy: refuse instead.
  throw new ValidationError(
    `Model "${modelName}" returns its uniqueKey (${keys.join(', ')}) more than once, e.g. ${JSON.stringify(duplicates[0])}: deduplicate the SELECT (QUALIFY row_number() ...)`,
    [{ path: keys.join(','), message: 'duplicate unique key' }],
    { model: modelName, duplicates },
  );
}
