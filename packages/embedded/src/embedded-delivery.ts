import type { Delivery } from '@causeway/core';
import type { ClaimedMessage, PartitionKey } from './embedded-log.ts';

/** One delivery in flight in this process: settled once, by ack, retry or its ack timeout. */
export interface InFlightDelivery {
  readonly key: PartitionKey;
  readonly claimed: ClaimedMessage;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Gives back the subscription's slot: once the delivery settles or its ack timeout runs out. */
  readonly release: () => void;
}

export interface DeliverySettlers {
  ack(entry: InFlightDelivery): void;
  retry(entry: InFlightDelivery, delayMs: number): void;
}

/**
 * The Delivery handed to a handler. Only its first ack() or retry() counts: an ack after a retry
 * (or a second ack) must not move the cursor again.
 */
export function createDelivery(entry: InFlightDelivery, settlers: DeliverySettlers): Delivery {
  return {
    message: entry.claimed.message,
    attempt: entry.claimed.attempt,
    async ack() {
      settlers.ack(entry);
    },
    async retry(delayMs: number) {
      settlers.retry(entry, delayMs);
    },
  };
}

export function partitionId(key: { destination: string; partition: number }): string {
  return `${key.partition}:${key.destination}`;
}
