/**
 * The model runner: builds a project's models into the lakehouse, runs their data tests, and
 * logs everything in `meta`. Runs are serialized: a second `run()` starts when the first ends.
 */
import { randomUUID } from 'node:crypto';
import { InvalidArgumentError } from '@causeway/core';
import type { Lakehouse } from '../lakehouse.ts';
import type { Project } from './project.ts';
import { layerAsSchema, type SchemaOf } from './references.ts';
import { executeRun, type RunProgress } from './run-execution.ts';
import { describeModels, readRun } from './run-history.ts';
import { pruneRunLog } from './run-log.ts';
import type { ModelDescription, RunResult } from './run-result.ts';
import { selectModels } from './selection.ts';

export interface ModelRunnerOptions {
  lakehouse: Lakehouse;
  project: Project;
  /** Where a layer's models (and a source's tables) live; default: the schema named after it. */
  schemaOf?: SchemaOf;
  /** Called after each model; for a CLI's progress bar. An exception it throws is ignored. */
  onProgress?: (progress: RunProgress) => void;
  /**
   * How many runs the log keeps in full (default 1,000); older ones are pruned as runs go on,
   * except each model's and test's latest result.
   */
  keepRuns?: number;
}

export interface RunOptions {
  /** dbt selectors (`orders`, `+orders`, `orders+`, `layer:gold`); none selects every model. */
  select?: readonly string[];
  /** Rebuilds incremental models from scratch (snapshots keep their history, as in dbt). */
  fullRefresh?: boolean;
  /** This run only: build into other schemas, e.g. a replay's `g2_silver`. */
  schemaOf?: SchemaOf;
  /** Default: a random UUID. */
  runId?: string;
}

/** Builds, tests and describes one project's models. */
export interface ModelRunner {
  /** Runs the selected models and their tests; throws only for a bad selection or an unwritable log. */
  run(options?: RunOptions): Promise<RunResult>;
  /** Every model with its latest logged run and test statuses, read without waiting for a run. */
  describe(): Promise<ModelDescription[]>;
  /** A run as logged, or null for an unknown id. */
  getRun(runId: string): Promise<RunResult | null>;
}

/** Creates a runner; the selection is checked when `run` is called, before anything is queued. */
export function createModelRunner(options: ModelRunnerOptions): ModelRunner {
  const { lakehouse, project } = options;
  const keepRuns = options.keepRuns ?? 1_000;
  if (!Number.isInteger(keepRuns) || keepRuns < 1)
    throw new InvalidArgumentError(
      'keepRuns',
      `keepRuns must be a whole number of at least 1, not ${keepRuns}`,
    );
  // Pruned every tenth of `keepRuns`: the log holds at most 1.1 × keepRuns runs, at a small cost per run.
  const pruneEvery = Math.max(1, Math.floor(keepRuns / 10));
  let runsSincePrune = 0;
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(runOptions = {}) {
      const selection = [...(runOptions.select ?? [])];
      let selected: string[];
      try {
        selected = selectModels(project, selection);
      } catch (error) {
        return Promise.reject(error);
      }
      const plan = {
        lakehouse,
        project,
        runId: runOptions.runId ?? randomUUID(),
        selection,
        selected,
        fullRefresh: runOptions.fullRefresh ?? false,
        schemaOf: runOptions.schemaOf ?? options.schemaOf ?? layerAsSchema,
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      };
      const result = tail.then(async () => {
        const run = await executeRun(plan);
        runsSincePrune += 1;
        if (runsSincePrune >= pruneEvery) {
          runsSincePrune = 0;
          await pruneRunLog(lakehouse, keepRuns);
        }
        return run;
      });
      tail = result.catch(() => undefined);
      return result;
    },
    describe: () => describeModels(lakehouse, project),
    getRun: (runId) => readRun(lakehouse, runId),
  };
}
