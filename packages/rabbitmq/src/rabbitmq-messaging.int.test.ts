import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describeWithService, serviceUrl } from '@causeway/testing';
import { describeMessagingConformance } from '@causeway/testing/messaging-conformance';
import { connect } from 'amqplib';
import { afterAll } from 'vitest';
import { createRabbitMqTransport } from './index.ts';

/** Deletes every queue whose name starts with `prefix.`: leftover quorum queues slow each later broker start. */
async function deleteQueuesWithPrefix(prefix: string): Promise<void> {
  const { stdout } = await promisify(execFile)('rabbitmqctl', ['-q', '-t', '60', 'list_queues', 'name']);
  const names = stdout.split('\n').filter((name) => name.startsWith(`${prefix}.`));
  const connection = await connect(serviceUrl('rabbitmq'));
  try {
    const channel = await connection.createChannel();
    for (const name of names) await channel.deleteQueue(name);
  } finally {
    await connection.close();
  }
}

describeWithService('rabbitmq', 'messaging through RabbitMQ', () => {
  const prefix = `m${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await deleteQueuesWithPrefix(prefix);
  }, 120_000);
  describeMessagingConformance('RabbitMQ', async () =>
    createRabbitMqTransport({ url: serviceUrl('rabbitmq'), prefix }),
  );
});
