import { newMessageId, type TransportMessage } from '@causeway/core';
import { describeWithService } from '@causeway/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRabbitMqTransport } from './rabbitmq-transport.ts';
import { startPrivateRabbitMqNode } from './testing/private-rabbitmq-node.ts';

const prefix = `cwtest-restart-${process.pid}`;
const partitions = 4;
const topology = { orders: ['billing'] };
const keys = ['order-1', 'order-2', 'order-3', 'order-4', 'order-5'];

function messages(batch: string, perKey: number): TransportMessage[] {
  return Array.from({ length: perKey }, (_, index) =>
    keys.map((orderingKey) => ({
      id: newMessageId(),
      destination: 'orders',
      orderingKey,
      type: 'orders.Checked',
      payload: { batch, index },
    })),
  ).flat();
}

/** Publishes until the broker confirms: while it restarts, publish rejects and the relay retries. */
async function publishUntilConfirmed(publish: () => Promise<void>, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let failures = 0; ; failures++) {
    try {
      await publish();
      return failures;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describeWithService('rabbitmq', 'RabbitMqTransport across a broker restart', () => {
  // A node of its own: restarting the shared broker would stall every other RabbitMQ suite.
  let broker: Awaited<ReturnType<typeof startPrivateRabbitMqNode>>;
  beforeAll(async () => {
    broker = await startPrivateRabbitMqNode();
  }, 120_000);
  afterAll(async () => {
    await broker?.shutdown();
  }, 90_000);

  it('loses no message published before or after the restart; per-key order holds', async () => {
    const transport = createRabbitMqTransport({ url: broker.url, prefix, partitions, topology });
    try {
      const received: TransportMessage[] = [];
      // Handlers hold their messages until the broker is back: their acks are lost with the
      // connection, so those messages must come again, before their keys' successors.
      let brokerBack: () => void = () => {};
      const restarted = new Promise<void>((resolve) => {
        brokerBack = resolve;
      });
      await transport.subscribe(
        { group: 'billing', destinations: ['orders'], maxInFlight: 4 },
        async (delivery) => {
          received.push(delivery.message);
          if ((delivery.message.payload as { index: number }).index >= 5) await restarted;
          await delivery.ack();
        },
      );
      const before = messages('before', 20);
      await transport.publish(before);
      while (received.length < 5 * keys.length) await new Promise((resolve) => setTimeout(resolve, 20));

      await broker.stopApp();
      await expect(transport.publish(messages('down', 1))).rejects.toThrow(/unavailable|closed/i);
      await broker.startApp();
      brokerBack();

      const after = messages('after', 20);
      await publishUntilConfirmed(() => transport.publish(after));
      const published = [...before, ...after];
      const deadline = Date.now() + 60_000;
      while (new Set(received.map(({ id }) => id)).size < published.length && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const receivedIds = new Set(received.map(({ id }) => id));
      expect(published.filter(({ id }) => !receivedIds.has(id))).toEqual([]);
      expect(received.length, 'the messages held during the restart came again').toBeGreaterThan(
        published.length,
      );
      for (const key of keys) {
        // At least once: a message in flight during the restart may come twice, never out of order.
        const firstSeen = [...new Set(received.filter((m) => m.orderingKey === key).map(({ id }) => id))];
        const expected = published.filter((m) => m.orderingKey === key).map(({ id }) => id);
        expect(firstSeen, `order of ${key}`).toEqual(expected);
      }
    } finally {
      await transport.close();
    }
  }, 150_000);
});
