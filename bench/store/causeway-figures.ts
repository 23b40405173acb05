import { performance } from 'node:perf_hooks';
import {
  createProjectionRunner,
  type EventStore,
  type GlobalCursor,
  type Projection,
  type ProjectionRunner,
} from '@causeway/core';
import type { BenchOptions } from '../support/bench-options.ts';
import { type LatencySummary, measureLatency, measureThroughput, timeMs } from '../support/measure.ts';
import { startProgress } from '../support/progress.ts';
import { itemEvents, newStreamId } from './bench-events.ts';

/** Causeway's side of every store figure; backend-agnostic, given an EventStore. */

let eventCounter = 0;

/** Idle time before each latency sample. */
export const waitForPauseMs = 5;

/** Appends of `eventsPerAppend` events, each to a new stream with expectedVersion 'noStream' (events/s). */
export function measureAppends(
  eventStore: EventStore,
  options: BenchOptions & { label: string; concurrency: number; eventsPerAppend: number },
): Promise<number> {
  return measureThroughput(async () => {
    const events = itemEvents(eventCounter, options.eventsPerAppend);
    eventCounter += options.eventsPerAppend;
    await eventStore.appendToStream(newStreamId(), events, { expectedVersion: 'noStream' });
    return options.eventsPerAppend;
  }, options);
}

/** Seeds the log: streams of ten events, eight appenders at once (so group commit applies). */
export async function seedLog(eventStore: EventStore, total: number, label: string): Promise<void> {
  const perStream = 10;
  let appended = 0;
  const progress = startProgress(label, total, ' events');
  const appender = async () => {
    while (appended < total) {
      appended += perStream;
      await eventStore.appendToStream(newStreamId('seed'), itemEvents(eventCounter, perStream), {
        expectedVersion: 'noStream',
      });
      eventCounter += perStream;
      progress.update(appended);
    }
  };
  try {
    await Promise.all(Array.from({ length: 8 }, appender));
  } finally {
    progress.stop();
  }
}

/** Reads the whole log with readAll in batches of 1000 from position 0, over and over (events/s). */
export function measureCatchUp(
  eventStore: EventStore,
  options: BenchOptions & { label: string },
): Promise<number> {
  let cursor: GlobalCursor = { position: 0 };
  return measureThroughput(
    async () => {
      const batch = await eventStore.readAll(cursor, { limit: 1000 });
      // At the head: start over. A held cursor (a gap not yet proven final) keeps its place.
      cursor = batch.events.length === 0 && !batch.cursor.hold ? { position: 0 } : batch.cursor;
      return batch.events.length;
    },
    { ...options, concurrency: 1 },
  );
}

/**
 * `runner.rebuild(name)` over the whole log, repeated until the point's duration is spent; the
 * first rebuild only warms up when there is time for more (events/s of the measured ones).
 */
export async function measureRebuild(
  runner: ProjectionRunner,
  projection: Projection,
  options: BenchOptions & { label: string; logSize: number },
): Promise<number> {
  const rebuildOnce = async (label: string) => {
    const progress = startProgress(label, options.logSize, ' events');
    const start = performance.now();
    try {
      const result = await runner.rebuild(projection.name, {
        onProgress: ({ processed }) => progress.update(processed),
      });
      return { events: result.events, ms: performance.now() - start };
    } finally {
      progress.stop();
    }
  };
  const warmup = await rebuildOnce(`${options.label} (warm-up)`);
  if (warmup.ms > options.durationMs) return warmup.events / (warmup.ms / 1000);
  let events = 0;
  let ms = 0;
  while (ms < options.durationMs) {
    const run = await rebuildOnce(options.label);
    events += run.events;
    ms += run.ms;
  }
  return events / (ms / 1000);
}

/** Idle read-your-writes: append one event, then time until `waitFor` sees it applied. */
export function measureWaitFor(
  eventStore: EventStore,
  runner: ProjectionRunner,
  projection: Projection,
  options: BenchOptions & { label: string },
): Promise<LatencySummary> {
  return measureLatency(
    async () => {
      const { consistencyToken } = await eventStore.appendToStream(
        newStreamId('wait'),
        itemEvents(eventCounter++, 1),
        {
          expectedVersion: 'noStream',
        },
      );
      return timeMs(() => runner.waitFor(projection.name, consistencyToken, { timeoutMs: 5000 }));
    },
    { label: options.label, samples: options.latencySamples, pauseMs: waitForPauseMs },
  );
}

/**
 * A projection started from the first event of a log of `logSize` events, applied live (batches
 * of the own log, each with its checkpoint), until it reaches the head: events/s.
 */
export async function measureLiveCatchUp(
  eventStore: EventStore,
  projection: Projection,
  options: BenchOptions & { label: string; logSize: number },
): Promise<number> {
  const runner = createProjectionRunner({ eventStore, projections: [projection] });
  const progress = startProgress(options.label, options.logSize, ' events');
  const start = performance.now();
  await runner.start();
  try {
    for (;;) {
      const { position } = await runner.status(projection.name);
      progress.update(position);
      if (position >= options.logSize) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return options.logSize / ((performance.now() - start) / 1000);
  } finally {
    progress.stop();
    await runner.stop();
  }
}
