/**
 * Turns a model's SELECT into its relation, inside the caller's transaction: if anything throws,
 * the caller rolls back and the target is as it was before the run.
 */
import type { LakehouseSession } from '../lakehouse.ts';
import {
  countRows,
  dropRelation,
  ensureSchema,
  type RelationKind,
  relationKindOf,
  type Target,
  targetOf,
} from './catalog.ts';
import { mergeIncremental } from './incremental.ts';
import type { ProjectModel } from './project.ts';
import type { RelationResolver } from './references.ts';
import { buildSnapshot, updateSnapshot } from './snapshot.ts';
import { quoteIdentifier } from './sql-text.ts';

/** Everything one model's build needs. */
export interface MaterializeRequest {
  session: LakehouseSession;
  model: ProjectModel;
  target: Target;
  resolver: RelationResolver;
  fullRefresh: boolean;
  /** The run's start, as `YYYY-MM-DD HH:MM:SS.mmm` UTC: the `valid_from` of check-snapshot versions. */
  runTimestamp: string;
}

/** `rows`: the rows in the target after the build (null for a view, which is not counted). */
export interface MaterializeOutcome {
  rows: number | null;
}

/** Builds the model into its target with its materialization; creates the schema if missing. */
export async function materialize(request: MaterializeRequest): Promise<MaterializeOutcome> {
  const { session, model, target } = request;
  await ensureSchema(session, target.schema);
  const existing = await relationKindOf(session, target);
  const isIncremental = model.materialized === 'incremental' && existing === 'table' && !request.fullRefresh;
  const sql = model.sql({ ...request.resolver, isIncremental, this: target.relation });
  switch (model.materialized) {
    case 'view':
      await replaceWithView(session, target, { sql, existing });
      return { rows: null };
    case 'table':
      await replaceTable(session, { target, existing }, (build) =>
        session.run(`CREATE TABLE ${build} AS ${sql}`),
      );
      break;
    case 'incremental':
      if (isIncremental) await mergeIncremental({ session, model, target, sql });
      else
        await replaceTable(session, { target, existing }, (build) =>
          session.run(`CREATE TABLE ${build} AS ${sql}`),
        );
      break;
    case 'snapshot':
      // As in dbt, a full refresh never rebuilds a snapshot: its history cannot be recomputed.
      if (existing === 'table') await updateSnapshot({ ...request, sql });
      else
        await replaceTable(session, { target, existing }, (build) =>
          buildSnapshot({ ...request, sql }, build),
        );
      break;
  }
  return { rows: await countRows(session, target.relation) };
}

async function replaceWithView(
  session: LakehouseSession,
  target: Target,
  view: { sql: string; existing: RelationKind },
): Promise<void> {
  if (view.existing === 'table') await dropRelation(session, target, 'table');
  await session.run(`CREATE OR REPLACE VIEW ${target.relation} AS ${view.sql}`);
}

/**
 * Builds a new table beside the target, then drops the target and renames the new one into its
 * place; in the caller's transaction, so readers see the old table or the new, never neither.
 */
async function replaceTable(
  session: LakehouseSession,
  replaced: { target: Target; existing: RelationKind },
  create: (buildRelation: string) => Promise<void>,
): Promise<void> {
  const { target } = replaced;
  const build = targetOf(target.schema, `${target.name}__causeway_build`);
  await dropRelation(session, build);
  await create(build.relation);
  await dropRelation(session, target, replaced.existing);
  await session.run(`ALTER TABLE ${build.relation} RENAME TO ${quoteIdentifier(target.name)}`);
}
