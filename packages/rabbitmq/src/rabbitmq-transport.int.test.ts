import { defaultPartitions } from '@causeway/core';
import { describeTransportConformance, describeWithService, serviceUrl } from '@causeway/testing';
import { connect } from 'amqplib';
import { afterAll } from 'vitest';
import { deleteTopology } from './rabbitmq-topology.ts';
import { createRabbitMqTransport, type RabbitMqTransport } from './rabbitmq-transport.ts';

const prefix = `cwtest-conformance-${process.pid}`;
const partitions = defaultPartitions;
const declared: Record<string, string[]> = {};

describeWithService('rabbitmq', 'RabbitMqTransport', () => {
  // The restart test stops the broker: never at the same time as this file.
  afterAll(async () => {
    const connection = await connect(serviceUrl('rabbitmq'));
    await deleteTopology(await connection.createChannel(), { prefix, partitions }, declared);
    await connection.close();
  });

  describeTransportConformance(
    'rabbitmq',
    async () => createRabbitMqTransport({ url: serviceUrl('rabbitmq'), prefix, partitions }),
    {
      partitions,
      // RabbitMQ drops what no queue is bound for: a group must exist before its first message.
      async prepare(transport, { destination, groups }) {
        declared[destination] = [...new Set([...(declared[destination] ?? []), ...groups])];
        await (transport as RabbitMqTransport).declare({ [destination]: groups });
      },
    },
  );
});
