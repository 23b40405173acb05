/**
 * A short stream (one order's payments, shipment, or the order itself) read whole with its
 * version, and an event appended right after that version: a concurrent writer makes the append
 * fail (ConcurrencyError) instead of interleaving, and the consumer retries the message.
 */
import type { AppendOptions, EventStore, Message, Transaction } from '@causeway/core';

export async function readStreamAt(
  eventStore: EventStore,
  streamId: string,
  tx: Transaction | null,
): Promise<{ events: Message[]; version: number }> {
  const events = await eventStore.readStream(streamId, { tx });
  return { events, version: events.length };
}

export function appendAt(
  eventStore: EventStore,
  streamId: string,
  version: number,
  event: { type: string; data: unknown },
  options: Omit<AppendOptions, 'expectedVersion'> & { tx: Transaction },
) {
  return eventStore.appendToStream(streamId, [event], {
    ...options,
    expectedVersion: version === 0 ? 'noStream' : version,
  });
}
