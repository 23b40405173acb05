/** Builds one model in its own transaction and logs the outcome; a failure leaves the target as it was. */
import type { Lakehouse } from '../lakehouse.ts';
import { targetOf } from './catalog.ts';
import { materialize } from './materialize.ts';
import type { ProjectModel } from './project.ts';
import type { RelationResolver, SchemaOf } from './references.ts';
import { recordModelRun, sqlTimestamp } from './run-log.ts';
import type { ModelRunResult } from './run-result.ts';

/** What every model build of one run shares. */
export interface BuildContext {
  lakehouse: Lakehouse;
  runId: string;
  runStartedAt: string;
  schemaOf: SchemaOf;
  resolver: RelationResolver;
  fullRefresh: boolean;
}

/**
 * Materializes the model and logs it in one transaction. If anything throws, that transaction
 * rolls back (the old table stays) and the error is logged in a transaction of its own. Never throws
 * for a model error; only a failure to write the log itself escapes.
 */
export async function buildModel(context: BuildContext, model: ProjectModel): Promise<ModelRunResult> {
  const startedAt = new Date().toISOString();
  let relation = `${model.layer}.${model.name}`;
  try {
    const target = targetOf(context.schemaOf(model.layer), model.name);
    relation = target.relation;
    return await context.lakehouse.transaction(async (session) => {
      const { rows } = await materialize({
        session,
        model,
        target,
        resolver: context.resolver,
        fullRefresh: context.fullRefresh,
        runTimestamp: sqlTimestamp(context.runStartedAt),
      });
      const result = outcome(model, { relation, startedAt, status: 'success', rows, error: null });
      await recordModelRun(session, context.runId, result);
      return result;
    });
  } catch (error) {
    const result = outcome(model, {
      relation,
      startedAt,
      status: 'error',
      rows: null,
      error: messageOf(error),
    });
    await logAlone(context, result);
    return result;
  }
}

/** Logs a model that was not built because something upstream failed. */
export async function skipModel(
  context: BuildContext,
  model: ProjectModel,
  reason: string,
): Promise<ModelRunResult> {
  const now = new Date().toISOString();
  let relation = `${model.layer}.${model.name}`;
  try {
    relation = targetOf(context.schemaOf(model.layer), model.name).relation;
  } catch {
    // schemaOf already failed for an upstream model; the log keeps the unmapped name.
  }
  const result = outcome(model, { relation, startedAt: now, status: 'skipped', rows: null, error: reason });
  await logAlone(context, result);
  return result;
}

function outcome(model: ProjectModel, fields: Omit<ModelRunResult, 'model' | 'endedAt'>): ModelRunResult {
  return { model: model.name, ...fields, endedAt: new Date().toISOString() };
}

async function logAlone(context: BuildContext, result: ModelRunResult): Promise<void> {
  await context.lakehouse.transaction((session) => recordModelRun(session, context.runId, result));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
