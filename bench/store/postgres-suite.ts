import { createEventStore, createProjectionRunner, type EventStore } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
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
import {
  createPostgresBaseline,
  createPostgresBaselineTables,
  type PostgresBaseline,
} from './postgres-baseline.ts';
import { createBenchDatabase } from './postgres-bench-database.ts';

/** Append figures write to `appendSchema`; the read figures get a log of exactly `seedEvents` in `logSchema`. */
const appendSchema = 'causeway';
const logSchema = 'causeway_log';
const appendTargets: Record<number, number> = { 1: 0.8, 8: 0.8, 32: 1.0 };

/** The pool size of both sides of a point: one connection per appender, at least the default 10. */
const poolSizeFor = (concurrency: number) => Math.max(concurrency, 10);

async function withBaseline<T>(
  url: string,
  poolSize: number,
  use: (baseline: PostgresBaseline) => Promise<T>,
) {
  const baseline = createPostgresBaseline({
    connectionString: url,
    poolSize,
    eventsTable: `${logSchema}.events`,
  });
  try {
    return await use(baseline);
  } finally {
    await baseline.close();
  }
}

async function withEventStore<T>(
  url: string,
  options: { schema: string; poolSize: number },
  use: (eventStore: EventStore) => Promise<T>,
) {
  const store = await createPostgresStore({ connectionString: url, ...options });
  try {
    return await use(createEventStore({ store, registry: benchRegistry }));
  } finally {
    await store.close();
  }
}

async function appendFigures(url: string, options: BenchOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const concurrency of [1, 8, 32]) {
    const poolSize = poolSizeFor(concurrency);
    const point = { ...options, concurrency, eventsPerAppend: 1 };
    const raw = await withBaseline(url, poolSize, (baseline) =>
      measureThroughput(() => baseline.insertOne(), {
        ...point,
        label: `postgres raw insert c${concurrency}`,
      }),
    );
    const value = await withEventStore(url, { schema: appendSchema, poolSize }, (eventStore) =>
      measureAppends(eventStore, { ...point, label: `postgres append c${concurrency}` }),
    );
    figures.push(
      figure({
        name: `postgres.append.c${concurrency}`,
        value,
        unit: 'events/s',
        baseline: raw,
        baselineLabel: `1-row INSERT tx/s into an equivalent events table, ${concurrency} loop${concurrency === 1 ? '' : 's'}, pool ${poolSize}`,
        target: { on: 'ratio', atLeast: appendTargets[concurrency]! },
      }),
    );
  }
  const point = { ...options, concurrency: 1, eventsPerAppend: 100 };
  const raw = await withBaseline(url, 10, (baseline) =>
    measureThroughput(() => baseline.insertMany(100), { ...point, label: 'postgres raw insert 100 rows' }),
  );
  const value = await withEventStore(url, { schema: appendSchema, poolSize: 10 }, (eventStore) =>
    measureAppends(eventStore, { ...point, label: 'postgres append 100 events' }),
  );
  figures.push(
    figure({
      name: 'postgres.append_batch100',
      value,
      unit: 'events/s',
      baseline: raw,
      baselineLabel: '100-row INSERT into an equivalent events table, rows/s',
    }),
  );
  return figures;
}

async function readFigures(url: string, options: BenchOptions): Promise<Figure[]> {
  return withEventStore(url, { schema: logSchema, poolSize: 10 }, async (eventStore) => {
    await seedLog(eventStore, options.seedEvents, 'postgres seed');
    const logSize = await eventStore.store.events.headPosition();
    note(`postgres: the log holds ${logSize} events`);
    const rawRead = await withBaseline(url, 10, (baseline) =>
      measureThroughput(() => baseline.readNextPage(), {
        ...options,
        concurrency: 1,
        label: 'postgres raw page reads',
      }),
    );
    const catchUp = await measureCatchUp(eventStore, { ...options, label: 'postgres readAll catch-up' });
    const rawProject = await withBaseline(url, 10, (baseline) =>
      measureThroughput(() => baseline.projectNextPage(), {
        ...options,
        concurrency: 1,
        label: 'postgres raw projection',
      }),
    );
    const projections = [streamDocumentsProjection, eventRowsProjection, batchedRowsProjection];
    const runner = createProjectionRunner({ eventStore, projections });
    const rebuilt: number[] = [];
    for (const projection of projections) {
      rebuilt.push(
        await measureRebuild(runner, projection, {
          ...options,
          logSize,
          label: `postgres rebuild ${projection.name}`,
        }),
      );
    }
    const live = await measureLiveCatchUp(eventStore, liveDocumentsProjection, {
      ...options,
      logSize,
      label: 'postgres live projection from the first event',
    });
    const rebuildBaseline = {
      unit: 'events/s',
      baseline: rawProject,
      baselineLabel: 'hand-written: page of 1000 + unnest INSERT + checkpoint per tx',
    } as const;
    // The target is for a rebuild as users write projections (documents); the row variants
    // show what a one-INSERT-per-event handler costs, and what `context.insert` buys back.
    const rebuildTarget = { target: { on: 'value', atLeast: 60_000 } } as const;
    return [
      figure({
        name: 'postgres.catchup',
        value: catchUp,
        unit: 'events/s',
        baseline: rawRead,
        baselineLabel: 'pg keyset SELECT, pages of 1000',
      }),
      figure({ name: 'postgres.rebuild', value: rebuilt[0]!, ...rebuildBaseline, ...rebuildTarget }),
      figure({ name: 'postgres.rebuild_rows', value: rebuilt[1]!, ...rebuildBaseline }),
      figure({ name: 'postgres.rebuild_batched', value: rebuilt[2]!, ...rebuildBaseline }),
      figure({ name: 'postgres.projection_live', value: live, ...rebuildBaseline }),
    ];
  });
}

async function waitForFigures(url: string, options: BenchOptions): Promise<Figure[]> {
  const selectOne = await withBaseline(url, 10, (baseline) =>
    measureLatency(() => timeMs(() => baseline.selectOne()), {
      label: 'postgres SELECT 1',
      samples: options.latencySamples,
      pauseMs: waitForPauseMs,
    }),
  );
  const waitFor = await withEventStore(url, { schema: logSchema, poolSize: 10 }, async (eventStore) => {
    const runner = createProjectionRunner({ eventStore, projections: [streamDocumentsProjection] });
    await runner.start();
    try {
      return await measureWaitFor(eventStore, runner, streamDocumentsProjection, {
        ...options,
        label: 'postgres waitFor',
      });
    } finally {
      await runner.stop();
    }
  });
  const baselineLabel = 'SELECT 1 round trip, same sampling';
  return [
    figure({
      name: 'postgres.waitfor.p50',
      value: waitFor.p50,
      unit: 'ms',
      baseline: selectOne.p50,
      baselineLabel,
    }),
    figure({
      name: 'postgres.waitfor.p99',
      value: waitFor.p99,
      unit: 'ms',
      baseline: selectOne.p99,
      baselineLabel,
      target: { on: 'value', atMost: 50 },
    }),
  ];
}

/** PostgreSQL figures, in a database of their own that is dropped at the end. */
export async function runPostgresBench(options: BenchOptions): Promise<Figure[]> {
  const database = await createBenchDatabase();
  note(`postgres: bench database ${database.name}`);
  try {
    await createPostgresBaselineTables(database.url);
    return [
      ...(await appendFigures(database.url, options)),
      ...(await readFigures(database.url, options)),
      ...(await waitForFigures(database.url, options)),
    ];
  } finally {
    await database.drop();
  }
}
