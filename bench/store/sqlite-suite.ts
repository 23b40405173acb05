import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore, createProjectionRunner, type EventStore } from '@causeway/core';
import { createSqliteStore } from '@causeway/sqlite';
import type { BenchOptions } from '../support/bench-options.ts';
import { measureLatency, measureThroughput, timeMs } from '../support/measure.ts';
import { note } from '../support/progress.ts';
import { type Figure, figure } from '../support/report.ts';
import { benchRegistry } from './bench-events.ts';
import {
  batchedRowsProjection,
  eventRowsProjection,
  liveDocumentsProjection,
  streamDocumentsProjection,
} from './bench-projections.ts';
import {
  measureAppends,
  measureCatchUp,
  measureLiveCatchUp,
  measureRebuild,
  measureWaitFor,
  seedLog,
  waitForPauseMs,
} from './causeway-figures.ts';
import { createSqliteBaseline } from './sqlite-baseline.ts';

type SqliteBaseline = ReturnType<typeof createSqliteBaseline>;

/** Causeway's default; BENCH_SQLITE_SYNCHRONOUS=FULL measures both sides in FULL instead. */
const synchronous = process.env.BENCH_SQLITE_SYNCHRONOUS === 'FULL' ? 'FULL' : 'NORMAL';

async function appendFigures(eventStore: EventStore, baseline: SqliteBaseline, options: BenchOptions) {
  const figures: Figure[] = [];
  for (const concurrency of [1, 8]) {
    const point = { ...options, concurrency, eventsPerAppend: 1 };
    const raw = await measureThroughput(() => baseline.insertOne(), {
      ...point,
      label: `sqlite raw insert c${concurrency}`,
    });
    const value = await measureAppends(eventStore, { ...point, label: `sqlite append c${concurrency}` });
    figures.push(
      figure({
        name: `sqlite.append.c${concurrency}`,
        value,
        unit: 'events/s',
        baseline: raw,
        baselineLabel: `1-row INSERT tx/s into an equivalent events table, ${concurrency} loop${concurrency === 1 ? '' : 's'}, synchronous=${synchronous}`,
        target: { on: 'ratio', atLeast: 0.8 },
      }),
    );
  }
  const point = { ...options, concurrency: 1, eventsPerAppend: 100 };
  const raw = await measureThroughput(() => baseline.insertHundred(), {
    ...point,
    label: 'sqlite raw insert 100 rows',
  });
  const value = await measureAppends(eventStore, { ...point, label: 'sqlite append 100 events' });
  figures.push(
    figure({
      name: 'sqlite.append_batch100',
      value,
      unit: 'events/s',
      baseline: raw,
      baselineLabel: '100-row INSERT into an equivalent events table, rows/s',
    }),
  );
  return figures;
}

async function readFigures(eventStore: EventStore, baseline: SqliteBaseline, options: BenchOptions) {
  await seedLog(eventStore, options.seedEvents, 'sqlite seed');
  const logSize = await eventStore.store.events.headPosition();
  note(`sqlite: the log holds ${logSize} events`);
  const single = { ...options, concurrency: 1 };
  const rawRead = await measureThroughput(() => baseline.readNextPage(), {
    ...single,
    label: 'sqlite raw page reads',
  });
  const catchUp = await measureCatchUp(eventStore, { ...options, label: 'sqlite readAll catch-up' });
  const rawProject = await measureThroughput(() => baseline.projectNextPage(), {
    ...single,
    label: 'sqlite raw projection',
  });
  const projections = [streamDocumentsProjection, eventRowsProjection, batchedRowsProjection];
  const runner = createProjectionRunner({ eventStore, projections });
  const rebuilt: number[] = [];
  for (const projection of projections) {
    rebuilt.push(
      await measureRebuild(runner, projection, {
        ...options,
        logSize,
        label: `sqlite rebuild ${projection.name}`,
      }),
    );
  }
  const live = await measureLiveCatchUp(eventStore, liveDocumentsProjection, {
    ...options,
    logSize,
    label: 'sqlite live projection from the first event',
  });
  const rebuildBaseline = {
    unit: 'events/s',
    baseline: rawProject,
    baselineLabel: 'hand-written: page of 1000 + row INSERTs + checkpoint per tx',
  };
  return [
    figure({
      name: 'sqlite.catchup',
      value: catchUp,
      unit: 'events/s',
      baseline: rawRead,
      baselineLabel: 'keyset SELECT, pages of 1000',
    }),
    figure({ name: 'sqlite.rebuild', value: rebuilt[0]!, ...rebuildBaseline }),
    figure({ name: 'sqlite.rebuild_rows', value: rebuilt[1]!, ...rebuildBaseline }),
    figure({ name: 'sqlite.rebuild_batched', value: rebuilt[2]!, ...rebuildBaseline }),
    figure({ name: 'sqlite.projection_live', value: live, ...rebuildBaseline }),
  ];
}

async function waitForFigures(eventStore: EventStore, baseline: SqliteBaseline, options: BenchOptions) {
  const latency = { samples: options.latencySamples, pauseMs: waitForPauseMs };
  const selectOne = await measureLatency(() => timeMs(() => baseline.selectOne()), {
    ...latency,
    label: 'sqlite SELECT 1',
  });
  const runner = createProjectionRunner({ eventStore, projections: [streamDocumentsProjection] });
  await runner.start();
  let waitFor: Awaited<ReturnType<typeof measureWaitFor>>;
  try {
    waitFor = await measureWaitFor(eventStore, runner, streamDocumentsProjection, {
      ...options,
      label: 'sqlite waitFor',
    });
  } finally {
    await runner.stop();
  }
  const baselineLabel = 'SELECT 1 on a prepared statement, same sampling';
  return [
    figure({
      name: 'sqlite.waitfor.p50',
      value: waitFor.p50,
      unit: 'ms',
      baseline: selectOne.p50,
      baselineLabel,
    }),
    figure({
      name: 'sqlite.waitfor.p99',
      value: waitFor.p99,
      unit: 'ms',
      baseline: selectOne.p99,
      baselineLabel,
      target: { on: 'value', atMost: 50 },
    }),
  ];
}

/** SQLite figures, on fresh files in a temporary directory that is removed at the end. */
export async function runSqliteBench(options: BenchOptions): Promise<Figure[]> {
  const directory = mkdtempSync(join(tmpdir(), 'cw-bench-'));
  note(`sqlite: bench files in ${directory}, synchronous=${synchronous}`);
  // Append figures write to one file; the read figures get a log of exactly `seedEvents` in another.
  const appendStore = await createSqliteStore({ filename: join(directory, 'append.db'), synchronous });
  const logFile = join(directory, 'log.db');
  const logStore = await createSqliteStore({ filename: logFile, synchronous });
  const baseline = createSqliteBaseline({
    filename: join(directory, 'raw.db'),
    eventsFile: logFile,
    synchronous,
  });
  try {
    const appendEvents = createEventStore({ store: appendStore, registry: benchRegistry });
    const logEvents = createEventStore({ store: logStore, registry: benchRegistry });
    return [
      ...(await appendFigures(appendEvents, baseline, options)),
      ...(await readFigures(logEvents, baseline, options)),
      ...(await waitForFigures(logEvents, baseline, options)),
    ];
  } finally {
    await baseline.close();
    await logStore.close();
    await appendStore.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
