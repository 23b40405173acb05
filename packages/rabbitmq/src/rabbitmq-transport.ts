import {
  type ConsumerLag,
  createSubscriptionRuntime,
  defaultPartitions,
  InvalidArgumentError,
  type Subscription,
  type Transport,
} from '@causeway/core';
import type { Channel } from 'amqplib';
import { openRabbitMqConnection } from './rabbitmq-connection.ts';
import { readConsumerLag } from './rabbitmq-consumer-lag.ts';
import { createRabbitMqPublisher } from './rabbitmq-publisher.ts';
import { startRabbitMqSubscription } from './rabbitmq-subscription.ts';
import { declareTopology, type TopologyNames } from './rabbitmq-topology.ts';

export interface RabbitMqTransportOptions {
  /** e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  url: string;
  /** Partitions per destination (queues per group); every publisher and consumer must agree. */
  partitions?: number;
  /** Starts every exchange and queue name; one per system (or per test file). Default `cw`. */
  prefix?: string;
  /**
   * The consumer groups of each destination, declared on every (re)connect. RabbitMQ drops a
   * message routed to no queue, so a group must exist before the first message it should get:
   * name it here (subscribing declares it too, but only from then on). A publish no queue
   * receives is rejected rather than lost.
   */
  topology?: Readonly<Record<string, readonly string[]>>;
  /** How long publish and subscribe wait for a (re)connection before they reject. Default 5 s. */
  connectTimeoutMs?: number;
}

/** A Transport that can also declare consumer groups before anyone subscribes to them. */
export interface RabbitMqTransport extends Transport {
  /** Declares the groups of each destination now and on every reconnect. Idempotent. */
  declare(topology: Readonly<Record<string, readonly string[]>>): Promise<void>;
  /**
   * Per (group, destination) this instance subscribed to (groups only declared are left out: every
   * service declares the whole topology): the messages ready in the group's partition queues. A
   * delivery a consumer holds unacked is not ready and not counted, at most one per partition queue;
   * AMQP tells no more (the management API would).
   */
  consumerLag(): Promise<ConsumerLag[]>;
}

const defaultMaxInFlight = 64;
const defaultAckTimeoutMs = 30_000;

/**
 * A Transport over RabbitMQ quorum queues: publish resolves after publisher confirms (the
 * message is replicated and fsynced); per key in order within a group (a key's partition queue
 * has one active consumer with prefetch 1); at least once (retries hold the message and are
 * re-run locally, a crash returns it to the head of its queue). Reconnects by itself.
 */
export function createRabbitMqTransport(options: RabbitMqTransportOptions): RabbitMqTransport {
  const names: TopologyNames = {
    prefix: validatePrefix(options.prefix ?? 'cw'),
    partitions: validatePartitions(options.partitions ?? defaultPartitions),
  };
  const topology = new Map<string, Set<string>>();
  addGroups(topology, options.topology ?? {});
  const connection = openRabbitMqConnection({
    url: options.url,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    setup: (channel) => declareTopology(channel, names, asRecord(topology)),
  });
  const publisher = createRabbitMqPublisher(connection, names);
  const subscriptions = new Set<Subscription>();
  /** Destination → groups this instance subscribed to, for `consumerLag`; never forgotten. */
  const subscribed = new Map<string, Set<string>>();

  return {
    name: 'rabbitmq',
    publish: (messages) => publisher.publish(messages),
    async declare(groups) {
      addGroups(topology, groups);
      await withChannel(connection.createChannel(), (channel) => declareTopology(channel, names, groups));
    },
    async subscribe(subscribeOptions, handler) {
      const subscription = await startRabbitMqSubscription({
        connection,
        names,
        runtime: createSubscriptionRuntime(subscribeOptions, handler, {
          defaults: { maxInFlight: defaultMaxInFlight, ackTimeoutMs: defaultAckTimeoutMs },
        }),
      });
      subscriptions.add(subscription);
      addGroups(
        subscribed,
        Object.fromEntries(
          subscribeOptions.destinations.map((destination) => [destination, [subscribeOptions.group]]),
        ),
      );
      return {
        async close() {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    async consumerLag() {
      if (subscribed.size === 0) return [];
      return readConsumerLag({ connection, names, subscribed });
    },
    async close() {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      subscriptions.clear();
      await publisher.close();
      await connection.close();
    },
  };
}

function addGroups(topology: Map<string, Set<string>>, groups: Readonly<Record<string, readonly string[]>>) {
  for (const [destination, names] of Object.entries(groups)) {
    const known = topology.get(destination) ?? new Set<string>();
    for (const name of names) known.add(name);
    topology.set(destination, known);
  }
}

function asRecord(topology: Map<string, Set<string>>): Record<string, string[]> {
  return Object.fromEntries([...topology].map(([destination, groups]) => [destination, [...groups]]));
}

async function withChannel<T>(opening: Promise<Channel>, work: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await opening;
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => {});
  }
}

function validatePartitions(partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    throw new InvalidArgumentError(
      'partitions',
      `partitions must be an integer from 1 to 4096, got ${partitions}`,
    );
  }
  return partitions;
}

function validatePrefix(prefix: string): string {
  // Dots separate the parts of a name; a prefix with one would make names ambiguous.
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new InvalidArgumentError('prefix', `prefix must match [A-Za-z0-9_-]+, got "${prefix}"`);
  }
  return prefix;
}
