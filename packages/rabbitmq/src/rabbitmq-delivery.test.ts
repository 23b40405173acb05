import { createSubscriptionRuntime, type Delivery, type TransportMessage } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { processHeldMessage } from './rabbitmq-delivery.ts';

const message: TransportMessage = {
  id: '0190b6b0-0000-7000-8000-000000000001',
  destination: 'orders',
  orderingKey: 'order-1',
  type: 'orders.OrderPlaced',
  payload: { total: 3 },
};

function run(
  handler: (delivery: Delivery) => Promise<void>,
  options: { ackTimeoutMs?: number; firstAttempt?: number } = {},
) {
  const acks: number[] = [];
  const controller = new AbortController();
  const done = processHeldMessage({
    held: { message, firstAttempt: options.firstAttempt ?? 1 },
    handler,
    ackTimeoutMs: options.ackTimeoutMs ?? 1000,
    signal: controller.signal,
    acknowledge: () => acks.push(Date.now()),
  });
  return { acks, done, abort: () => controller.abort() };
}

describe('processHeldMessage', () => {
  it('acks once when the handler acks', async () => {
    const { acks, done } = run(async (delivery) => {
      await delivery.ack();
      await delivery.ack();
    });
    await done;
    expect(acks).toHaveLength(1);
  });

  it('re-invokes the handler after retry(delayMs) with the next attempt, holding the message', async () => {
    const attempts: Array<{ attempt: number; at: number }> = [];
    const { acks, done } = run(
      async (delivery) => {
        attempts.push({ attempt: delivery.attempt, at: performance.now() });
        if (delivery.attempt < 4) return delivery.retry(50);
        return delivery.ack();
      },
      { firstAttempt: 2 },
    );
    await done;
    expect(attempts.map(({ attempt }) => attempt)).toEqual([2, 3, 4]);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(45);
    expect(acks).toHaveLength(1);
  });

  it('re-invokes after the ack timeout, and ignores a late ack of the timed-out attempt', async () => {
    const deliveries: Delivery[] = [];
    const { acks, done } = run(
      async (delivery) => {
        deliveries.push(delivery);
        if (delivery.attempt === 2) {
          await deliveries[0]!.ack();
          expect(acks).toHaveLength(0);
          await delivery.ack();
        }
      },
      { ackTimeoutMs: 50 },
    );
    await done;
    expect(deliveries.map((delivery) => delivery.attempt)).toEqual([1, 2]);
    expect(acks).toHaveLength(1);
  });

  it("re-invokes a handler that threw, through the subscription runtime's invoke", async () => {
    const attempts: number[] = [];
    const runtime = createSubscriptionRuntime(
      { group: 'g', destinations: ['orders'], ackTimeoutMs: 20 },
      async (delivery) => {
        attempts.push(delivery.attempt);
        if (delivery.attempt === 1) throw new Error('failed on purpose');
        await delivery.ack();
      },
      { defaults: { maxInFlight: 1, ackTimeoutMs: 20 }, warn: () => {} },
    );
    const { done } = run(runtime.invoke, { ackTimeoutMs: 20 });
    await done;
    expect(attempts).toEqual([1, 2]);
  });

  it('stops re-invoking once aborted (the channel died: the broker redelivers)', async () => {
    let invocations = 0;
    const { acks, done, abort } = run(async (delivery) => {
      invocations++;
      await delivery.retry(10_000);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    abort();
    await done;
    expect(invocations).toBe(1);
    expect(acks).toHaveLength(0);
  });
});
