import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newMessageId, type TransportMessage } from '@causeway/core';
import { describeWithService, serviceUrl } from '@causeway/testing';
import { connect } from 'amqplib';
import { afterAll, expect, it } from 'vitest';
import { deleteTopology } from './rabbitmq-topology.ts';
import { createRabbitMqTransport } from './rabbitmq-transport.ts';

const prefix = `cwtest-failover-${process.pid}`;
const holder = fileURLToPath(new URL('./testing/hold-second-message.ts', import.meta.url));
const partitions = 1;
const topology = { shipments: ['carrier'] };

function shipment(index: number): TransportMessage {
  return {
    id: newMessageId(),
    destination: 'shipments',
    orderingKey: 'order-7',
    type: 'Shipped',
    payload: { index },
  };
}

describeWithService('rabbitmq', 'RabbitMqTransport failover', () => {
  afterAll(async () => {
    const connection = await connect(serviceUrl('rabbitmq'));
    await deleteTopology(await connection.createChannel(), { prefix, partitions }, topology);
    await connection.close();
  });

  it("gives a SIGKILLed consumer's message to the standby before the key's later messages", async () => {
    const url = serviceUrl('rabbitmq');
    const standby = createRabbitMqTransport({ url, prefix, partitions, topology });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@causeway/source', holder, url, prefix, 'shipments', 'carrier'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      await waitFor(() => output.includes('subscribed'));
      const seen: Array<{ index: number; attempt: number }> = [];
      await standby.subscribe({ group: 'carrier', destinations: ['shipments'] }, async (delivery) => {
        seen.push({
          index: (delivery.message.payload as { index: number }).index,
          attempt: delivery.attempt,
        });
        await delivery.ack();
      });
      await standby.publish([0, 1, 2, 3].map(shipment));
      await waitFor(() => output.includes('{"index":1}'));
      child.kill('SIGKILL');
      await waitFor(() => seen.length >= 3);
      expect(output.trim().split('\n')).toEqual([
        'subscribed',
        'received {"index":0} attempt 1',
        'received {"index":1} attempt 1',
      ]);
      // Quorum queues return a lost consumer's message to the head, counting it in x-delivery-count.
      expect(seen).toEqual([
        { index: 1, attempt: 2 },
        { index: 2, attempt: 1 },
        { index: 3, attempt: 1 },
      ]);
    } finally {
      child.kill('SIGKILL');
      await standby.close();
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
