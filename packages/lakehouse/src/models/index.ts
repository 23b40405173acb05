/** dbt-style SQL models on the lakehouse: definitions, the project and its DAG, the runner. */
export type { ModelTest, TestSeverity } from './data-tests.ts';
export {
  defineModel,
  defineSingularTest,
  type Materialization,
  type ModelContext,
  type ModelDefinition,
  type SingularTestDefinition,
  type SnapshotStrategy,
} from './model-definition.ts';
export {
  createModelRunner,
  type ModelRunner,
  type ModelRunnerOptions,
  type RunOptions,
} from './model-runner.ts';
export {
  createProject,
  type Project,
  type ProjectModel,
  type ProjectOptions,
  type ProjectTest,
} from './project.ts';
export { layerAsSchema, type RelationResolver, type SchemaOf } from './references.ts';
export type { RunProgress } from './run-execution.ts';
export type {
  ModelDescription,
  ModelRunResult,
  ModelRunStatus,
  RunResult,
  RunStatus,
  TestResult,
  TestStatus,
} from './run-result.ts';
export { selectModels } from './selection.ts';
export { snapshotColumns } from './snapshot.ts';
export { loadSqlProject } from './sql-project/load-sql-project.ts';
