import type { Delivery, TransportMessage } from '@causeway/core';

/** One delivery as the test saw it: when it arrived, and when (if ever) the test acked it. */
export interface Received {
  readonly message: TransportMessage;
  readonly attempt: number;
  readonly receivedAt: number;
  ackedAt: number | null;
  /** True once the transport's ack() resolved. */
  ackSettled: boolean;
  readonly subscriber: string;
}

/** What a recorded handler does with a delivery; the default acks at once. */
export type Behavior = (delivery: Delivery, received: Received) => Promise<void> | void;

const ackAtOnce: Behavior = (delivery) => delivery.ack();

/**
 * Records every delivery to the handlers it makes, across subscribers and transport instances, and
 * checks live that no key has two unacked deliveries at once within a group (the per-key order
 * rule); violations are collected instead of thrown, since the transport would swallow a throw.
 */
export class DeliveryRecorder {
  readonly received: Received[] = [];
  readonly violations: string[] = [];
  readonly #unackedByKey = new Map<string, string>();

  handler(subscriber: string, behave: Behavior = ackAtOnce): (delivery: Delivery) => Promise<void> {
    return async (delivery) => {
      const received: Received = {
        message: delivery.message,
        attempt: delivery.attempt,
        receivedAt: performance.now(),
        ackedAt: null,
        ackSettled: false,
        subscriber,
      };
      this.received.push(received);
      const key = delivery.message.orderingKey;
      const holder = this.#unackedByKey.get(key);
      if (holder !== undefined && holder !== delivery.message.id) {
        this.violations.push(`${delivery.message.id} (key ${key}) delivered while ${holder} was unacked`);
      }
      this.#unackedByKey.set(key, delivery.message.id);
      await behave(this.#tracking(delivery, received), received);
    };
  }

  /** Deliveries that were acked, in ack order. */
  acked(): Received[] {
    return this.received.filter((entry) => entry.ackedAt !== null).sort((a, b) => a.ackedAt! - b.ackedAt!);
  }

  /** Deliveries whose ack() resolved: the transport holds the ack. */
  settled(): Received[] {
    return this.received.filter((entry) => entry.ackSettled);
  }

  /** Ids of the acked messages per ordering key, in ack order. */
  ackedIdsByKey(): Map<string, string[]> {
    const byKey = new Map<string, string[]>();
    for (const entry of this.acked()) {
      const ids = byKey.get(entry.message.orderingKey) ?? [];
      ids.push(entry.message.id);
      byKey.set(entry.message.orderingKey, ids);
    }
    return byKey;
  }

  of(messageId: string): Received[] {
    return this.received.filter((entry) => entry.message.id === messageId);
  }

  #tracking(delivery: Delivery, received: Received): Delivery {
    const release = (): void => {
      if (this.#unackedByKey.get(delivery.message.orderingKey) === delivery.message.id) {
        this.#unackedByKey.delete(delivery.message.orderingKey);
      }
    };
    return {
      message: delivery.message,
      attempt: delivery.attempt,
      ack: async () => {
        // Released before the ack, as a transport may deliver the successor before ack() resolves.
        release();
        received.ackedAt = performance.now();
        await delivery.ack();
        received.ackSettled = true;
      },
      retry: async (delayMs) => {
        release();
        await delivery.retry(delayMs);
      },
    };
  }
}
