import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors/index.ts';
import {
  backoffAfterThrowMs,
  createSubscriptionRuntime,
  type SubscriptionRuntime,
} from './subscription-runtime.ts';
import type { Delivery, SubscribeOptions } from './transport.ts';

const defaults = { maxInFlight: 8, ackTimeoutMs: 30_000 };
const base: SubscribeOptions = { group: 'g', destinations: ['d'] };

function runtimeOf(
  options: Partial<SubscribeOptions>,
  handler = async (_: Delivery) => {},
  warnings: string[] = [],
) {
  return createSubscriptionRuntime({ ...base, ...options }, handler, {
    defaults,
    warn: (message) => warnings.push(message),
  });
}

function fakeDelivery(attempt = 1) {
  const retries: number[] = [];
  const delivery: Delivery = {
    message: { id: 'm-1', destination: 'd', orderingKey: 'k', type: 't', payload: {} },
    attempt,
    async ack() {},
    async retry(delayMs) {
      retries.push(delayMs);
    },
  };
  return { delivery, retries };
}

/** Whether `promise` is still pending after the queued callbacks ran. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  return (
    (await Promise.race([promise, new Promise((resolve) => setImmediate(resolve, pending))])) === pending
  );
}

describe('subscription runtime: options', () => {
  it.each([
    [{ group: '' }, 'group'],
    [{ destinations: [] }, 'destinations'],
    [{ destinations: ['d', ' '] }, 'destinations'],
    [{ maxInFlight: 0 }, 'maxInFlight'],
    [{ maxInFlight: 1.5 }, 'maxInFlight'],
    [{ ackTimeoutMs: 5 }, 'ackTimeoutMs'],
    [{ ackTimeoutMs: Number.NaN }, 'ackTimeoutMs'],
  ] as const)('rejects %o with an InvalidArgumentError naming %s', (options, argument) => {
    let thrown: unknown;
    try {
      runtimeOf(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as InvalidArgumentError).details).toMatchObject({ argument });
  });

  it("fills in the transport's defaults and lists each destination once", () => {
    expect(runtimeOf({ destinations: ['a', 'b', 'a'] }).settings).toEqual({
      group: 'g',
      destinations: ['a', 'b'],
      maxInFlight: 8,
      ackTimeoutMs: 30_000,
    });
    expect(runtimeOf({ maxInFlight: 2, ackTimeoutMs: 50 }).settings).toMatchObject({
      maxInFlight: 2,
      ackTimeoutMs: 50,
    });
  });
});

describe('subscription runtime: slots', () => {
  it('hands out at most maxInFlight slots, then passes each released one to the oldest waiter', async () => {
    const runtime = runtimeOf({ maxInFlight: 2 });
    const first = runtime.tryAcquireSlot();
    const second = await runtime.acquireSlot();
    expect(first).toBeTypeOf('function');
    expect(second).toBeTypeOf('function');
    expect(runtime.freeSlots).toBe(0);
    expect(runtime.tryAcquireSlot()).toBeUndefined();
    const order: string[] = [];
    const third = runtime.acquireSlot().then((release) => {
      order.push('third');
      return release;
    });
    const fourth = runtime.acquireSlot().then((release) => {
      order.push('fourth');
      return release;
    });
    expect(await isPending(third)).toBe(true);
    first!();
    first!(); // a second release of the same slot counts once
    expect(runtime.tryAcquireSlot(), 'the freed slot went to the waiter, not to a newcomer').toBeUndefined();
    (await third)!();
    expect(await isPending(fourth)).toBe(false);
    expect(order).toEqual(['third', 'fourth']);
    second!();
    expect(runtime.freeSlots).toBe(1);
  });

  it('gives up waiting when its signal aborts, without taking a slot', async () => {
    const runtime = runtimeOf({ maxInFlight: 1 });
    const held = runtime.tryAcquireSlot()!;
    const controller = new AbortController();
    const waiting = runtime.acquireSlot(controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    held();
    expect(runtime.freeSlots).toBe(1);
  });

  it('on close, wakes every waiter with undefined and hands out no more slots', async () => {
    const runtime = runtimeOf({ maxInFlight: 1 });
    runtime.tryAcquireSlot();
    const waiting = runtime.acquireSlot();
    const closed = runtime.close();
    expect(runtime.closing.aborted).toBe(true);
    expect(await waiting).toBeUndefined();
    expect(await runtime.acquireSlot()).toBeUndefined();
    expect(runtime.tryAcquireSlot()).toBeUndefined();
    expect(runtime.freeSlots).toBe(0);
    expect(await closed, 'nothing was running').toBe(true);
  });
});

describe('subscription runtime: handlers', () => {
  it('retries the delivery of a handler that threw, after a backoff growing with the attempt, and reports it', async () => {
    const warnings: string[] = [];
    const runtime = runtimeOf(
      {},
      async () => {
        throw new Error('a handler bug');
      },
      warnings,
    );
    const first = fakeDelivery(1);
    const third = fakeDelivery(3);
    await expect(runtime.invoke(first.delivery)).resolves.toBeUndefined();
    await runtime.invoke(third.delivery);
    expect(first.retries).toEqual([backoffAfterThrowMs(1, 30_000)]);
    expect(third.retries).toEqual([backoffAfterThrowMs(3, 30_000)]);
    expect(third.retries[0]).toBeGreaterThan(first.retries[0]!);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('m-1');
  });

  it('caps the backoff at the ack timeout', () => {
    expect(backoffAfterThrowMs(20, 500)).toBe(500);
  });

  it('close() waits for running handlers', async () => {
    let finish!: () => void;
    const runtime = runtimeOf({}, () => new Promise<void>((resolve) => (finish = resolve)));
    const invocation = runtime.invoke(fakeDelivery().delivery);
    const closed = runtime.close();
    expect(await isPending(closed)).toBe(true);
    finish();
    expect(await closed).toBe(true);
    await invocation;
  });

  it('close() gives up on a hung handler after the ack timeout, and does not retry a handler that throws meanwhile', async () => {
    let fail!: (error: Error) => void;
    const runtime: SubscriptionRuntime = runtimeOf(
      { ackTimeoutMs: 20 },
      () => new Promise<void>((_, reject) => (fail = reject)),
    );
    const { delivery, retries } = fakeDelivery();
    const invocation = runtime.invoke(delivery);
    expect(await runtime.close(), 'the drain gave up').toBe(false);
    expect(await isPending(invocation)).toBe(true);
    fail(new Error('after close'));
    await invocation;
    expect(retries, 'a closing subscription leaves redelivery to the broker').toEqual([]);
  });
});
