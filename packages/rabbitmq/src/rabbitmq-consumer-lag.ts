import { CausewayError, type ConsumerLag } from '@causeway/core';
import type { Channel } from 'amqplib';
import type { RabbitMqConnection } from './rabbitmq-connection.ts';
import { RabbitMqUnavailableError } from './rabbitmq-errors.ts';
import { queueName, type TopologyNames } from './rabbitmq-topology.ts';

export interface ConsumerLagRequest {
  connection: RabbitMqConnection;
  names: TopologyNames;
  /** Destination → the groups to report on it. */
  subscribed: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Per (group, destination), the messages ready in the group's partition queues: the `messageCount`
 * of a passive declare (checkQueue), which declares nothing. A delivery a consumer holds unacked is
 * not ready, so it is not counted: at most one per partition queue (prefetch 1, one active consumer).
 * A missing queue counts 0 (it holds nothing; its subscription declares it again).
 */
export async function readConsumerLag(request: ConsumerLagRequest): Promise<ConsumerLag[]> {
  const { connection, names, subscribed } = request;
  const reader = createQueueReader(connection);
  try {
    const lags: ConsumerLag[] = [];
    for (const [destination, groups] of subscribed) {
      for (const group of groups) {
        let pending = 0;
        for (let partition = 0; partition < names.partitions; partition++) {
          pending += await reader.readyCount(queueName(names, destination, group, partition));
        }
        lags.push({ group, destination, pending });
      }
    }
    return lags;
  } finally {
    await reader.close();
  }
}

/** Passive declares on one channel, opened again after a missing queue closed it (AMQP 404). */
function createQueueReader(connection: RabbitMqConnection) {
  let opening: Promise<Channel> | undefined;
  const channel = () => {
    opening ??= connection.createChannel().then(
      (opened) => {
        // The broker closes the channel on a missing queue; the rejected checkQueue reports it.
        opened.on('error', () => {});
        return opened;
      },
      (error: unknown) => {
        // amqplib's own error once the transport is closed: no driver error leaves the adapter.
        if (error instanceof CausewayError) throw error;
        throw new RabbitMqUnavailableError('cannot open a channel to read queue depths', error);
      },
    );
    return opening;
  };
  return {
    async readyCount(queue: string): Promise<number> {
      const current = await channel();
      try {
        return (await current.checkQueue(queue)).messageCount;
      } catch (error) {
        if ((error as { code?: unknown }).code !== 404) {
          throw new RabbitMqUnavailableError(`cannot read the depth of queue ${queue}`, error);
        }
        opening = undefined;
        return 0;
      }
    },
    async close(): Promise<void> {
      const current = await opening?.catch(() => undefined);
      await current?.close().catch(() => {});
    },
  };
}
