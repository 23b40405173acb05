import type { Message } from '../message/index.ts';
import type { Store, Transaction } from '../store/index.ts';
import { applySourcedEvents, type SourcedEvent } from './apply-batch.ts';
import type { Projection } from './projection.ts';
import type { SourceHistory } from './projection-source.ts';
import { createGeneration } from './read-model.ts';
import { DocumentCache } from './write-buffer.ts';

export interface RebuildProgress {
  /** Events replayed so far. */
  processed: number;
  /** Events the sources held when the rebuild started (more may arrive before it ends). */
  total: number;
  /** Position reached in the own log (0 without one), and that log's head. */
  position: number;
  head: number;
}

/** A source as a rebuild replays it. */
export interface ReplaySource {
  name: string;
  subscribed: boolean;
  history: SourceHistory;
  /** Where the replay must reach once live delivery is paused. */
  finalTarget(): Promise<number>;
}

interface Reader {
  source: ReplaySource;
  cursor: string | null;
  position: number;
  buffer: Message[];
  target: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const retryMs = 1_000;

/**
 * Another service's history may be out of reach for a while: the replay cannot go on without it,
 * so it asks again every second, saying why it waits, until it answers or the runner stops.
 */
function patiently(options: { onWaiting?: (reason: string | null) => void; isStopping?: () => boolean }) {
  return async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        const result = await work();
        options.onWaiting?.(null);
        return result;
      } catch (error) {
        if (options.isStopping?.()) throw error;
        options.onWaiting?.(`${what}: ${error instanceof Error ? error.message : String(error)}; retrying`);
        await pause(retryMs);
      }
    }
  };
}

/**
 * Replays every source from its first event into `generation`, merged by time across sources (a
 * user forgotten after their orders stays forgotten), while live delivery goes on into the old
 * generation. Then it pauses live delivery, replays up to where each source is now, and swaps
 * generation and checkpoint in one transaction (`swap`). A crash before the swap leaves the old
 * generation live and whole; the next rebuild starts again from the first event.
 */
export async function rebuildProjection(options: {
  store: Store;
  projection: Projection;
  generation: number;
  sources: readonly ReplaySource[];
  batchSize: number;
  /** Stops live writes to the old generation; resolves to the function that lets them go on. */
  pauseLive: () => Promise<() => void>;
  /** Points readers and checkpoint at the new generation, in the transaction given. */
  swap: (tx: Transaction, ownLogPosition: number) => Promise<void>;
  onSwapped: (ownLogPosition: number) => void;
  onProgress?: (progress: RebuildProgress) => unknown;
  /** Why the replay waits for a source that does not answer, and null once it answers. */
  onWaiting?: (reason: string | null) => void;
  isStopping?: () => boolean;
}): Promise<{ events: number; generation: number; position: number }> {
  const { store, projection, generation } = options;
  const retrying = patiently(options);
  await store.transaction((tx) => createGeneration(store, projection, tx, generation));
  // Only the rebuild writes to the fresh generation, so it knows every document in it.
  const knownDocuments = new DocumentCache();
  const readers: Reader[] = [];
  let total = 0;
  for (const source of options.sources) {
    const stats = await retrying(`${source.name} statistics`, () => source.history.stats(0));
    total += stats.count;
    readers.push({ source, cursor: null, position: 0, buffer: [], target: stats.head });
  }
  const own = readers.find((reader) => !reader.source.subscribed);
  let processed = 0;
  const report = () =>
    options.onProgress?.({
      processed,
      total: Math.max(total, processed),
      position: own?.position ?? 0,
      head: Math.max(own?.target ?? 0, own?.position ?? 0),
    });

  const replayToTargets = async () => {
    for (;;) {
      await fillBuffers(readers, options.batchSize, retrying);
      if (readers.every(isExhausted)) return;
      const batch = takeInTimeOrder(readers, options.batchSize);
      if (batch.length === 0) continue;
      await store.transaction((tx) =>
        applySourcedEvents({ store, projection, tx, generation, events: batch, knownDocuments }),
      );
      processed += batch.length;
      await report();
    }
  };

  await replayToTargets();
  const resume = await options.pauseLive();
  try {
    // Live delivery is parked: nothing more reaches the old generation now.
    for (const reader of readers) {
      const target = await retrying(`${reader.source.name} head`, () => reader.source.finalTarget());
      reader.target = Math.max(reader.target, target);
    }
    await replayToTargets();
    const position = own?.position ?? 0;
    await store.transaction((tx) => options.swap(tx, position));
    options.onSwapped(position);
    await report();
    return { events: processed, generation, position };
  } finally {
    resume();
  }
}

const isExhausted = (reader: Reader) => reader.buffer.length === 0 && reader.position >= reader.target;

/** Reads a page for each source whose buffer ran dry and that has not reached its target. */
async function fillBuffers(
  readers: readonly Reader[],
  limit: number,
  retrying: ReturnType<typeof patiently>,
) {
  for (const reader of readers) {
    if (reader.buffer.length > 0 || isExhausted(reader)) continue;
    const from = { after: reader.position, cursor: reader.cursor };
    const page = await retrying(reader.source.name, () => reader.source.history.read(from, limit));
    const wanted = page.events.filter((event) => event.globalPosition <= reader.target);
    reader.buffer.push(...wanted);
    if (wanted.length < page.events.length) {
      // Read past the target: what lies beyond comes live (or in the final catch-up), read again then.
      reader.position = reader.target;
      reader.cursor = null;
    } else {
      reader.position = page.position;
      reader.cursor = page.cursor;
    }
    // Nothing below the target yet: a gap that is not final holds it; give it a moment.
    if (page.events.length === 0 && reader.position < reader.target) await pause(20);
  }
}

/**
 * The earliest events across the buffers, while every source that may still have events has some
 * buffered: taking past an empty one could apply a later event before an earlier one.
 */
function takeInTimeOrder(readers: readonly Reader[], limit: number): SourcedEvent[] {
  const batch: SourcedEvent[] = [];
  while (batch.length < limit) {
    const live = readers.filter((reader) => !isExhausted(reader));
    if (live.length === 0 || live.some((reader) => reader.buffer.length === 0)) break;
    const earliest = live.reduce((best, each) =>
      each.buffer[0]!.occurredAt < best.buffer[0]!.occurredAt ? each : best,
    );
    const event = earliest.buffer.shift()!;
    batch.push({ source: earliest.source.name, subscribed: earliest.source.subscribed, event });
  }
  return batch;
}
