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
 * How far a consumer group is behind on one destination, as the broker counts it now. Each
 * transport documents what `pending` holds exactly; all of them count published messages the
 * group has not acked yet, so 0 means caught up.
 */
export interface ConsumerLag {
  readonly group: string;
  readonly destination: string;
  /** Messages the broker holds for this group on this destination that the group has not acked. */
  readonly pending: number;
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
  /**
   * Optional (a transport without it reports no lag). Read from the broker at each call: one entry
   * per (group, destination) this instance subscribed to since it opened, closed subscriptions
   * included (a stopped consumer's backlog is what an alert is for), 0 when caught up. Groups only
   * declared, or consumed by other processes, are left out: each service reports its own.
   */
  consumerLag?(): Promise<ConsumerLag[]>;
  close(): Promise<void>;
}
