/**
 * The live generation of the analytics layers, and Kappa replay: the next generation is built
 * from the sources' logs from their beginning, through the same ingestion and the same models as
 * live, into its own schemas; answers keep coming from the live one until the new one holds
 * everything the live one held when the replay began and its models ran clean, then the two swap.
 */
import { ConfigurationError } from '@causeway/core';
import type { Lakehouse, RunResult } from '@causeway/lakehouse';
import { ConflictError } from '../../platform/problem.ts';
import { type AnalyticsPipeline, generation, openAnalyticsPipeline } from './analytics-pipeline.ts';
import {
  addGeneration,
  dropGenerationSchemas,
  readGenerations,
  setGenerationState,
  swapGenerations,
} from './generation-records.ts';
import type { IngestMode } from './ingest-mode.ts';
import type { IngestionStarter, RunningIngestion } from './ingestion.ts';

export interface ReplayResult {
  generation: number;
  replaced: number;
  /** Changes the new generation's bronze holds. */
  changes: number;
  run: Pick<RunResult, 'runId' | 'status'>;
}

export interface Generations {
  live(): AnalyticsPipeline;
  replay(): Promise<ReplayResult>;
  stop(): Promise<void>;
}

export interface GenerationsOptions {
  lakehouse: Lakehouse;
  walAvailable: boolean;
  startIngestion: IngestionStarter;
  /** How long a replay may take to catch up with what the live generation held. */
  catchUpTimeoutMs: number;
  debounceMs: number;
  /** The least time between the starts of two scheduled model runs (0: back to back). */
  runSpacingMs?: number;
  /** A model run of the live generation succeeded (what follows gold, e.g. reverse ETL, runs now). */
  onLiveRunSucceeded?(run: RunResult): void;
  warn(message: string): void;
}

interface Running {
  pipeline: AnalyticsPipeline;
  ingestion: RunningIngestion;
}

export async function startGenerations(options: GenerationsOptions): Promise<Generations> {
  const { lakehouse } = options;
  const available: IngestMode = options.walAvailable ? 'wal' : 'event-log';
  const records = await readGenerations(lakehouse);
  // A replay a crash interrupted: its tables and slots are thrown away; a new replay starts over.
  for (const record of records.filter((each) => each.state === 'building')) {
    await options.startIngestion.discard(record.generation, record.ingest);
    await dropGenerationSchemas(lakehouse, record.generation);
    await setGenerationState(lakehouse, record.generation, 'retired');
  }
  let record = records.find((each) => each.state === 'live');
  if (!record) {
    record = { generation: 1, ingest: available, state: 'live' };
    await addGeneration(lakehouse, record);
  }
  if (record.ingest === 'wal' && available !== 'wal') {
    throw new ConfigurationError(
      `The analytics file was filled from the services' WAL, and PostgreSQL now runs without wal_level=logical: run ALTER SYSTEM SET wal_level = logical and restart the server, or POST /analytics/replay to fill it again from the event logs`,
      { reason: 'wal-level', path: lakehouse.path },
    );
  }
  let next = Math.max(record.generation, ...records.map((each) => each.generation)) + 1;
  // Read when a run ends, which may be before `live` is set: a replay's shadow runs models too, unseen.
  let liveNumber = record.generation;
  let live = await startRunning(record.generation, record.ingest);
  let replaying = false;

  function open(number: number): Promise<AnalyticsPipeline> {
    return openAnalyticsPipeline({
      lakehouse,
      generation: generation(number),
      debounceMs: options.debounceMs,
      runSpacingMs: options.runSpacingMs,
      onRunSucceeded: (run) => {
        if (liveNumber === number) options.onLiveRunSucceeded?.(run);
      },
      onRunFailed: (result, error) =>
        options.warn(
          `generation ${number}: model run ${result ? `${result.runId} ended ${result.status}` : `failed: ${String(error)}`}`,
        ),
    });
  }

  async function startRunning(number: number, mode: IngestMode): Promise<Running> {
    const pipeline = await open(number);
    const ingestion = await options.startIngestion.start(pipeline, mode);
    // What arrived before a restart and was not yet modelled.
    pipeline
      .runNow()
      .catch((error) => options.warn(`generation ${number}: first model run failed: ${String(error)}`));
    return { pipeline, ingestion };
  }

  async function retire(running: Running): Promise<void> {
    await running.ingestion.retire();
    await running.pipeline.stop();
    await dropGenerationSchemas(lakehouse, running.pipeline.generation.number);
  }

  async function replay(): Promise<ReplayResult> {
    const number = next++;
    await addGeneration(lakehouse, { generation: number, ingest: available, state: 'building' });
    const shadow = await startRunning(number, available);
    try {
      await caughtUp({
        lakehouse,
        live: live.pipeline,
        shadow: shadow.pipeline,
        timeoutMs: options.catchUpTimeoutMs,
      });
      const run = await shadow.pipeline.runNow();
      if (run.status !== 'success')
        throw new Error(`the rebuilt models' run ${run.runId} ended ${run.status}`);
      await swapGenerations(lakehouse, live.pipeline.generation.number, number);
      const replaced = live;
      live = shadow;
      liveNumber = number;
      await retire(replaced);
      const [{ changes } = { changes: 0 }] = await lakehouse.all<{ changes: number }>(
        `SELECT count(*) AS changes FROM ${shadow.pipeline.bronze.tables.changes}`,
      );
      return { generation: number, replaced: replaced.pipeline.generation.number, changes, run };
    } catch (error) {
      if (live !== shadow) {
        await retire(shadow).catch(() => undefined);
        await setGenerationState(lakehouse, number, 'retired');
      }
      throw error;
    }
  }

  return {
    live: () => live.pipeline,
    async replay() {
      if (replaying) throw new ConflictError('A replay is running already: wait for it to end');
      replaying = true;
      try {
        return await replay();
      } finally {
        replaying = false;
      }
    },
    async stop() {
      await live.ingestion.stop();
      await live.pipeline.stop();
    },
  };
}

/**
 * Waits until the shadow's bronze holds every change the live bronze held when the wait began:
 * the same event (by id) or the same row version of a table (by table and key), whatever position
 * either source gave it.
 */
async function caughtUp(options: {
  lakehouse: Lakehouse;
  live: AnalyticsPipeline;
  shadow: AnalyticsPipeline;
  timeoutMs: number;
}): Promise<void> {
  const identity = (alias: string) =>
    `${alias}.source, ${alias}.table_name, coalesce(${alias}.after->>'event_id', CAST(${alias}.key AS VARCHAR))`;
  const [{ head } = { head: 0 }] = await options.lakehouse.all<{ head: number | null }>(
    `SELECT coalesce(max(ingest_seq), 0) AS head FROM ${options.live.bronze.tables.changes}`,
  );
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const [{ missing } = { missing: 0 }] = await options.lakehouse.all<{ missing: number }>(
      `SELECT count(*) AS missing FROM (
         SELECT ${identity('l')} FROM ${options.live.bronze.tables.changes} l WHERE l.ingest_seq <= $1
         EXCEPT
         SELECT ${identity('s')} FROM ${options.shadow.bronze.tables.changes} s)`,
      [head],
    );
    if (missing === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the replay still lacks ${missing} of the changes the live generation held after ${options.timeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
