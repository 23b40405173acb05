/** The checks on one model's configuration that `createProject` runs before anything else. */
import { ConfigurationError } from '@causeway/core';
import { type ModelDefinition, uniqueKeyColumns } from './model-definition.ts';

const materializations = new Set(['view', 'table', 'incremental', 'snapshot']);

/** Throws ConfigurationError naming the model and the setting when its configuration cannot run. */
export function validateModelConfig(model: ModelDefinition): void {
  const refuse = (problem: string) => {
    throw new ConfigurationError(`Model "${model.name}" ${problem}`, { model: model.name });
  };
  if (!model.name) throw new ConfigurationError('A model has no name: give each model a name');
  if (!model.layer) refuse('has no layer: set layer (e.g. silver or gold)');
  if (!materializations.has(model.materialized)) {
    refuse(`has materialized '${model.materialized}': use view, table, incremental or snapshot`);
  }
  const keyed = model.materialized === 'incremental' || model.materialized === 'snapshot';
  if (keyed && uniqueKeyColumns(model).length === 0) {
    refuse(`is ${model.materialized} but has no uniqueKey: name the column(s) that identify a row`);
  }
  if (model.materialized === 'snapshot') validateSnapshot(model, refuse);
  else if (model.snapshot !== undefined)
    refuse('has a snapshot strategy but is not materialized as a snapshot');
}

function validateSnapshot(model: ModelDefinition, refuse: (problem: string) => never): void {
  const snapshot = model.snapshot;
  if (snapshot === undefined) {
    refuse(
      "is a snapshot without a strategy: set snapshot { strategy: 'timestamp', updatedAt } or { strategy: 'check', checkCols }",
    );
    return;
  }
  if (snapshot.strategy === 'timestamp' && !snapshot.updatedAt) {
    refuse(
      "uses the snapshot strategy 'timestamp' without updatedAt: name the column that says when a row changed",
    );
  }
  if (snapshot.strategy === 'check' && (snapshot.checkCols?.length ?? 0) === 0) {
    refuse(
      "uses the snapshot strategy 'check' without checkCols: list the columns whose change makes a new version",
    );
  }
  if (snapshot.strategy !== 'timestamp' && snapshot.strategy !== 'check') {
    refuse(
      `has the snapshot strategy '${(snapshot as { strategy: string }).strategy}': use timestamp or check`,
    );
  }
}
