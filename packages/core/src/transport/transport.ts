import type { MessageId } from '../message/index.ts';

/** A message on the wire: what an outbox row carries. */
export interface TransportMessage {
  id: MessageId;
  /** Logical topic, e.g. `orders.events` or `inventory.commands`. */
  destination: string;
  /** Messages with the same key are delivered in publish order within a consumer group. */
  orderingKey: string;
  type: string;
  /** JSON-serializable: the envelope of an event, command or reply. */
  payload: unknown;
}

export interface Delivery {
  readonly message: TransportMessage;
  /** 1 on the first delivery; the consumer runtime dead-letters past its maximum. */
  readonly attempt: number;
  /** Call only after the handler's transaction committed. */
  ack(): Promise<void>;
  /** Redeliver after `delayMs`; later messages of the same key wait for it (order holds). */
  retry(delayMs: number): Promise<void>;
}

export interface SubscribeOptions {
  /** Consumers in one group compete; each message goes to one of them. */
  group: string;
  destinations: readonly string[];
  /** Unacknowledged deliveries at once in this subscriber (backpressure). */
  maxInFlight?: number;
  /** Redelivery when a delivery is neither acked nor retried in this time (a crashed consumer). */
  ackTimeoutMs?: number;
}

export interface Subscription {
  close(): Promise<void>;
}

/**
 * Moves messages between services. At least once: a message is redelivered until acked. Per key
 * in order: within a group, a key's next message is not delivered before its previous one is
 * acked. Consumers make effects exactly-once with the inbox, in the handler's transaction.
 */
export interface Transport {
  readonly name: string;
  /** Resolves once the broker durably holds every message (publisher confirms). */
  publish(messages: readonly TransportMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions, handler: (delivery: Delivery) => Promise<void>): Promise<Subscription>;
  close(): Promise<void>;
}
