import { once } from 'node:events';
import { partitionOf, type TransportMessage } from '@causeway/core';
import type { ConfirmChannel, Message } from 'amqplib';
import type { RabbitMqConnection } from './rabbitmq-connection.ts';
import { RabbitMqPublishRejectedError, RabbitMqUnavailableError } from './rabbitmq-errors.ts';
import { encodeProperties } from './rabbitmq-message.ts';
import { declareDestination, exchangeName, type TopologyNames } from './rabbitmq-topology.ts';

/** Publishes over one confirm channel, so messages of one key reach their queue in publish order. */
export interface RabbitMqPublisher {
  publish(messages: readonly TransportMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** What one confirm channel knows: messages the broker returned, exchanges already declared. */
interface PublishChannel {
  channel: ConfirmChannel;
  returned: Map<string, number>;
  declared: Set<string>;
}

/**
 * Every message is persistent and `mandatory`: a message no queue is bound for comes back
 * (basic.return, always before its confirm) and its publish rejects instead of vanishing.
 */
export function createRabbitMqPublisher(
  connection: RabbitMqConnection,
  names: TopologyNames,
): RabbitMqPublisher {
  let current: Promise<PublishChannel> | undefined;

  function publishChannel(): Promise<PublishChannel> {
    if (current) return current;
    const opening = openPublishChannel(connection, () => {
      if (current === opening) current = undefined;
    });
    current = opening;
    opening.catch(() => {
      if (current === opening) current = undefined;
    });
    return opening;
  }

  return {
    async publish(messages) {
      if (messages.length === 0) return;
      const target = await publishChannel();
      await declareExchanges(target, names, messages);
      const confirms: Promise<void>[] = [];
      for (const message of messages) {
        const { confirmed, accepted } = publishOne(target, names, message);
        confirms.push(confirmed);
        // Pipelined, but not past the socket's buffer: a huge batch waits for it to drain.
        if (!accepted) await drained(target.channel);
      }
      await Promise.all(confirms);
    },
    async close() {
      const target = await current?.catch(() => undefined);
      current = undefined;
      await target?.channel.close().catch(() => {});
    },
  };
}

/** Resolves when the channel's buffer drained, or the channel closed (its confirms then fail). */
async function drained(channel: ConfirmChannel): Promise<void> {
  const done = new AbortController();
  const wait = (event: string) => once(channel, event, { signal: done.signal }).catch(() => {});
  await Promise.race([wait('drain'), wait('close')]);
  done.abort();
}

async function openPublishChannel(
  connection: RabbitMqConnection,
  onClose: () => void,
): Promise<PublishChannel> {
  const channel = await connection.createConfirmChannel();
  const returned = new Map<string, number>();
  channel.on('return', (message: Message) => {
    const id = String(message.properties.messageId);
    returned.set(id, (returned.get(id) ?? 0) + 1);
  });
  // A channel error (e.g. a missing exchange) closes the channel; pending confirms then fail.
  channel.on('error', () => {});
  channel.on('close', onClose);
  return { channel, returned, declared: new Set() };
}

async function declareExchanges(
  target: PublishChannel,
  names: TopologyNames,
  messages: readonly TransportMessage[],
) {
  for (const destination of new Set(messages.map((message) => message.destination))) {
    if (target.declared.has(destination)) continue;
    await declareDestination(target.channel, names, destination).catch((error) => {
      throw new RabbitMqUnavailableError(`cannot declare exchange for ${destination}`, error);
    });
    target.declared.add(destination);
  }
}

/** Sends one message; `confirmed` settles on the broker's confirm, `accepted` is false on backpressure. */
function publishOne(
  target: PublishChannel,
  names: TopologyNames,
  message: TransportMessage,
): { confirmed: Promise<void>; accepted: boolean } {
  let accepted = true;
  const partition = partitionOf(message.orderingKey, names.partitions);
  const exchange = exchangeName(names, message.destination);
  const body = Buffer.from(JSON.stringify(message.payload));
  const confirmed = new Promise<void>((resolve, reject) => {
    const onConfirm = (error: unknown) => {
      if (error) return reject(confirmError(error, message));
      if (!takeReturned(target.returned, message.id)) return resolve();
      reject(
        new RabbitMqPublishRejectedError(
          `Message ${message.id} to ${message.destination} (partition ${partition}) reached no queue: declare the groups that consume ${message.destination} in the transport's \`topology\` option (or subscribe them) before publishing`,
          { messageId: message.id, destination: message.destination, partition },
        ),
      );
    };
    try {
      accepted = target.channel.publish(
        exchange,
        String(partition),
        body,
        { ...encodeProperties(message), mandatory: true },
        onConfirm,
      );
    } catch (error) {
      reject(new RabbitMqUnavailableError(`cannot publish ${message.id}: the channel is closed`, error));
    }
  });
  return { confirmed, accepted };
}

function takeReturned(returned: Map<string, number>, id: string): boolean {
  const count = returned.get(id);
  if (count === undefined) return false;
  if (count <= 1) returned.delete(id);
  else returned.set(id, count - 1);
  return true;
}

function confirmError(error: unknown, message: TransportMessage): Error {
  if (error instanceof Error && error.message === 'channel closed') {
    return new RabbitMqUnavailableError(
      `the channel closed before the broker confirmed ${message.id}; publish again (the inbox dedupes)`,
      error,
    );
  }
  return new RabbitMqPublishRejectedError(
    `The broker refused message ${message.id} (nack): publish it again later`,
    {
      messageId: message.id,
      destination: message.destination,
    },
  );
}
