import type { EventStore } from '../event-store/index.ts';
import type { Projection } from './projection.ts';
import { activateGeneration, applyEvents, createGeneration } from './read-model.ts';

/**
 * Applies a projection inside every append transaction: the read model is never behind the
 * events (strong consistency), at the price of a slower append. Inline projections are not
 * rebuilt live; run them once through a ProjectionRunner to rebuild.
 */
export async function registerInlineProjection(
  eventStore: EventStore,
  projection: Projection,
): Promise<void> {
  const store = eventStore.store;
  let generation = (await store.checkpoints.load(null, projection.name))?.generation;
  if (generation === undefined) {
    generation = 1;
    await store.transaction(async (tx) => {
      await createGeneration(store, projection, tx, 1);
      await activateGeneration(projection, tx, 1);
      await store.checkpoints.save(tx, projection.name, { position: 0, generation: 1 });
    });
  }
  const live = generation;
  eventStore.addInlineHandler((tx, events) => applyEvents(store, projection, tx, live, events));
}
