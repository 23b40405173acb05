import { describeError } from '../errors/describe-error.ts';
import { StoreFailureError, StoreUnavailableError } from '../errors/index.ts';
import type { EventStore } from '../event-store/index.ts';
import type { Message } from '../message/index.ts';
import type { GlobalCursor } from '../store/index.ts';
import type { Projection } from './projection.ts';
import { applyEvents } from './read-model.ts';

/** What a projection does with an event its handler keeps failing on. */
export type PoisonPolicy = 'skip' | 'halt';

/** Where a halted projection stopped: the event it could not apply and its dead letter. */
export interface HaltedAt {
  position: number;
  eventId: string;
  deadLetter: number;
  reason: string;
}

/** The dead-letter store's consumer name for an own-log projection. */
export const deadLetterConsumerOf = (projection: string) => `projection:${projection}`;

/** A store that cannot be reached fails every event alike: that is no reason to blame one. */
export function isStoreTrouble(error: unknown): boolean {
  return error instanceof StoreUnavailableError || error instanceof StoreFailureError;
}

/**
 * After a batch failed its attempts: applies its events one per transaction (each with the
 * checkpoint) up to the first that fails, and records that one in the dead-letter store with the
 * projection, its position and the error. With `skip` the checkpoint moves past it in the same
 * transaction; with `halt` it stays before it. Answers the poison event, or null when every event
 * applied alone (the batch failed for a reason that is gone).
 */
export async function isolatePoison(options: {
  eventStore: EventStore;
  projection: Projection;
  generation: number;
  cursor: GlobalCursor;
  batchSize: number;
  attempts: number;
  policy: PoisonPolicy;
  onApplied: (cursor: GlobalCursor, event: Message) => void;
}): Promise<{ event: Message; deadLetter: number; reason: string } | null> {
  const { eventStore, projection, generation } = options;
  const store = eventStore.store;
  const batch = await eventStore.readAll(options.cursor, { limit: options.batchSize });
  for (const event of batch.events) {
    const cursor = { position: event.globalPosition };
    try {
      await store.transaction(async (tx) => {
        await applyEvents(store, projection, tx, generation, [event]);
        await store.checkpoints.save(tx, projection.name, { position: cursor.position, generation });
      });
      options.onApplied(cursor, event);
    } catch (error) {
      if (isStoreTrouble(error)) throw error;
      const reason = `${describeError(error)} (projection ${projection.name}, position ${event.globalPosition})`;
      const deadLetter = await recordPoison({ ...options, event, reason });
      return { event, deadLetter, reason };
    }
  }
  return null;
}

async function recordPoison(options: {
  eventStore: EventStore;
  projection: Projection;
  generation: number;
  event: Message;
  reason: string;
  attempts: number;
  policy: PoisonPolicy;
}): Promise<number> {
  const { projection, event } = options;
  const store = options.eventStore.store;
  const consumer = deadLetterConsumerOf(projection.name);
  await store.transaction(async (tx) => {
    await store.deadLetters.put(tx, {
      consumer,
      messageId: event.id,
      orderingKey: event.streamId,
      message: event,
      reason: options.reason,
      attempts: options.attempts,
      status: 'dead',
    });
    if (options.policy === 'skip') {
      await store.checkpoints.save(tx, projection.name, {
        position: event.globalPosition,
        generation: options.generation,
      });
    }
  });
  // The key's open entries, not the whole store: the one just put is among them.
  const open = await store.deadLetters.openForKey(null, consumer, event.streamId);
  return open.find((each) => each.messageId === event.id)?.sequence ?? 0;
}
