/**
 * Snapshots, SCD type 2 as dbt builds them: each version of a row carries `valid_from`,
 * `valid_to` (NULL while current), `is_current` and `scd_id` (a hash of the key and valid_from).
 * A new version is opened only when the row changed, so a re-run over the same source is a no-op;
 * a row gone from the source keeps its current version (dbt's `hard_deletes: ignore`).
 */
import { ValidationError } from '@causeway/core';
import { columnNamesOf } from './catalog.ts';
import type { MaterializeRequest } from './materialize.ts';
import { uniqueKeyColumns } from './model-definition.ts';
import { keysMatch, quoteIdentifier, quoteLiteral } from './sql-text.ts';
import { type StagedRows, stageRows } from './staging.ts';

/** The columns a snapshot adds to its source's. */
export const snapshotColumns = ['valid_from', 'valid_to', 'is_current', 'scd_id'] as const;

type SnapshotRequest = MaterializeRequest & { sql: string };

/** First build: every source row becomes its first, current version, into `buildRelation`. */
export async function buildSnapshot(request: SnapshotRequest, buildRelation: string): Promise<void> {
  const staged = await stageSnapshotRows(request);
  const validFrom = validFromOf(request, 'source');
  // CASE WHEN false ... gives a NULL of valid_from's own type (TIMESTAMP, TIMESTAMPTZ, ...).
  await request.session.run(
    `CREATE TABLE ${buildRelation} AS
     SELECT source.*, ${validFrom} AS valid_from, CASE WHEN false THEN ${validFrom} END AS valid_to,
            true AS is_current, ${scdIdOf(request, 'source', validFrom)} AS scd_id
     FROM ${staged.relation} AS source`,
  );
  await staged.drop();
}

/** Later runs: closes the current version of each changed row and opens its next one. */
export async function updateSnapshot(request: SnapshotRequest): Promise<void> {
  const { session, target } = request;
  const staged = await stageSnapshotRows(request);
  const keys = uniqueKeyColumns(request.model);
  await session.run(
    `CREATE OR REPLACE TEMP TABLE causeway_snapshot_changes AS
     SELECT source.*, ${validFromOf(request, 'source')} AS causeway_valid_from
     FROM ${staged.relation} AS source
     LEFT JOIN ${target.relation} AS current ON ${keysMatch('current', 'source', keys)} AND current.is_current
     WHERE current.scd_id IS NULL OR ${changedCondition(request)}`,
  );
  const changes = `temp.main.${quoteIdentifier('causeway_snapshot_changes')}`;
  await session.run(
    `UPDATE ${target.relation} AS target SET valid_to = changes.causeway_valid_from, is_current = false
     FROM ${changes} AS changes WHERE ${keysMatch('target', 'changes', keys)} AND target.is_current`,
  );
  const targetColumns = new Set(await columnNamesOf(session, target.relation));
  const columns = staged.columns.filter((column) => targetColumns.has(column)).map(quoteIdentifier);
  await session.run(
    `INSERT INTO ${target.relation} (${columns.join(', ')}, valid_from, valid_to, is_current, scd_id)
     SELECT ${columns.join(', ')}, causeway_valid_from, NULL, true,
            ${scdIdOf(request, 'changes', 'changes.causeway_valid_from')}
     FROM ${changes} AS changes`,
  );
  await session.run(`DROP TABLE ${changes}`);
  await staged.drop();
}

async function stageSnapshotRows(request: SnapshotRequest): Promise<StagedRows> {
  const staged = await stageRows(request.session, { model: request.model, sql: request.sql });
  const clashing = staged.columns.filter((column) => (snapshotColumns as readonly string[]).includes(column));
  if (clashing.length > 0) {
    throw new ValidationError(
      `Snapshot "${request.model.name}" selects ${clashing.join(', ')}, which the snapshot adds itself: rename or drop them`,
      clashing.map((column) => ({ path: column, message: 'reserved by snapshots' })),
      { model: request.model.name },
    );
  }
  return staged;
}

/** When a new version starts: the row's updatedAt (timestamp), or the run's start (check). */
function validFromOf(request: SnapshotRequest, alias: string): string {
  const strategy = request.model.snapshot!;
  if (strategy.strategy === 'timestamp') return `${alias}.${quoteIdentifier(strategy.updatedAt)}`;
  return `CAST(${quoteLiteral(request.runTimestamp)} AS TIMESTAMP)`;
}

/** True when the staged row differs from its current version by the model's strategy. */
function changedCondition(request: SnapshotRequest): string {
  const strategy = request.model.snapshot!;
  if (strategy.strategy === 'timestamp') {
    const updatedAt = quoteIdentifier(strategy.updatedAt);
    return `source.${updatedAt} > current.valid_from`;
  }
  return `(${strategy.checkCols
    .map((column) => `source.${quoteIdentifier(column)} IS DISTINCT FROM current.${quoteIdentifier(column)}`)
    .join(' OR ')})`;
}

function scdIdOf(request: SnapshotRequest, alias: string, validFrom: string): string {
  const parts = uniqueKeyColumns(request.model).map(
    (key) => `coalesce(CAST(${alias}.${quoteIdentifier(key)} AS VARCHAR), '')`,
  );
  return `md5(concat_ws('|', ${parts.join(', ')}, coalesce(CAST(${validFrom} AS VARCHAR), '')))`;
}
