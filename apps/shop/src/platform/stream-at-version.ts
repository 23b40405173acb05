/**
 * A short stream (one order's payments, shipment, or the order itself) read whole with its
 * version, and an event appended right after that version: a concurrent writer makes the append
 * fail (ConcurrencyError) instead of interleaving, and the consumer retries the message.
 */
import type {
  AnyEventDefinition,
  AppendOptions,
  EventStore,
  MessageOf,
  NewMessageOf,
  Transaction,
} from '@causeway/core';

/** The whole stream (readStream pages through it) and the version its last event is at. */
export async function readStreamAt<Definition extends AnyEventDefinition>(
  eventStore: EventStore<Definition>,
  streamId: string,
  tx: Transaction | null,
): Promise<{ events: MessageOf<Definition>[]; version: number }> {
  const events = await eventStore.readStream(streamId, { tx });
  return { events, version: events.at(-1)?.streamPosition ?? 0 };
}

export function appendAt<Definition extends AnyEventDefinition>(
  eventStore: EventStore<Definition>,
  streamId: string,
  version: number,
  event: NewMessageOf<Definition>,
  options: Omit<AppendOptions, 'expectedVersion'> & { tx: Transaction },
) {
  return eventStore.appendToStream(streamId, [event], {
    ...options,
    expectedVersion: version === 0 ? 'noStream' : version,
  });
}
