/**
 * A checked project: models with their dependencies found, tests attached, the DAG ordered.
 * `createProject` refuses a broken project up front, before anything touches the lakehouse.
 */
import { ConfigurationError } from '@causeway/core';
import { type DependencyGraph, findCycle, topologicalOrder } from './dag.ts';
import { failingRowsSql, type TestSeverity, testNameOf, testReferences } from './data-tests.ts';
import type { ModelDefinition, SingularTestDefinition } from './model-definition.ts';
import { findReferences, type RelationResolver } from './references.ts';
import { validateModelConfig } from './validate-model.ts';

/** A model with what the project learned about it. */
export interface ProjectModel extends ModelDefinition {
  /** The models it refs, sorted. */
  readonly dependsOn: readonly string[];
  /** The source tables it reads, as `source.table`, sorted. */
  readonly sources: readonly string[];
}

/** A data test ready to run: generic (attached to a model) or singular (`model` null). */
export interface ProjectTest {
  readonly name: string;
  readonly model: string | null;
  readonly severity: TestSeverity;
  /** Every model the test reads; it runs once they are all built. */
  readonly dependsOn: readonly string[];
  failingRowsSql(resolver: RelationResolver): string;
}

/** The value both `defineModel` lists and SQL-file projects become. */
export interface Project {
  readonly models: ReadonlyMap<string, ProjectModel>;
  readonly graph: DependencyGraph;
  /** Topological order, ties by name. */
  readonly order: readonly string[];
  readonly tests: readonly ProjectTest[];
}

export interface ProjectOptions {
  singularTests?: readonly SingularTestDefinition[];
}

/** Builds and checks a project; throws ConfigurationError naming the model at the first problem. */
export function createProject(models: readonly ModelDefinition[], options: ProjectOptions = {}): Project {
  const byName = new Map<string, ProjectModel>();
  for (const model of models) {
    if (byName.has(model.name)) {
      throw new ConfigurationError(`Two models are named "${model.name}": rename one of them`, {
        model: model.name,
      });
    }
    validateModelConfig(model);
    byName.set(model.name, withReferences(model));
  }
  for (const model of byName.values()) checkRefsExist(`Model "${model.name}"`, model.dependsOn, byName);
  const graph = new Map([...byName.values()].map((model) => [model.name, model.dependsOn]));
  const cycle = findCycle(graph);
  if (cycle !== null) {
    throw new ConfigurationError(
      `The models form a cycle: ${cycle.join(' -> ')}; a model cannot depend on itself through its refs`,
      { cycle },
    );
  }
  const tests = [...genericTests(byName), ...singularTests(options.singularTests ?? [], byName)];
  checkTestNamesUnique(tests);
  return { models: byName, graph, order: topologicalOrder(graph), tests };
}

function withReferences(model: ModelDefinition): ProjectModel {
  const found = findReferences(`Model "${model.name}"`, (ctx) => [
    model.sql({ ...ctx, isIncremental: false, this: '"this"' }),
    model.sql({ ...ctx, isIncremental: true, this: '"this"' }),
  ]);
  return { ...model, dependsOn: found.refs, sources: found.sources };
}

function checkRefsExist(owner: string, refs: readonly string[], models: ReadonlyMap<string, unknown>): void {
  for (const ref of refs) {
    if (models.has(ref)) continue;
    throw new ConfigurationError(
      `${owner} refs "${ref}", which is not a model of the project: fix the name or add the model (known: ${[...models.keys()].sort().join(', ') || 'none'})`,
      { owner, ref },
    );
  }
}

function genericTests(models: ReadonlyMap<string, ProjectModel>): ProjectTest[] {
  return [...models.values()].flatMap((model) =>
    (model.tests ?? []).map((test): ProjectTest => {
      const name = testNameOf(model.name, test);
      const references = testReferences(test);
      checkRefsExist(`Test "${name}" of model "${model.name}"`, references, models);
      return {
        name,
        model: model.name,
        severity: test.severity ?? 'error',
        dependsOn: [...new Set([model.name, ...references])].sort(),
        failingRowsSql: (resolver) =>
          failingRowsSql(test, { relation: resolver.ref(model.name), relationOf: resolver.ref }),
      };
    }),
  );
}

function singularTests(
  definitions: readonly SingularTestDefinition[],
  models: ReadonlyMap<string, ProjectModel>,
): ProjectTest[] {
  return definitions.map((definition) => {
    const found = findReferences(`Test "${definition.name}"`, (ctx) => [definition.sql(ctx)]);
    checkRefsExist(`Test "${definition.name}"`, found.refs, models);
    return {
      name: definition.name,
      model: null,
      severity: definition.severity ?? 'error',
      dependsOn: found.refs,
      failingRowsSql: (resolver) => definition.sql(resolver),
    };
  });
}

function checkTestNamesUnique(tests: readonly ProjectTest[]): void {
  const seen = new Set<string>();
  for (const test of tests) {
    if (seen.has(test.name)) {
      throw new ConfigurationError(
        `Two data tests are named "${test.name}": remove the duplicate or give one a name`,
        { test: test.name },
      );
    }
    seen.add(test.name);
  }
}
