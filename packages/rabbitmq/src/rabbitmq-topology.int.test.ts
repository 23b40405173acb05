import { newMessageId } from '@causeway/core';
import { describeWithService, serviceUrl } from '@causeway/testing';
import { type Channel, type ChannelModel, type ConsumeMessage, connect } from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deadLetterName, deleteTopology, queueName } from './rabbitmq-topology.ts';
import { createRabbitMqTransport } from './rabbitmq-transport.ts';

const prefix = `cwtest-topology-${process.pid}`;
const names = { prefix, partitions: 2 };
const topology = { payments: ['ledger'] };

describeWithService('rabbitmq', 'RabbitMQ topology', () => {
  let connection: ChannelModel;
  let channel: Channel;
  beforeAll(async () => {
    connection = await connect(serviceUrl('rabbitmq'));
    channel = await connection.createChannel();
  }, 200_000);
  afterAll(async () => {
    await deleteTopology(channel, names, topology);
    await channel.deleteQueue(`${prefix}.characterization`);
    await connection.close();
  });

  it('rejects a publish that no queue would receive instead of losing it', async () => {
    const transport = createRabbitMqTransport({ url: serviceUrl('rabbitmq'), ...names, topology });
    try {
      const message = { id: newMessageId(), destination: 'nobody', orderingKey: 'k', type: 't', payload: {} };
      await expect(transport.publish([message])).rejects.toMatchObject({
        code: 'PUBLISH_REJECTED',
        details: { messageId: message.id, destination: 'nobody' },
      });
      // The channel survives a returned message: the next publish goes through.
      const routed = { ...message, id: newMessageId(), destination: 'payments' };
      await transport.publish([routed]);
      await channel.deleteExchange(`${prefix}.nobody`);
    } finally {
      await transport.close();
    }
  });

  it('dead-letters a message it cannot decode, and the partition moves on', async () => {
    const transport = createRabbitMqTransport({ url: serviceUrl('rabbitmq'), ...names, topology });
    try {
      await transport.declare(topology);
      await channel.purgeQueue(deadLetterName(names));
      const queue = queueName(names, 'payments', 'ledger', 0);
      channel.sendToQueue(queue, Buffer.from('not json'), { messageId: 'foreign-1', persistent: true });
      const received: string[] = [];
      const subscription = await transport.subscribe(
        { group: 'ledger', destinations: ['payments'] },
        async (delivery) => {
          received.push(delivery.message.id);
          await delivery.ack();
        },
      );
      const message = {
        id: newMessageId(),
        destination: 'payments',
        orderingKey: 'k',
        type: 't',
        payload: {},
      };
      await transport.publish([message]);
      await waitFor(async () => received.includes(message.id));
      await subscription.close();
      let dead: false | { properties: { messageId?: unknown } } = false;
      await waitFor(async () => {
        dead = await channel.get(deadLetterName(names), { noAck: true });
        return dead !== false;
      });
      expect(dead).toMatchObject({ properties: { messageId: 'foreign-1' } });
    } finally {
      await transport.close();
    }
  });

  // Characterization of the broker, not of the transport: why retries are re-run locally.
  it('shows where a quorum queue puts a message requeued by basic.nack', async () => {
    const queue = `${prefix}.characterization`;
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    for (const body of ['1', '2', '3']) channel.sendToQueue(queue, Buffer.from(body));
    const consumer = await connection.createChannel();
    await consumer.prefetch(1, false);
    const seen: string[] = [];
    await consumer.consume(queue, (raw: ConsumeMessage | null) => {
      if (!raw) return;
      const body = raw.content.toString();
      seen.push(`${body}@${raw.properties.headers?.['x-delivery-count'] ?? 0}`);
      if (body === '1' && !raw.fields.redelivered) consumer.nack(raw, false, true);
      else consumer.ack(raw);
    });
    await waitFor(async () => seen.length >= 4);
    await consumer.close();
    const version = String(connection.connection.serverProperties.version);
    // RabbitMQ 3.10 prints 1@0 2@0 3@0 1@1: a requeued message goes behind later ones.
    console.info(`RabbitMQ ${version}: quorum queue delivery order after a requeue: ${seen.join(' ')}`);
    expect(seen).toContain('1@1');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
