/**
 * The analytics service's pipeline: sources into bronze, the SQL models (silver, gold) run as
 * changes arrive, and what the HTTP answers read. Everything lives in one DuckDB file in the
 * shop's data directory, in the schemas of one generation (`g1_bronze`, `g1_silver`, `g1_gold`).
 */
import { fileURLToPath } from 'node:url';
import {
  type Bronze,
  createBronze,
  createModelRunner,
  type Lakehouse,
  loadSqlProject,
  type ModelRunner,
  type RunResult,
  type SchemaOf,
} from '@causeway/lakehouse';
import { createFreshness, type Freshness, type FreshnessReport } from './freshness.ts';
import { createRunScheduler, type RunScheduler } from './run-scheduler.ts';

/** The dbt-style project: `apps/shop/analytics` (the same path from `src/` and from `dist/`). */
export const analyticsProjectDirectory = fileURLToPath(new URL('../../../analytics/', import.meta.url));

export interface Generation {
  readonly number: number;
  readonly schemaOf: SchemaOf;
}

export function generation(number: number): Generation {
  return { number, schemaOf: (layer) => `g${number}_${layer}` };
}

export interface IngestionEvents {
  onIngested(source: string, appended: number): void;
  onCaughtUp(source: string): void;
  onBehind(source: string, behindMs: number): void;
}

export interface AnalyticsPipeline {
  readonly lakehouse: Lakehouse;
  readonly bronze: Bronze;
  readonly runner: ModelRunner;
  readonly generation: Generation;
  /** What sources call as they ingest; schedules a model run. */
  readonly ingestion: IngestionEvents;
  /** Runs every model now (after the run in progress), and answers its result. */
  runNow(options?: { runId?: string; onStarted?: () => void }): Promise<RunResult>;
  /**
   * Runs the models, then `work` before any other run starts: gold stays as that run left it
   * while `work` reads it (ingestion goes on into bronze).
   */
  afterRun<T>(work: (run: RunResult) => Promise<T>): Promise<T>;
  freshness(): Promise<FreshnessReport>;
  /** A gold relation of the live generation, quoted. */
  gold(name: string): string;
  /** Whether a model's relation exists yet in the live generation (the first run builds them). */
  isBuilt(model: string): Promise<boolean>;
  stop(): Promise<void>;
}

export interface AnalyticsPipelineOptions {
  lakehouse: Lakehouse;
  generation: Generation;
  /** The quiet time after a change before the models run, so a burst becomes one run. */
  debounceMs: number;
  /** The least time between the starts of two scheduled model runs (0: back to back). */
  runSpacingMs?: number;
  onRunSucceeded?(result: RunResult): void;
  onRunFailed(result: RunResult | null, error: unknown): void;
}

export async function openAnalyticsPipeline(options: AnalyticsPipelineOptions): Promise<AnalyticsPipeline> {
  const { lakehouse } = options;
  const { schemaOf } = options.generation;
  const bronze = createBronze({ lakehouse, schema: schemaOf('bronze') });
  await bronze.ensure();
  const project = await loadSqlProject(analyticsProjectDirectory);
  const runner = createModelRunner({ lakehouse, project, schemaOf });
  const freshness: Freshness = createFreshness({ lakehouse, changes: bronze.tables.changes });

  async function runModels(runId?: string): Promise<RunResult> {
    const covering = await freshness.bronzeHead();
    const result = await runner.run(runId === undefined ? {} : { runId });
    if (result.status === 'success') {
      freshness.covered(covering, result.endedAt ?? new Date().toISOString());
      options.onRunSucceeded?.(result);
    } else options.onRunFailed(result, null);
    return result;
  }

  const scheduler: RunScheduler = createRunScheduler({
    debounceMs: options.debounceMs,
    spacingMs: options.runSpacingMs,
    run: async () => {
      await runModels();
    },
    onError: (error) => options.onRunFailed(null, error),
  });

  return {
    lakehouse,
    bronze,
    runner,
    generation: options.generation,
    ingestion: {
      onIngested(source) {
        freshness.ingested(source);
        scheduler.request();
      },
      onCaughtUp: (source) => freshness.caughtUp(source),
      onBehind: (source, behindMs) => freshness.behind(source, behindMs),
    },
    runNow: (run = {}) =>
      scheduler.runNow(() => {
        run.onStarted?.();
        return runModels(run.runId);
      }),
    afterRun: (work) => scheduler.runNow(async () => work(await runModels())),
    freshness: () => freshness.report(),
    gold: (name) => `"${schemaOf('gold')}"."${name}"`,
    async isBuilt(model) {
      const layer = project.models.get(model)?.layer;
      if (layer === undefined) throw new Error(`The analytics project has no model ${model}`);
      const found = await lakehouse.all(
        'SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
        [schemaOf(layer), model],
      );
      return found.length > 0;
    },
    stop: () => scheduler.stop(),
  };
}
