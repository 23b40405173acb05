/**
 * A model in dbt's sense: a SELECT that the runner materializes as a view or a table in its
 * layer's schema. Models name each other through `ctx.ref`, which is how the DAG is known.
 */
import type { ModelTest } from './data-tests.ts';

/** How a model's SELECT becomes a relation, with dbt's names. */
export type Materialization = 'view' | 'table' | 'incremental' | 'snapshot';

/** How a snapshot notices that a row changed (dbt's snapshot strategies). */
export type SnapshotStrategy =
  | { strategy: 'timestamp'; updatedAt: string }
  | { strategy: 'check'; checkCols: readonly string[] };

/** What a model's `sql` function receives; every relation name it returns is quoted and qualified. */
export interface ModelContext {
  /** Another model's relation, e.g. `"silver"."orders"`; also records the dependency. */
  ref(modelName: string): string;
  /** A table the runner does not build, e.g. `source('bronze', 'changes')` -> `"bronze"."changes"`. */
  source(sourceName: string, tableName: string): string;
  /** True when the target exists and this run is not a full refresh (incremental models only). */
  readonly isIncremental: boolean;
  /** The model's own relation. */
  readonly this: string;
}

/** A model as its author writes it; `createProject` checks it before anything runs. */
export interface ModelDefinition {
  name: string;
  /** The layer (e.g. `silver`, `gold`); the runner's `schemaOf(layer)` gives the schema. */
  layer: string;
  materialized: Materialization;
  /** Required for `incremental` and `snapshot`: the columns that identify a row. */
  uniqueKey?: string | readonly string[];
  /** Required for `snapshot`. */
  snapshot?: SnapshotStrategy;
  description?: string;
  /** dbt's tags: free labels, selected with `tag:<tag>` (the shop tags a model with its source domains). */
  tags?: readonly string[];
  tests?: readonly ModelTest[];
  sql: (ctx: ModelContext) => string;
}

/** A singular data test: a SELECT that passes when it returns no rows. */
export interface SingularTestDefinition {
  name: string;
  severity?: 'warn' | 'error';
  sql: (ctx: Omit<ModelContext, 'isIncremental' | 'this'>) => string;
}

/** Returns the definition unchanged, typed: the TypeScript way to declare a model. */
export function defineModel(definition: ModelDefinition): ModelDefinition {
  return definition;
}

/** Returns the singular test unchanged, typed. */
export function defineSingularTest(definition: SingularTestDefinition): SingularTestDefinition {
  return definition;
}

/** The unique key as a list (empty when the model has none). */
export function uniqueKeyColumns(model: Pick<ModelDefinition, 'uniqueKey'>): readonly string[] {
  if (model.uniqueKey === undefined) return [];
  return typeof model.uniqueKey === 'string' ? [model.uniqueKey] : model.uniqueKey;
}
