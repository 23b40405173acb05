/**
 * One run, dbt `build` style: models in DAG order, each in its own transaction, each model's tests
 * as soon as the models they read are built. A failed model, or a failed error-severity test,
 * skips everything downstream of it; independent models still run.
 */
import type { Lakehouse } from '../lakehouse.ts';
import { descendantsOf } from './dag.ts';
import { type BuildContext, buildModel, skipModel } from './model-build.ts';
import type { Project, ProjectTest } from './project.ts';
import { createRelationResolver, type SchemaOf } from './references.ts';
import { recordRunEnded, recordRunStarted } from './run-log.ts';
import type { ModelRunResult, ModelRunStatus, RunResult, TestResult } from './run-result.ts';
import { executeTest, skippedTest } from './test-execution.ts';

/** Reported after each model, for a progress bar. */
export interface RunProgress {
  done: number;
  total: number;
  model: string;
  status: ModelRunStatus;
}

/** A run with its selection already resolved to models in build order. */
export interface RunPlan {
  lakehouse: Lakehouse;
  project: Project;
  runId: string;
  selection: string[];
  selected: string[];
  fullRefresh: boolean;
  schemaOf: SchemaOf;
  onProgress?: (progress: RunProgress) => void;
}

/** Runs the plan to the end and logs it; model and test failures are results, not exceptions. */
export async function executeRun(plan: RunPlan): Promise<RunResult> {
  const { run, context } = await startRun(plan);
  const state = createRunState(plan);
  for (const name of plan.selected) {
    const model = plan.project.models.get(name)!;
    const reason = state.blocked.get(name);
    const result =
      reason === undefined ? await buildModel(context, model) : await skipModel(context, model, reason);
    run.models.push(result);
    state.settle(result);
    reportProgress(plan, {
      done: run.models.length,
      total: plan.selected.length,
      model: name,
      status: result.status,
    });
    for (const test of state.takeReadyTests()) run.tests.push(await runTest(context, state, test));
  }
  run.status = hasFailed(run) ? 'failed' : 'success';
  run.endedAt = new Date().toISOString();
  await recordRunEnded(plan.lakehouse, run);
  return run;
}

async function startRun(plan: RunPlan): Promise<{ run: RunResult; context: BuildContext }> {
  const { lakehouse, project } = plan;
  const run: RunResult = {
    runId: plan.runId,
    status: 'running',
    startedAt: new Date().toISOString(),
    endedAt: null,
    selection: plan.selection,
    fullRefresh: plan.fullRefresh,
    models: [],
    tests: [],
  };
  await recordRunStarted(lakehouse, run);
  const resolver = createRelationResolver({
    layerOf: (name) => project.models.get(name)?.layer,
    schemaOf: plan.schemaOf,
  });
  const context: BuildContext = {
    lakehouse,
    runId: plan.runId,
    runStartedAt: run.startedAt,
    schemaOf: plan.schemaOf,
    resolver,
    fullRefresh: plan.fullRefresh,
  };
  return { run, context };
}

async function runTest(context: BuildContext, state: RunState, test: ProjectTest): Promise<TestResult> {
  const unbuilt = test.dependsOn.find(
    (name) => state.outcomes.has(name) && state.outcomes.get(name) !== 'success',
  );
  const result =
    unbuilt === undefined
      ? await executeTest(context.lakehouse, test, context.resolver)
      : skippedTest(test, `model "${unbuilt}" was not built in this run`);
  if (result.severity === 'error' && (result.status === 'fail' || result.status === 'error')) {
    for (const name of test.dependsOn) state.block(name, `test "${test.name}" failed on "${name}"`);
  }
  return result;
}

type RunState = ReturnType<typeof createRunState>;

/** Which models are settled, which are blocked (and why), and which tests still wait. */
function createRunState(plan: RunPlan) {
  const selected = new Set(plan.selected);
  const outcomes = new Map<string, ModelRunStatus>();
  const blocked = new Map<string, string>();
  // A test belongs to the run when it reads a selected model; a test reading none runs in full runs only.
  let waiting = plan.project.tests.filter((test) =>
    test.dependsOn.length === 0
      ? plan.selection.length === 0
      : test.dependsOn.some((name) => selected.has(name)),
  );
  const block = (name: string, reason: string) => {
    for (const descendant of descendantsOf(plan.project.graph, name)) {
      if (selected.has(descendant) && !outcomes.has(descendant) && !blocked.has(descendant)) {
        blocked.set(descendant, reason);
      }
    }
  };
  return {
    outcomes,
    blocked,
    block,
    settle(result: ModelRunResult) {
      outcomes.set(result.model, result.status);
      if (result.status === 'error') block(result.model, `upstream model "${result.model}" failed`);
    },
    takeReadyTests(): ProjectTest[] {
      const isReady = (test: ProjectTest) =>
        test.dependsOn.every((name) => !selected.has(name) || outcomes.has(name));
      const ready = waiting.filter(isReady);
      waiting = waiting.filter((test) => !isReady(test));
      return ready;
    },
  };
}

function hasFailed(run: RunResult): boolean {
  return (
    run.models.some((model) => model.status !== 'success') ||
    run.tests.some((test) => test.severity === 'error' && (test.status === 'fail' || test.status === 'error'))
  );
}

function reportProgress(plan: RunPlan, progress: RunProgress): void {
  try {
    plan.onProgress?.(progress);
  } catch {
    // A progress bar that throws must not stop the run.
  }
}
