import { newMessageId, type TransportMessage } from '@causeway/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithNatsServerBinary, testWarning, uniqueStreamPrefix } from './nats-test-streams.ts';
import { createNatsTransport } from './nats-transport.ts';
import { PrivateNatsServer } from './private-nats-server.ts';

const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

function batch(destination: string, round: string, perKey: number): TransportMessage[] {
  return Array.from({ length: perKey }, (_, index) =>
    keys.map((key) => ({
      id: newMessageId(),
      destination,
      orderingKey: key,
      type: 'test.Restarted',
      payload: { key, round, index },
    })),
  ).flat();
}

/** Publishes like the outbox relay: a rejected batch is published again, whole, until it is acked. */
async function publishUntilAcked(publish: () => Promise<void>, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts++) {
    try {
      await publish();
      return attempts;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** What an inbox lets through: the first delivery of each id. */
function firstDeliveries(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

describeWithNatsServerBinary('NATS transport across a broker restart', (binary) => {
  let server: PrivateNatsServer;
  beforeAll(async () => {
    server = await PrivateNatsServer.start(binary);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('loses no acked message and keeps per-key order when nats-server is killed and restarted', async () => {
    const transport = createNatsTransport({
      servers: server.url,
      streamPrefix: uniqueStreamPrefix(),
      onWarning: testWarning,
    });
    try {
      const before = batch('orders.events', 'before', 20);
      const after = batch('orders.events', 'after', 20);
      await transport.publish(before);

      const handled: TransportMessage[] = [];
      await transport.subscribe(
        { group: 'restart', destinations: ['orders.events'], ackTimeoutMs: 2_000 },
        async (delivery) => {
          handled.push(delivery.message);
          await new Promise((resolve) => setTimeout(resolve, 2));
          await delivery.ack();
        },
      );
      await expect.poll(() => handled.length, { timeout: 10_000 }).toBeGreaterThan(10);

      // Killed while the subscriber is mid-stream; the client reconnects on its own.
      await server.kill();
      await server.start();
      await publishUntilAcked(() => transport.publish(after));

      const published = [...before, ...after];
      const allIds = new Set(published.map(({ id }) => id));
      await expect
        .poll(() => allIds.size - new Set(handled.map(({ id }) => id).filter((id) => allIds.has(id))).size, {
          timeout: 45_000,
          interval: 100,
        })
        .toBe(0);
      for (const key of keys) {
        const handledIds = handled.filter((message) => message.orderingKey === key).map(({ id }) => id);
        const publishedIds = published.filter((message) => message.orderingKey === key).map(({ id }) => id);
        // The killed server forgets its last acks (it persists consumer state lazily), so acked
        // messages come again: at least once. The first delivery of each is still in key order.
        expect(firstDeliveries(handledIds), `order of ${key}`).toEqual(publishedIds);
      }
    } finally {
      await transport.close();
    }
  }, 90_000);
});
