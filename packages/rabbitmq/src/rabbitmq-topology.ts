import type { Channel } from 'amqplib';

/** How a transport names its exchanges and queues; every name starts with `prefix`. */
export interface TopologyNames {
  prefix: string;
  partitions: number;
}

/**
 * A quorum queue lets this many broker-side redeliveries happen before it dead-letters the
 * message. Retries are local (see rabbitmq-delivery.ts), so only crashes count: the limit only
 * stops a message that kills every consumer from looping forever.
 */
export const deliveryLimit = 1000;

/** The direct exchange a destination is published to. */
export function exchangeName(names: TopologyNames, destination: string): string {
  return `${names.prefix}.${destination}`;
}

/** The queue one group consumes one partition of a destination from. */
export function queueName(
  names: TopologyNames,
  destination: string,
  group: string,
  partition: number,
): string {
  return `${names.prefix}.${destination}.${group}.${partition}`;
}

/** The dead-letter exchange (fanout) and its queue: the broker's last resort for poison messages. */
export function deadLetterName(names: TopologyNames): string {
  return `${names.prefix}.dlx`;
}

/** Declares the dead-letter exchange and the queue that keeps what reaches it. Idempotent. */
export async function declareDeadLetters(channel: Channel, names: TopologyNames): Promise<void> {
  const name = deadLetterName(names);
  await channel.assertExchange(name, 'fanout', { durable: true });
  await channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(name, name, '');
}

/** Declares a destination's exchange. Idempotent. */
export async function declareDestination(channel: Channel, names: TopologyNames, destination: string) {
  await channel.assertExchange(exchangeName(names, destination), 'direct', { durable: true });
}

/**
 * Declares a group's partition queues for a destination, each bound with routing key = partition.
 * Quorum (replicated, fsync before confirm), single active consumer (one consumer of the group
 * processes a partition at a time; others stand by). Idempotent.
 */
export async function declareGroup(
  channel: Channel,
  names: TopologyNames,
  options: { destination: string; group: string },
): Promise<void> {
  await declareDestination(channel, names, options.destination);
  const exchange = exchangeName(names, options.destination);
  for (let partition = 0; partition < names.partitions; partition++) {
    const queue = queueName(names, options.destination, options.group, partition);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-single-active-consumer': true,
        'x-dead-letter-exchange': deadLetterName(names),
        'x-delivery-limit': deliveryLimit,
      },
    });
    await channel.bindQueue(queue, exchange, String(partition));
  }
}

/** Declares everything `topology` names: the dead-letter exchange, each destination and its groups. */
export async function declareTopology(
  channel: Channel,
  names: TopologyNames,
  topology: Readonly<Record<string, readonly string[]>>,
): Promise<void> {
  await declareDeadLetters(channel, names);
  for (const [destination, groups] of Object.entries(topology)) {
    await declareDestination(channel, names, destination);
    for (const group of groups) await declareGroup(channel, names, { destination, group });
  }
}

/**
 * Deletes the exchanges and queues of `topology` and the dead-letter exchange and queue,
 * messages included. For tests and decommissioning; never while a transport uses them.
 */
export async function deleteTopology(
  channel: Channel,
  names: TopologyNames,
  topology: Readonly<Record<string, readonly string[]>>,
): Promise<void> {
  for (const [destination, groups] of Object.entries(topology)) {
    for (const group of groups) {
      for (let partition = 0; partition < names.partitions; partition++) {
        await channel.deleteQueue(queueName(names, destination, group, partition));
      }
    }
    await channel.deleteExchange(exchangeName(names, destination));
  }
  await channel.deleteQueue(deadLetterName(names));
  await channel.deleteExchange(deadLetterName(names));
}
