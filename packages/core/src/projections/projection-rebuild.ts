import type { EventStore } from '../event-store/index.ts';
import type { GlobalCursor } from '../store/index.ts';
import type { Projection } from './projection.ts';
import { activateGeneration, applyEvents, createGeneration } from './read-model.ts';
import { DocumentCache } from './write-buffer.ts';

export interface RebuildProgress {
  processed: number;
  position: number;
  head: number;
}

/**
 * Replays the whole log into `generation`, then pauses the live loop, catches up past the
 * position it had applied, and swaps checkpoint and views in one transaction.
 */
export async function rebuildProjection(options: {
  eventStore: EventStore;
  projection: Projection;
  generation: number;
  batchSize: number;
  livePosition: () => number;
  pauseLive: () => Promise<() => void>;
  onSwapped: (cursor: GlobalCursor) => void;
  onProgress?: (progress: RebuildProgress) => void;
}): Promise<{ events: number; generation: number; position: number }> {
  const { eventStore, projection, generation } = options;
  const store = eventStore.store;
  await store.transaction((tx) => createGeneration(store, projection, tx, generation));

  // Only the rebuild writes to the fresh generation, so it knows every document in it.
  const knownDocuments = new DocumentCache();
  let cursor: GlobalCursor = { position: 0 };
  let processed = 0;
  let head = await store.events.headPosition();
  const catchUp = async (until: () => number) => {
    for (;;) {
      const batch = await eventStore.readAll(cursor, { limit: options.batchSize });
      if (batch.events.length > 0) {
        await store.transaction((tx) =>
          applyEvents(store, projection, tx, generation, batch.events, knownDocuments),
        );
        processed += batch.events.length;
      }
      cursor = batch.cursor;
      head = Math.max(head, cursor.position);
      options.onProgress?.({ processed, position: cursor.position, head });
      if (batch.events.length === 0 && cursor.position >= until()) return;
      // Held at a gap: give the unfinished transaction a moment instead of spinning.
      if (batch.events.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  await catchUp(() => 0);
  const resume = await options.pauseLive();
  try {
    // The live loop is parked: it will not apply more events to the old generation now.
    await catchUp(options.livePosition);
    await store.transaction(async (tx) => {
      await activateGeneration(projection, tx, generation);
      await store.checkpoints.save(tx, projection.name, { position: cursor.position, generation });
    });
    options.onSwapped(cursor);
  } finally {
    resume();
  }
  return { events: processed, generation, position: cursor.position };
}
