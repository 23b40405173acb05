/** What a run reports, and what `meta` keeps of it. Times are ISO 8601 strings in UTC. */
import type { LakehouseRow } from '../lakehouse.ts';
import type { TestSeverity } from './data-tests.ts';
import type { Materialization } from './model-definition.ts';

/** `failed` when a model errored or an error-severity test failed or could not run. */
export type RunStatus = 'running' | 'success' | 'failed';
/** `skipped`: not built because something upstream failed (the reason is in `error`). */
export type ModelRunStatus = 'success' | 'error' | 'skipped';
/** `warn`: a warn-severity test found rows; `error`: the test's query itself failed. */
export type TestStatus = 'pass' | 'fail' | 'warn' | 'error' | 'skipped';

/** One model in one run. */
export interface ModelRunResult {
  model: string;
  /** The relation it was built into, e.g. `"g2_silver"."orders"`. */
  relation: string;
  status: ModelRunStatus;
  /** Rows in the target after the run (table, incremental, snapshot); null for views and unbuilt models. */
  rows: number | null;
  startedAt: string | null;
  endedAt: string | null;
  /** The error, or why the model was skipped; null on success. */
  error: string | null;
}

/** One data test in one run. */
export interface TestResult {
  test: string;
  /** The model the test is attached to; null for a singular test. */
  model: string | null;
  severity: TestSeverity;
  status: TestStatus;
  /** How many rows the test's query returned (null when it did not run). */
  failures: number | null;
  /** Up to five of the failing rows, so a reader sees what failed. */
  sample: LakehouseRow[];
  error: string | null;
}

/** A run as `run()` returns it and `getRun()` reads it back. */
export interface RunResult {
  runId: string;
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  /** The selectors given; empty means every model. */
  selection: string[];
  fullRefresh: boolean;
  models: ModelRunResult[];
  tests: TestResult[];
}

/** A model as `GET /analytics/models` shows it: its definition and its latest run and tests. */
export interface ModelDescription {
  name: string;
  layer: string;
  materialized: Materialization;
  description: string | null;
  tags: string[];
  dependsOn: string[];
  lastRun: {
    status: ModelRunStatus;
    rows: number | null;
    startedAt: string | null;
    endedAt: string | null;
  } | null;
  /** Each test of the model with its latest status (null when it never ran). */
  tests: { name: string; status: TestStatus | null }[];
}
